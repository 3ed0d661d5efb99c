/**
 * Operating a running streamer against a real PostgreSQL (docs/operations.md): SIGHUP reopens the
 * file sink's output after logrotate renamed it, losing nothing; files are created 0640/0600
 * under umask 022; the HTTP API over TLS with a bearer token, control endpoints POST-only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueName } from '../../helpers/pg.ts';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';
import { completeLines, killChildren, startStreamer, tempDir, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const db = useSourceTests();
const dir = tempDir('psql-streamer-operations-');
const children: StreamerProcess[] = [];
let umask: number;

beforeAll(() => {
  // The children inherit it: what a typical service manager or shell gives them.
  umask = process.umask(0o022);
});

afterAll(async () => {
  process.umask(umask);
  await killChildren(children);
  rmSync(dir, { recursive: true, force: true });
});

async function prepareTable(): Promise<{ table: string; slot: string; publication: string }> {
  const table = uniqueName('t');
  await db.sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  return { table, ...(await db.prepare([table])) };
}

function configFor(p: { slot: string; publication: string }, out: string, state: string, top = ''): string {
  return postgresToFileToml({ server: db.pg.server, ...p, state, out, top, batchFlushInterval: '10ms' });
}

const ids = (path: string): number[] => completeLines(path).map((line) => Number(/"id":(\d+)/.exec(line)![1]));

describe('signals and file modes', () => {
  test('regression: SIGHUP killed the process (exit 129) and files followed the umask; now after logrotate renamed the output it keeps running, writes a new file at the path, nothing lost or doubled', async () => {
    const p = await prepareTable();
    const out = join(dir, 'out.jsonl');
    const rotated = `${out}.1`;
    const state = join(dir, 'state.db');
    const streamer = startStreamer(dir, configFor(p, out, state), 'hup');
    children.push(streamer);
    await streamer.waitForLog('Streaming from');

    // Rows keep committing while the file is renamed and the signal arrives.
    let next = 1;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await db.sql.unsafe(`INSERT INTO ${p.table} VALUES (${next})`);
        next++;
        await Bun.sleep(5);
      }
    })();
    await waitFor('the first rows in the file', () => ids(out).length >= 50, 30_000, streamer.stderr);
    renameSync(out, rotated);
    await Bun.sleep(100); // some batches still go to the renamed file, as with logrotate
    streamer.proc.kill('SIGHUP');
    await streamer.waitForLog(/SIGHUP received: reopened the output files of 1 file sink\(s\); the configuration is not reloaded/, 30_000);
    await waitFor('rows in the new file', () => ids(out).length >= 50, 30_000, streamer.stderr);
    writing = false;
    await writer;
    const last = next - 1;
    await waitFor('every row delivered', () => ids(rotated).length + ids(out).length >= last, 30_000, streamer.stderr);

    expect(streamer.proc.exitCode).toBeNull();
    expect([...ids(rotated), ...ids(out)]).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    // Created by the streamer under umask 022: the output 0640, the state file and its WAL 0600.
    expect(statSync(out).mode & 0o777).toBe(0o640);
    expect(statSync(rotated).mode & 0o777).toBe(0o640);
    for (const file of [state, `${state}-wal`, `${state}-shm`]) expect(existsSync(file) && statSync(file).mode & 0o777).toBe(0o600);

    streamer.proc.kill('SIGTERM');
    expect(await streamer.exited).toBe(0);
    expect(streamer.stderr()).not.toMatch(/ERROR/);
  }, 120_000);
});

describe('HTTP API security', () => {
  const token = 'c0ffee00c0ffee00c0ffee00c0ffee00';
  const cert = join(dir, 'http.crt');
  const key = join(dir, 'http.key');

  test('regression: /debug/on|off answered any method without credentials; now HTTPS with a self-signed certificate, token on control endpoints, POST only', async () => {
    const made = Bun.spawnSync(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', key, '-out', cert], { stderr: 'pipe' });
    expect(made.exitCode).toBe(0);
    const p = await prepareTable();
    const top = `httpToken = "\${HTTP_TOKEN}"\nhttpTlsCertFile = "${cert}"\nhttpTlsKeyFile = "${key}"`;
    const streamer = startStreamer(dir, configFor(p, join(dir, 'tls-out.jsonl'), join(dir, 'tls-state.db'), top), 'tls', { HTTP_TOKEN: token });
    children.push(streamer);
    const url = await streamer.httpUrl();
    expect(url).toStartWith('https://127.0.0.1:');
    await streamer.waitForLog('Streaming from');

    const tls = { rejectUnauthorized: false };
    const call = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, tls } as RequestInit);
    expect(await (await call('/health')).text()).toBe('Alive and well\n');
    expect((await call('/status')).status).toBe(200);
    // The certificate served is the one configured.
    const served = Bun.spawnSync(['sh', '-c', `openssl s_client -connect ${url.slice('https://'.length)} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`]);
    const configured = Bun.spawnSync(['openssl', 'x509', '-in', cert, '-noout', '-fingerprint', '-sha256']);
    expect(served.stdout.toString()).toBe(configured.stdout.toString());
    // Plain HTTP gets no answer from the TLS port.
    await expect(fetch(url.replace('https://', 'http://') + '/health')).rejects.toThrow();

    let res = await call('/debug/on', { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="psql-streamer"');
    res = await call('/debug/on', { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(streamer.stderr()).not.toContain('Debug');
    res = await call('/debug/on', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Debug is now true\n');
    expect((await call('/debug/off', { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);

    streamer.proc.kill('SIGTERM');
    expect(await streamer.exited).toBe(0);
    expect(streamer.stderr()).not.toContain(token);
  }, 120_000);
});
