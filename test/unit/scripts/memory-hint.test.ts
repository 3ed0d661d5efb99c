import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineSettingsOfUnit, packagedEngineSettings } from '../../../bench/lib/packaged-env.ts';

const root = join(import.meta.dir, '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

test('the systemd unit, the container image and docs/deploy.md give the JavaScript engine the same settings', () => {
  const unit = packagedEngineSettings();
  expect(unit.BUN_JSC_forceRAMSize).toMatch(/^\d+$/);
  const image: Record<string, string> = {};
  for (const m of read('Dockerfile').matchAll(/^ENV (BUN_JSC_\w+)=(\S+)$/gm)) image[m[1] as string] = m[2] as string;
  expect(image).toEqual(unit);
  const deploy = read('docs/deploy.md');
  for (const [name, value] of Object.entries(unit)) expect(deploy).toContain(`${name}=${value}`);
});

test('engine settings are read from Environment= lines only', () => {
  const text = '# Environment=BUN_JSC_a=1\nEnvironment=BUN_JSC_forceRAMSize=268435456\nEnvironment=OTHER=1\nEnvironment=BUN_JSC_b=1.3\n';
  expect(engineSettingsOfUnit(text)).toEqual({ BUN_JSC_forceRAMSize: '268435456', BUN_JSC_b: '1.3' });
});
