import { expect, test } from 'bun:test';
import { renderConfigDocs } from '../../../scripts/gen-config-docs.ts';

test('docs/configuration.md is generated from the current specs (run: bun scripts/gen-config-docs.ts)', async () => {
  const current = await Bun.file(new URL('../../../docs/configuration.md', import.meta.url).pathname).text();
  expect(current).toBe(renderConfigDocs());
});

test('the docs mark original keys and list every registered type', () => {
  const docs = renderConfigDocs();
  expect(docs).toContain('| `batchTimeout` | duration | `"5ms"` | v1.1.0 |');
  expect(docs).toContain('| `boltdb` (alias `stateFile`) | path | unset | v1.1.0 |');
  for (const heading of ['`type = "postgres"` (Source-PSQL)', '`type = "kafka"` (Source-Kafka)', '`type = "kafka"` (Sink-Kafka)', '`type = "file"`', '`type = "stub_log"`', '`type = "stub_discard"`']) {
    expect(docs).toContain(`### ${heading}`);
  }
});
