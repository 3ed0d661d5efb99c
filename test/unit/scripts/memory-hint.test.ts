import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dir, '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

test('the systemd unit, the container image and docs/deploy.md give the JavaScript engine the same RAM hint', () => {
  const unit = /^Environment=BUN_JSC_forceRAMSize=(\d+)$/m.exec(read('packaging/systemd/psql-streamer.service'))?.[1];
  const image = /^ENV BUN_JSC_forceRAMSize=(\d+)$/m.exec(read('Dockerfile'))?.[1];
  expect(unit).toBeDefined();
  expect(image).toBe(unit);
  expect(read('docs/deploy.md')).toContain(`BUN_JSC_forceRAMSize=${unit}`);
});
