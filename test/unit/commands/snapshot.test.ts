/**
 * The `snapshot` command (src/commands/snapshot.ts) against the real HTTP app (src/http/app.ts)
 * over an in-memory SnapshotControl, with a fake clock: what it prints in a terminal and in a log,
 * its exit codes, and what it sends. The socket path (a real streamer) is the integration test's.
 */
import { describe, expect, test } from 'bun:test';
import { ApiClient, endpointOf } from '../../../src/commands/snapshot-client.ts';
import { runSnapshot, type SnapshotAction, type SnapshotIo } from '../../../src/commands/snapshot.ts';
import { configFromText } from '../../../src/components.ts';
import { createHttpApp } from '../../../src/http/app.ts';
import type { SnapshotInfo } from '../../../src/sources/postgres/snapshot/types.ts';
import { MemorySnapshotControl, tableProgress } from '../../helpers/snapshot-fakes.ts';

const TOKEN = 'k9c2f6d1e8a4b7c3d5e0f1a2';

const CONFIG = `
http = "0.0.0.0:12080"
boltdb = "/tmp/never-opened.db"
httpToken = "${TOKEN}"
[source.db1]
type = "postgres"
dsn = "host=localhost dbname=app user=streamer"
publication = "pub"
replicationSlot = "slot"
[source.relay]
type = "kafka"
hosts = ["localhost:9092"]
topics = ["t"]
groupID = "g"
[sink.out]
type = "file"
path = "/dev/null"
sources = ["db1", "relay"]
`;

/**
 * A streamer in memory: the HTTP app over one control; `steps` move the snapshot on at each read
 * (the first read after the POST gets steps[0]).
 */
function harness(options: { tty?: boolean; steps?: ((info: SnapshotInfo) => SnapshotInfo)[]; token?: string } = {}) {
  const config = configFromText('test.toml', CONFIG, {});
  const control = new MemorySnapshotControl('db1');
  const app = createHttpApp({
    components: () => [],
    metrics: async () => ({ body: '', contentType: '' }),
    security: config.httpSecurity,
    snapshots: (name) => (name === 'db1' ? control : undefined),
    snapshotSources: () => ['db1'],
  });
  const sent: { method: string; url: string; auth: string | null; body: string }[] = [];
  const steps = [...(options.steps ?? [])];
  const endpoint = { ...endpointOf(config), ...(options.token === undefined ? {} : { token: options.token }) };
  const client = new ApiClient(endpoint, async (url, init) => {
    const request = new Request(url, init);
    const body = await request.clone().text();
    sent.push({ method: request.method, url, auth: request.headers.get('authorization'), body });
    const match = /snapshots\/([^/]+)$/.exec(new URL(url).pathname);
    if (request.method === 'GET' && match) {
      const step = steps.shift();
      if (step) control.update(decodeURIComponent(match[1]!), step);
    }
    return app.fetch(request);
  });
  let now = 0;
  let out = '';
  let err = '';
  const io: SnapshotIo = {
    out: { write: (t) => { out += t; }, isTTY: options.tty ?? false, columns: () => 80 },
    err: { write: (t) => { err += t; } },
    client,
    sleep: async (ms) => { now += ms; },
    now: () => now,
    pollMs: 1000,
    lineEveryMs: 5000,
  };
  const run = (action: SnapshotAction, source = 'db1') => runSnapshot(config, source, action, io);
  return { config, control, sent, io, run, output: () => ({ out, err }) };
}

const running = (rows: number) => (info: SnapshotInfo): SnapshotInfo => ({
  ...info, state: 'running', rowsPerSecond: 1000, etaSeconds: (2000 - rows) / 1000,
  tables: info.tables.map((t) => tableProgress(t.table, { rowsDone: rows / info.tables.length, rowsEstimated: 1000, chunks: rows / 100 })),
});
const finished = (state: 'done' | 'failed' | 'cancelled', error?: string) => (info: SnapshotInfo): SnapshotInfo => ({
  ...info, state, finishedAt: '2026-12-07T02:00:11.000Z', startedAt: '2026-12-07T02:00:01.000Z', rowsDone: 1000 * info.tables.length, ...(error === undefined ? {} : { error }),
  tables: info.tables.map((t) => tableProgress(t.table, { state: state === 'done' ? 'done' : state, rowsDone: 1000, chunks: 10 })),
});

describe('snapshot --table (follow)', () => {
  test('not a terminal: a progress line every 5 s, then the summary; exit 0 when done', async () => {
    const steps = [...Array.from({ length: 11 }, (_, i) => running(i * 100)), finished('done')];
    const h = harness({ steps });
    expect(await h.run({ kind: 'start', tables: ['orders', 'items'], where: 'id > 1', wait: true })).toBe(0);
    expect(h.sent[0]).toEqual({ method: 'POST', url: 'http://127.0.0.1:12080/sources/db1/snapshots', auth: `Bearer ${TOKEN}`, body: '{"tables":["orders","items"],"where":"id > 1"}' });
    expect(h.sent.slice(1).every((s) => s.method === 'GET' && s.url.endsWith('/sources/db1/snapshots/s-1'))).toBe(true);
    const { out, err } = h.output();
    expect(out.split('\n')).toEqual([
      'snapshot s-1 (pending): 0/2 tables, 0/2,000 rows (0%), 0 rows/s, ETA unknown',
      'snapshot s-1: 0/2 tables, 400/2,000 rows (20%), 1,000 rows/s, ETA 2s',
      'snapshot s-1: 0/2 tables, 900/2,000 rows (45%), 1,000 rows/s, ETA 1s',
      'snapshot s-1 done: 2,000 rows from 2 tables in 20 chunks, 10.0s, 200 rows/s, where id > 1',
      '',
    ]);
    expect(err).toBe('');
  });

  test('a terminal: bars redrawn in place (cursor up, clear), a newline, then the summary', async () => {
    const h = harness({ tty: true, steps: [running(1000), finished('done')] });
    expect(await h.run({ kind: 'start', tables: ['orders', 'items'], wait: true })).toBe(0);
    const { out } = h.output();
    const frames = out.split('\r\x1b[J');
    expect(frames).toHaveLength(3);
    // Three lines drawn (two tables, overall): the next frame goes up two lines first.
    expect(frames[0]).toEndWith('\x1b[2A');
    expect(frames[0]).toMatch(/^public\.orders \[\.+\]   0%  0\/1,000  pending\npublic\.items  \[\.+\]   0%  0\/1,000  pending\noverall  /);
    expect(frames[1]).toContain('overall       [');
    expect(frames[1]).toContain('1,000/2,000 rows  1,000 rows/s  ETA 1s');
    expect(frames[2]).toMatch(/overall {7}\[#+\] 100%  2,000\/2,000 rows  done\nsnapshot s-1 done: 2,000 rows from 2 tables in 20 chunks, 10\.0s, 200 rows\/s\n$/);
    for (const line of out.replace(/\x1b\[\d*A|\r\x1b\[J/g, '\n').split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  test('failed: the summary and why, exit 1; cancelled: exit 1, saying so', async () => {
    const failed = harness({ steps: [finished('failed', 'connection to the server was lost')] });
    expect(await failed.run({ kind: 'start', tables: ['orders'], wait: true })).toBe(1);
    expect(failed.output().out).toContain('snapshot s-1 failed: ');
    expect(failed.output().err).toBe('snapshot s-1 failed: connection to the server was lost\n');
    const cancelled = harness({ steps: [running(100), finished('cancelled')] });
    expect(await cancelled.run({ kind: 'start', tables: ['orders'], wait: true })).toBe(1);
    expect(cancelled.output().err).toStartWith('snapshot s-1 was cancelled (DELETE /sources/db1/snapshots/s-1, or snapshot --cancel s-1)');
  });

  test('--no-wait: starts it, prints its id, exit 0 without reading it again', async () => {
    const h = harness();
    expect(await h.run({ kind: 'start', tables: ['orders'], wait: false })).toBe(0);
    expect(h.output().out).toBe('snapshot s-1 started on source db1: public.orders (pending)\n');
    expect(h.sent).toHaveLength(1);
  });

  test('a refused request: its message and exit 2 (bad table, not published, bad token)', async () => {
    const h = harness();
    expect(await h.run({ kind: 'start', tables: ['public.secret'], wait: true })).toBe(2);
    expect(h.output().err).toBe('table public.secret is not in the publication\n');
    const bad = harness({ token: `${TOKEN}x` });
    expect(await bad.run({ kind: 'start', tables: ['orders'], wait: true })).toBe(2);
    expect(bad.output().err).toBe('the streamer at http://127.0.0.1:12080 refused the token: httpToken in the config differs from the one it runs with\n');
  });

  test('a 409 is a runtime failure (exit 1)', async () => {
    const h = harness();
    h.control.busy = 'the initial snapshot is still running';
    expect(await h.run({ kind: 'start', tables: ['orders'], wait: true })).toBe(1);
    expect(h.output().err).toBe('the initial snapshot is still running\n');
  });

  test('the snapshot disappears while followed: exit 1 with what to do', async () => {
    const h = harness({ steps: [running(100)] });
    const run = h.run({ kind: 'start', tables: ['orders'], wait: true });
    // The first read moves it on; then it is gone (the streamer restarted).
    h.io.sleep = async () => { if (h.sent.length >= 2) h.control.snapshots.length = 0; };
    expect(await run).toBe(1);
    expect(h.output().err).toBe('lost track of snapshot s-1: the streamer no longer knows it (was it restarted?); list the snapshots with psql-streamer snapshot -config test.toml --source db1 --list\n');
  });

  test('Ctrl-C stops following (exit 130) and says the snapshot goes on', async () => {
    const h = harness();
    const interrupt = new AbortController();
    h.io.signal = interrupt.signal;
    h.io.sleep = async () => interrupt.abort();
    expect(await h.run({ kind: 'start', tables: ['orders'], wait: true })).toBe(130);
    expect(h.output().err).toBe('stopped following snapshot s-1; it goes on in the streamer (cancel it: psql-streamer snapshot -config test.toml --source db1 --cancel s-1)\n');
    expect(h.control.get('s-1')?.state).toBe('pending');
  });
});

describe('snapshot --list and --cancel', () => {
  test('--list: one line per snapshot (progress, or the summary once over); none says so', async () => {
    const h = harness();
    expect(await h.run({ kind: 'list' })).toBe(0);
    expect(h.output().out).toBe('source db1 has no snapshots\n');
    await h.control.start({ tables: ['orders'] });
    await h.control.start({ tables: ['items'] });
    h.control.update('s-1', finished('done'));
    expect(await h.run({ kind: 'list' })).toBe(0);
    expect(h.output().out.split('\n').slice(1)).toEqual([
      'snapshot s-1 done: 1,000 rows from 1 table in 10 chunks, 10.0s, 100 rows/s',
      'snapshot s-2 (pending): 0/1 tables, 0/1,000 rows (0%), 0 rows/s, ETA unknown',
      '',
    ]);
  });

  test('--cancel: the cancelled summary; an ended one says so; an unknown id is exit 2', async () => {
    const h = harness();
    await h.control.start({ tables: ['orders'] });
    expect(await h.run({ kind: 'cancel', id: 's-1' })).toBe(0);
    expect(h.output().out).toBe('snapshot s-1 cancelled: 0 rows from 0/1 tables in 0 chunks\n');
    expect(h.sent.at(-1)).toMatchObject({ method: 'DELETE', auth: `Bearer ${TOKEN}` });
    await h.control.start({ tables: ['items'] });
    h.control.update('s-2', finished('done'));
    expect(await h.run({ kind: 'cancel', id: 's-2' })).toBe(0);
    expect(h.output().out).toEndWith('snapshot s-2 had already ended (done): snapshot s-2 done: 1,000 rows from 1 table in 10 chunks, 10.0s, 100 rows/s\n');
    expect(await h.run({ kind: 'cancel', id: 's-7' })).toBe(2);
    expect(h.output().err).toBe('no snapshot s-7 on source db1\n');
  });
});

describe('snapshot: the config and the way to the streamer', () => {
  test('an unknown source or a non-PostgreSQL one is exit 2 before any request', async () => {
    const h = harness();
    expect(await h.run({ kind: 'list' }, 'nope')).toBe(2);
    expect(await h.run({ kind: 'list' }, 'relay')).toBe(2);
    expect(h.output().err).toBe('test.toml: no source "nope" (sources: db1, relay)\ntest.toml: source "relay" is a kafka source; only PostgreSQL sources take snapshots\n');
    expect(h.sent).toEqual([]);
  });

  test('no streamer listening: "is it running?", exit 1', async () => {
    // Port 1 on loopback: nothing listens there.
    const config = configFromText('test.toml', CONFIG.replace('0.0.0.0:12080', '127.0.0.1:1'), {});
    const h = harness();
    const code = await runSnapshot(config, 'db1', { kind: 'list' }, { ...h.io, client: undefined });
    expect(code).toBe(1);
    expect(h.output().err).toBe('cannot reach the streamer at http://127.0.0.1:1: is it running?\n');
  });

  test('an older streamer without the snapshot API (a text 404)', async () => {
    const config = configFromText('test.toml', CONFIG, {});
    const client = new ApiClient(endpointOf(config), async () => new Response('404 page not found\n', { status: 404 }));
    const h = harness();
    expect(await runSnapshot(config, 'db1', { kind: 'list' }, { ...h.io, client })).toBe(2);
    expect(h.output().err).toBe('the streamer at http://127.0.0.1:12080 has no snapshot API (404 page not found): is it an older version?\n');
  });

  test('endpoint: the token from ${ENV}, https with the configured certificate trusted', () => {
    const text = CONFIG.replace(`httpToken = "${TOKEN}"`, 'httpToken = "${HTTP_TOKEN}"\nhttpTlsCertFile = "/no/such.crt"\nhttpTlsKeyFile = "/no/such.key"');
    const config = configFromText('test.toml', text, { HTTP_TOKEN: TOKEN });
    expect(() => endpointOf(config)).toThrow('httpTlsCertFile = "/no/such.crt": cannot read it');
    const plain = endpointOf(configFromText('test.toml', CONFIG.replace(`httpToken = "${TOKEN}"`, 'httpToken = "${HTTP_TOKEN}"'), { HTTP_TOKEN: TOKEN }));
    expect(plain).toEqual({ origin: 'http://127.0.0.1:12080', token: TOKEN });
  });
});
