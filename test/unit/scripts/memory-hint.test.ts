import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_DEFAULTS } from '../../../src/core/engine-settings.ts';

const root = join(import.meta.dir, '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

test('the systemd unit and the container image leave the engine settings to the executable', () => {
  // Any BUN_JSC_ variable set there would replace all of the executable's defaults (docs/deploy.md, "Memory").
  expect(read('packaging/systemd/psql-streamer.service')).not.toMatch(/^Environment=BUN_JSC_/m);
  expect(read('Dockerfile')).not.toMatch(/^ENV BUN_JSC_/m);
});

test('docs/deploy.md gives the engine defaults as the code has them', () => {
  const deploy = read('docs/deploy.md');
  for (const [name, value] of Object.entries(ENGINE_DEFAULTS)) expect(deploy).toContain(`| \`${name}\` | \`${value}\``);
});
