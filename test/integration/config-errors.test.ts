/**
 * Configuration mistakes that used to pass `check` and fail only at run time (exit 1, which systemd
 * restarts in a loop), now refused by both `check` and a start with exit code 2 and the file
 * position: an invalid DSN, a number for a path (`stateFile = 1e309` created `./Infinity`),
 * invalid UTF-8. No server is involved: nothing connects.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { postgresSourceToml, sinkToml } from '../helpers/configs.ts';
import { repoRoot } from '../helpers/env.ts';
import { tempDir } from '../helpers/streamer.ts';

const MAIN = join(repoRoot, 'src', 'main.ts');
const dir = tempDir('psql-streamer-config-errors-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (dsn: string, stateFile = `"${join(dir, 'state.db')}"`) => `http = "127.0.0.1:0"
stateFile = ${stateFile}
${postgresSourceToml({ dsn, publication: 'p', slot: 's', batchFlushInterval: null, statusInterval: null })}
${sinkToml('out', 'stub_discard')}`;

async function run(args: string[], file: string, env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const child = Bun.spawn([process.execPath, MAIN, ...args, '-config', file], { cwd: dir, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...env } });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { code, stderr };
}

describe('regression: mistakes that passed `check` and exited 1 at run time; check and start agree, exit 2, FILE:LINE:COL', () => {
  test.each([
    ['host=x port=abc', {}, 'source.db1.dsn: connection string: port must be an integer from 1 to 65535, not "abc"'],
    ['host=x sslmode=yes', {}, 'source.db1.dsn: connection string: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, not "yes"'],
    ['host=x', { PGPORT: 'abc' }, 'source.db1.dsn: connection string: port must be an integer from 1 to 65535, not "abc"'],
  ] as const)('dsn = "%s" %o', async (dsn, env, message) => {
    const file = join(dir, 'dsn.toml');
    writeFileSync(file, config(dsn));
    for (const args of [['check'], []]) {
      const { code, stderr } = await run(args, file, env);
      expect(code).toBe(2);
      expect(stderr).toContain(`${file}:6:1: ${message}`);
      expect(stderr).not.toContain('Startup failed');
    }
  }, 60_000);

  test('regression: stateFile = 1e309 created ./Infinity; now refused, nothing created', async () => {
    const file = join(dir, 'infinity.toml');
    writeFileSync(file, config('host=127.0.0.1', '1e309'));
    for (const args of [['check'], []]) {
      const { code, stderr } = await run(args, file);
      expect(code).toBe(2);
      expect(stderr).toContain(`${file}:2:1: boltdb: expected a file path as a quoted string, found Infinity`);
    }
    expect(existsSync(join(dir, 'Infinity'))).toBe(false);
  }, 60_000);

  test('regression: invalid UTF-8 became U+FFFD; now refused with its byte and line', async () => {
    const file = join(dir, 'latin1.toml');
    const bytes = Buffer.from(config('host=127.0.0.1 password=caf?'));
    const at = bytes.indexOf('?');
    bytes[at] = 0xe9;
    writeFileSync(file, bytes);
    const { code, stderr } = await run(['check'], file);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}: invalid UTF-8 at byte ${at} (line 6)`);
  }, 60_000);
});
