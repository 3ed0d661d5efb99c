/**
 * Operating snapshots end to end (docs/snapshots.md, "Operating snapshots"): the real program with
 * a real PostgreSQL and the file sink, driven over its HTTP API and with the `snapshot` command,
 * while another client keeps the source busy with inserts and updates. Backfills with and without
 * `where`, a cancel, two at once, refusals (bad name 400, not published 404, token), the command's
 * lines and exit codes, the metrics, and the command against a streamer that is not running.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';
import { completeLines, freePort, runCommand, startStreamer, tempDir, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const db = useSourceTests();
const dir = tempDir('psql-streamer-snapshot-operate-');
const TOKEN = 'k9c2f6d1e8a4b7c3d5e0f1a2b3c4';
const names = { big: uniqueName('big'), small: uniqueName('small'), slow: uniqueName('slow'), two1: uniqueName('two1'), two2: uniqueName('two2'), cli: uniqueName('cli'), secret: uniqueName('secret') };
const out = join(dir, 'out.jsonl');
let streamer: StreamerProcess;
let origin: string;
let configFile: string;
let busy: { stop: () => Promise<number> } | undefined;

/** Inserts and updates `big` in small transactions until stopped; resolves with how many it committed. */
function keepBusy(table: string): { stop: () => Promise<number> } {
  let running = true;
  let committed = 0;
  const loop = (async () => {
    let next = 1_000_000;
    while (running) {
      await db.sql.unsafe(`INSERT INTO ${table} VALUES (${next++}, 'live', 0); UPDATE ${table} SET n = n + 1 WHERE id = ${1 + (next % 20_000)}`);
      committed++;
      await Bun.sleep(10);
    }
  })();
  return { stop: async () => { running = false; await loop; return committed; } };
}

const auth = { Authorization: `Bearer ${TOKEN}` };

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<{ status: number; body: any; location: string | null }> {
  const res = await fetch(`${origin}${path}`, { method, headers: { ...headers, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: res.status, body: await res.json(), location: res.headers.get('location') };
}

/** `psql-streamer snapshot -config <the streamer's file> ...args`, with the token's variable set as the streamer has it. */
const snapshotCommand = (args: string[], timeoutMs = 60_000) => runCommand(['snapshot', '-config', configFile, ...args], timeoutMs, { SNAPSHOT_TEST_TOKEN: TOKEN });

/** Reads snapshot `id` until it has ended. */
async function untilEnded(id: string, timeoutMs = 120_000): Promise<any> {
  let info: any;
  await waitFor(`snapshot ${id} to end`, async () => {
    info = (await api('GET', `/sources/db1/snapshots/${id}`)).body;
    return ['done', 'cancelled', 'failed'].includes(info.state);
  }, timeoutMs, () => `${JSON.stringify(info)}\n${streamer.stderr()}`);
  return info;
}

/** The ids of the snapshot rows of `table` in the file. */
function snapshotIds(table: string): number[] {
  return completeLines(out).map((line) => JSON.parse(line)).filter((e) => e.Snapshot === true && e.Table === table).map((e) => e.Columns.id as number);
}

/** The ids the stream's updates of `table` in the file name. */
function updatedIds(table: string): Set<number> {
  return new Set(completeLines(out).map((line) => JSON.parse(line)).filter((e) => e.Action === 'update' && e.Table === table).map((e) => e.Columns.id as number));
}

beforeAll(async () => {
  for (const [key, table] of Object.entries(names)) {
    const rows = key === 'big' ? 20_000 : key === 'slow' ? 60_000 : 3000;
    await db.sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, v text, n int); INSERT INTO ${table} SELECT i, md5(i::text), 0 FROM generate_series(1, ${rows}) i; ANALYZE ${table}`);
  }
  const published = Object.values(names).filter((t) => t !== names.secret);
  const { slot, publication } = await db.prepare(published);
  const port = freePort();
  const config = postgresToFileToml({
    server: db.pg.server, publication, slot, state: join(dir, 'state.db'), out,
    http: `0.0.0.0:${port}`,
    top: 'httpToken = "${SNAPSHOT_TEST_TOKEN}"',
    source: 'snapshotChunkSize = 500\n',
  });
  streamer = startStreamer(dir, config, 'streamer', { SNAPSHOT_TEST_TOKEN: TOKEN });
  configFile = join(dir, 'streamer.toml');
  await streamer.waitForLog('Streaming from', 60_000);
  origin = `http://127.0.0.1:${port}`;
  busy = keepBusy(names.big);
}, 120_000);

afterAll(async () => {
  await busy?.stop().catch(() => {});
  if (streamer && streamer.proc.exitCode === null) {
    streamer.proc.kill('SIGKILL');
    await streamer.exited;
  }
});

describe('snapshots on a live, busy source', () => {
  test('a backfill with where: 202 and Location, the matching rows only, flagged Snapshot; counted in the metrics', async () => {
    const started = await api('POST', '/sources/db1/snapshots', { tables: [names.big], where: 'id <= 20000 AND id % 10 = 0' });
    expect(started.status).toBe(202);
    expect(started.location).toBe(`/sources/db1/snapshots/${started.body.id}`);
    expect(started.body).toMatchObject({ source: 'db1', kind: 'backfill', where: 'id <= 20000 AND id % 10 = 0' });
    const info = await untilEnded(started.body.id);
    expect(info).toMatchObject({ state: 'done', rowsDone: 2000 });
    expect(info.tables).toMatchObject([{ table: `public.${names.big}`, state: 'done', rowsDone: 2000 }]);
    const ids = snapshotIds(names.big);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id <= 20000 && id % 10 === 0)).toBe(true);
    // The busy writer updates rows of this table too: a row it updated while its chunk was in
    // flight goes out as that update, not as a snapshot row (docs/snapshots.md, "Newer changes win").
    const copied = new Set(ids);
    const updated = updatedIds(names.big);
    const neither = Array.from({ length: 2000 }, (_, i) => (i + 1) * 10).filter((id) => !copied.has(id) && !updated.has(id));
    expect(neither).toEqual([]);
    expect(ids.length).toBeGreaterThan(1900);
    // The stream went on meanwhile: live rows of the busy writer are in the file too.
    expect(completeLines(out).some((line) => line.includes('"live"'))).toBe(true);
    const metrics = await (await fetch(`${origin}/metrics`)).text();
    expect(metrics).toContain(`snapshot_rows_total{source="db1",table="public.${names.big}"} 2000`);
    expect(metrics).toContain(`snapshot_chunks_total{source="db1",table="public.${names.big}"} `);
    expect(metrics).toContain('snapshot_running{source="db1"} 0');
  });

  test('a backfill without where copies every row; GET lists it', async () => {
    const started = await api('POST', '/sources/db1/snapshots', { tables: [`public.${names.small}`] });
    expect(started.status).toBe(202);
    expect((await untilEnded(started.body.id)).state).toBe('done');
    expect(new Set(snapshotIds(names.small)).size).toBe(3000);
    const list = await api('GET', '/sources/db1/snapshots', undefined, {});
    expect(list.status).toBe(200);
    expect(list.body.snapshots.map((s: { id: string }) => s.id)).toContain(started.body.id);
  });

  test('cancel: DELETE answers the cancelled snapshot; nothing more of it is delivered', async () => {
    const started = await api('POST', '/sources/db1/snapshots', { tables: [names.slow] });
    expect(started.status).toBe(202);
    const cancelled = await api('DELETE', `/sources/db1/snapshots/${started.body.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: started.body.id, state: 'cancelled' });
    // A chunk already handed to the pipeline may still land; after that, nothing more.
    await Bun.sleep(500);
    const after = snapshotIds(names.slow).length;
    expect(after).toBeLessThan(60_000);
    await Bun.sleep(1500);
    expect(snapshotIds(names.slow).length).toBe(after);
    expect((await api('GET', `/sources/db1/snapshots/${started.body.id}`)).body.state).toBe('cancelled');
    expect((await api('DELETE', '/sources/db1/snapshots/no-such-id')).status).toBe(404);
  });

  test('two at once: both accepted, both done, each table whole', async () => {
    const [a, b] = await Promise.all([
      api('POST', '/sources/db1/snapshots', { tables: [names.two1] }),
      api('POST', '/sources/db1/snapshots', { tables: [names.two2] }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.id).not.toBe(b.body.id);
    expect((await untilEnded(a.body.id)).state).toBe('done');
    expect((await untilEnded(b.body.id)).state).toBe('done');
    expect(new Set(snapshotIds(names.two1)).size).toBe(3000);
    expect(new Set(snapshotIds(names.two2)).size).toBe(3000);
  });

  test('refusals: a bad table name is 400, a table not published 404, each with a clear message; no token 401', async () => {
    const bad = await api('POST', '/sources/db1/snapshots', { tables: ['public."unterminated'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('unterminated quoted name');
    const secret = await api('POST', '/sources/db1/snapshots', { tables: [names.secret] });
    expect(secret.status).toBe(404);
    expect(secret.body.error).toContain(names.secret);
    expect(secret.body.error).toMatch(/publication/);
    const where = await api('POST', '/sources/db1/snapshots', { tables: [names.small], where: 'no_such_column > 1' });
    expect(where.status).toBe(400);
    expect(where.body.error).toMatch(/^where: .*no_such_column/);
    const unknown = await api('POST', '/sources/nope/snapshots', { tables: [names.small] });
    expect(unknown).toMatchObject({ status: 404, body: { error: 'no PostgreSQL source named nope (sources: db1)' } });
    const noToken = await api('POST', '/sources/db1/snapshots', { tables: [names.small] }, {});
    expect(noToken.status).toBe(401);
  });

  test('the snapshot command: follows to the end with plain lines (not a terminal), exit 0; list; refusals exit 2', async () => {
    const run = await snapshotCommand(['--source', 'db1', '--table', names.cli, '--where', 'id > 1000'], 120_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^snapshot \S+( \(pending\))?: 0\/1 tables, /);
    expect(lines.at(-1)).toMatch(/^snapshot \S+ done: 2,000 rows from 1 table in \d+ chunks, [\d.]+s, [\d,]+ rows\/s, where id > 1000$/);
    expect(new Set(snapshotIds(names.cli)).size).toBe(2000);

    const list = await snapshotCommand(['--source', 'db1', '--list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^snapshot \S+ done: 2,000 rows from 1 table/m);
    expect(list.stdout).toMatch(/^snapshot \S+ cancelled: /m);

    const secret = await snapshotCommand(['--source', 'db1', '--table', names.secret]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain(names.secret);
    const cancel = await snapshotCommand(['--source', 'db1', '--cancel', 'no-such-id']);
    expect(cancel).toMatchObject({ code: 2, stderr: 'no snapshot no-such-id on source db1\n' });
    const wrongToken = await runCommand(['snapshot', '-config', configFile, '--source', 'db1', '--table', names.cli], 60_000, { SNAPSHOT_TEST_TOKEN: `${TOKEN}x` });
    expect(wrongToken).toMatchObject({ code: 2, stderr: `the streamer at ${origin} refused the token: httpToken in the config differs from the one it runs with\n` });
    const source = await snapshotCommand(['--source', 'db9', '--list']);
    expect(source.code).toBe(2);
    expect(source.stderr).toBe(`${configFile}: no source "db9" (sources: db1)\n`);
  }, 180_000);

  test('the stream lost nothing meanwhile; after SIGTERM the command says the streamer is not running (exit 1)', async () => {
    const committed = await busy!.stop();
    busy = undefined;
    await waitFor('every live insert in the file', () => completeLines(out).filter((l) => l.includes('"live"') && l.includes('"insert"') && !l.includes('"Snapshot"')).length >= committed, 60_000, streamer.stderr);
    streamer.proc.kill('SIGTERM');
    expect(await streamer.exited).toBe(0);
    const run = await snapshotCommand(['--source', 'db1', '--list']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`cannot reach the streamer at ${origin}: is it running?\n`);
  });
});

describe('the snapshot command over HTTPS', () => {
  test('a self-signed certificate for another name: the command trusts the configured one and follows to the end', async () => {
    const certFile = join(dir, 'http.crt');
    const keyFile = join(dir, 'http.key');
    const made = Bun.spawnSync(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
      '-subj', '/CN=streamer.example', '-addext', 'subjectAltName=DNS:streamer.example'], { stderr: 'pipe' });
    expect(made.exitCode).toBe(0);
    const table = uniqueName('tls');
    await db.sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, v text); INSERT INTO ${table} SELECT i, 'x' FROM generate_series(1, 1200) i`);
    const { slot, publication } = await db.prepare([table]);
    const port = freePort();
    const config = postgresToFileToml({
      server: db.pg.server, publication, slot, state: join(dir, 'tls.db'), out: join(dir, 'tls.jsonl'),
      http: `127.0.0.1:${port}`,
      top: `httpToken = "${TOKEN}"\nhttpTlsCertFile = "${certFile}"\nhttpTlsKeyFile = "${keyFile}"`,
      source: 'snapshotChunkSize = 500\n',
    });
    const tls = startStreamer(dir, config, 'tls');
    try {
      await tls.waitForLog('Streaming from', 60_000);
      expect(await tls.httpUrl()).toBe(`https://127.0.0.1:${port}`);
      const file = join(dir, 'tls.toml');
      const run = await runCommand(['snapshot', '-config', file, '--source', 'db1', '--table', table], 120_000);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^snapshot \S+ done: 1,200 rows from 1 table in 3 chunks, /m);
    } finally {
      tls.proc.kill('SIGTERM');
      await tls.exited;
    }
  }, 180_000);
});
