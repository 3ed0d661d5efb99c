/** The README's configuration walkthrough is a valid config file (keeps the front door true). */
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromText } from '../../src/components.ts';

test("the README's configuration walkthrough loads", () => {
  const readme = readFileSync(join(import.meta.dir, '../../README.md'), 'utf8');
  const block = /## Configuration walkthrough[\s\S]*?```toml\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const config = configFromText('README.md', block as string, { PGPASSWORD: 'secret', KAFKA_PASSWORD: 'secret' });
  expect(config.sources.map((s) => `${s.name}:${s.type}`)).toEqual(['db1:postgres', 'relay:kafka']);
  expect(config.sinks.map((s) => `${s.name}:${s.type}`)).toEqual(['kafka1:kafka', 'archive:file']);
});
