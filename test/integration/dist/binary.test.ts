/**
 * The compiled executable on its own, as an operator copies it onto a database host: built by
 * scripts/build for this machine, copied ALONE into an empty directory (no node_modules, no
 * sources, that directory as cwd, a bare environment), then `--version`, `check -config`, no .env
 * or bunfig.toml autoloading, and real streams PostgreSQL → file sink and PostgreSQL → Kafka (lz4,
 * so the Kafka client's WASM helper runs inside the binary), PostgreSQL → HTTP sink over TLS (a test
 * CA, a bearer token from the environment) with `check --live` against the same receiver,
 * PostgreSQL → NATS JetStream (the lazily loaded NATS client inside the binary), its
 * status page in Chromium (the page's script is the minified bundle's own source text). Prints the
 * time from exec to the source's "Streaming from" line.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useKafka } from '../../helpers/kafka.ts';
import { readStream, useNats } from '../../helpers/nats.ts';
import { uniqueName, usePostgres } from '../../helpers/pg.ts';
import { postgresSourceToml, postgresToFileToml, postgresToKafkaToml, sinkToml, streamerToml } from '../../helpers/configs.ts';
import { repoRoot } from '../../helpers/env.ts';
import { tempDir, waitFor, completeLines, killChildrenAndDropSlots } from '../../helpers/streamer.ts';
import { readTopic } from '../../helpers/kafka-sink.ts';
import { launchBrowser } from '../../helpers/browser.ts';
import { buildNative, nativeTarget, run, spawnChild, stop, VERSION, type Child } from '../../helpers/dist.ts';
import { makeCertificates } from '../../helpers/certs.ts';
import { startReceiver } from '../../helpers/http-receiver.ts';

const work = tempDir('psql-streamer-binary-');
/** The directory holding nothing but the executable; the children's cwd. */
const alone = join(work, 'alone');
const binary = join(alone, 'psql-streamer');
/** A bare environment: nothing of the repository, no PG* variables. */
const ENV = { PATH: '/usr/bin:/bin', HOME: alone, TZ: 'UTC' };
const children: Child[] = [];
const slots: string[] = [];

// Registered before the server fixtures' hooks, so it runs while the servers are still there.
afterAll(async () => {
  await killChildrenAndDropSlots(children, slots, pg.sql());
  rmSync(work, { recursive: true, force: true });
});
const pg = usePostgres();
const kafka = useKafka();
const nats = useNats();

beforeAll(async () => {
  const started = performance.now();
  const built = await buildNative(join(work, 'build'));
  const ms = performance.now() - started;
  mkdirSync(alone);
  copyFileSync(built, binary);
  chmodSync(binary, 0o755);
  rmSync(join(work, 'build'), { recursive: true });
  console.log(`scripts/build ${nativeTarget()}: ${(statSync(binary).size / 1024 / 1024).toFixed(1)} MiB in ${ms.toFixed(0)} ms`);
}, 120_000);

function start(name: string, config: string, env: Record<string, string> = {}): Child {
  const file = join(alone, `${name}.toml`);
  writeFileSync(file, config);
  const child = spawnChild([binary, '-config', file], { cwd: alone, env: { ...ENV, ...env } });
  children.push(child);
  return child;
}

/** A table with a publication, and the slot name the program will create (dropped afterwards). */
async function prepare(prefix: string): Promise<{ table: string; publication: string; slot: string }> {
  const table = uniqueName(prefix);
  const publication = uniqueName('pub');
  const slot = uniqueName('slot');
  slots.push(slot);
  await pg.sql().unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, name text); CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
  return { table, publication, slot };
}

async function writeRows(table: string): Promise<void> {
  const sql = pg.sql();
  await sql.unsafe(`INSERT INTO ${table} VALUES (1, 'one'), (2, 'two')`);
  await sql.unsafe(`UPDATE ${table} SET name = 'uno' WHERE id = 1`);
  await sql.unsafe(`DELETE FROM ${table} WHERE id = 2`);
}

const EXPECTED = [
  { Action: 'insert', Columns: { id: 1, name: 'one' } },
  { Action: 'insert', Columns: { id: 2, name: 'two' } },
  { Action: 'update', Columns: { id: 1, name: 'uno' } },
  { Action: 'delete', Columns: { id: 2, name: null } },
];

describe('the compiled binary alone in an empty directory', () => {
  test('the directory holds only the executable, which is the native target', () => {
    expect(readdirSync(alone)).toEqual(['psql-streamer']);
    expect(existsSync(join(alone, 'node_modules'))).toBe(false);
  });

  test('--version: package version, commit, target and Bun version', async () => {
    const result = await run([binary, '--version'], { cwd: alone, env: ENV });
    expect(result.code).toBe(0);
    const escaped = VERSION.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(result.stdout).toMatch(new RegExp(`^psql-streamer ${escaped} \\((?:commit [0-9a-f]{4,40}(?:-dirty)?, )?linux-${nativeTarget()}, bun ${Bun.version}\\)\\n$`));
  });

  test('check -config: the annotated example passes; a broken file is named with its problem (exit 2)', async () => {
    copyFileSync(join(repoRoot, 'psql-streamer.toml'), join(alone, 'example.toml'));
    const ok = await run([binary, 'check', '-config', 'example.toml'], { cwd: alone, env: ENV });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('example.toml: OK (1 source(s), 1 sink(s))\n');
    expect(ok.code).toBe(0);

    writeFileSync(join(alone, 'broken.toml'), '[sink.out]\ntype = "fil"\nsources = []\n');
    const bad = await run([binary, 'check', '-config', 'broken.toml'], { cwd: alone, env: ENV });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('broken.toml');
    expect(bad.stderr).toContain('fil');
    expect(bad.stderr).not.toContain('    at ');
    rmSync(join(alone, 'example.toml'));
    rmSync(join(alone, 'broken.toml'));
  });

  test('reads no .env and no bunfig.toml from its working directory', async () => {
    const dir = join(work, 'autoload');
    mkdirSync(dir);
    writeFileSync(join(dir, '.env'), 'PSQL_STREAMER_DOTENV_PROBE=0\n');
    writeFileSync(join(dir, 'preload.js'), `require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'preloaded'))}, 'x');\n`);
    writeFileSync(join(dir, 'bunfig.toml'), 'preload = ["./preload.js"]\n');
    // Valid exactly when the variable is set.
    writeFileSync(join(dir, 'probe.toml'), streamerToml({
      http: '127.0.0.1:${PSQL_STREAMER_DOTENV_PROBE}',
      state: 'state.db',
      sections: [
        postgresSourceToml({ dsn: 'host=127.0.0.1 dbname=app user=streamer', publication: 'p', slot: 's', batchFlushInterval: null, statusInterval: null }),
        sinkToml('out', 'stub_discard'),
      ],
    }));
    const withVariable = await run([binary, 'check', '-config', 'probe.toml'], { cwd: dir, env: { ...ENV, PSQL_STREAMER_DOTENV_PROBE: '0' } });
    expect(withVariable.stdout).toBe('probe.toml: OK (1 source(s), 1 sink(s))\n');
    const result = await run([binary, 'check', '-config', 'probe.toml'], { cwd: dir, env: ENV });
    // The variable is unset for the binary: .env was not loaded.
    expect(result.stderr).toContain('environment variable $PSQL_STREAMER_DOTENV_PROBE is not set');
    expect(result.code).toBe(2);
    // bunfig.toml's preload did not run.
    expect(existsSync(join(dir, 'preloaded'))).toBe(false);
    // Bun itself would have used both there (as would a binary built with autoloading on).
    const viaBun = await run([process.execPath, '-e', 'console.log(process.env.PSQL_STREAMER_DOTENV_PROBE)'], { cwd: dir, env: ENV });
    expect(viaBun.stdout).toBe('0\n');
    expect(existsSync(join(dir, 'preloaded'))).toBe(true);
  });

  test('PostgreSQL → file sink: the events, /status 200, the status page in Chromium, SIGTERM exits 0; time from exec to "Streaming from"', async () => {
    const { table, publication, slot } = await prepare('bin_file');
    const out = join(work, 'file-out.jsonl');
    const streamer = start('file', postgresToFileToml({ server: pg.server, publication, slot, statusInterval: '500ms', state: join(work, 'file-state.db'), out }));
    const streaming = await streamer.waitForLog('Streaming from');
    console.log(`PostgreSQL → file: exec → "Streaming from" ${(streaming - streamer.startedAt).toFixed(0)} ms (slot created at startup)`);

    await writeRows(table);
    const lines = () => completeLines(out);
    await waitFor('4 events in the file', () => lines().length >= 4, 20_000, () => streamer.stderr());
    const events = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map(({ Action, Columns }) => ({ Action, Columns }))).toEqual(EXPECTED);
    expect(events.every((e) => e.Table === table && e.Database === pg.server.database)).toBe(true);

    const status = await fetch(`${await streamer.httpUrl()}/status`);
    expect(status.status).toBe(200);
    // The status page runs the minified bundle's own source text in the browser (status-page.ts).
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${await streamer.httpUrl()}/`);
      await page.waitFor('a refresh', `document.getElementById('note').textContent.startsWith('updated')`);
      expect(await page.evaluate<string[]>(`[...document.querySelectorAll('article.card')].map((c) => c.dataset.key + ' ' + c.dataset.state)`))
        .toEqual(['source:db1 ok', 'pipeline:db1 ok', 'sink:out ok']);
      expect(page.problems).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(await stop(streamer)).toBe(0);
    expect(streamer.stderr()).toContain('Service shutdown complete');
  }, 30_000); // Chromium and a loaded machine: several seconds

  test('PostgreSQL → Kafka (lz4): the messages in the original\'s format; time from exec to "Streaming from"', async () => {
    const { table, publication, slot } = await prepare('bin_kafka');
    const topic = await kafka.createTopic({ prefix: 'bin-kafka' });
    const streamer = start('kafka', postgresToKafkaToml({
      server: pg.server, publication, slot, statusInterval: '500ms', state: join(work, 'kafka-state.db'),
      brokers: kafka.server.brokers, sink: `topicFallback = "${topic}"\ncompression = "lz4"`,
    }));
    const streaming = await streamer.waitForLog('Streaming from');
    console.log(`PostgreSQL → Kafka: exec → "Streaming from" ${(streaming - streamer.startedAt).toFixed(0)} ms`);

    await writeRows(table);
    const messages = await readTopic(kafka.server.brokers, topic, 4, 30_000);
    const events = messages.map((m) => JSON.parse(m.value!) as Record<string, unknown>);
    expect(events.map(({ Action, Columns }) => ({ Action, Columns }))).toEqual(EXPECTED);
    expect(Object.keys(events[0]!).slice(0, 8)).toEqual(['Host', 'Database', 'Table', 'Action', 'WALPosition', 'Timestamp', 'UUID', 'Columns']);
    expect(await stop(streamer)).toBe(0);
    expect(streamer.stderr()).not.toContain('ERROR');
  });

  test('PostgreSQL → HTTP sink over TLS: the events with the token from the environment; check --live reaches the receiver', async () => {
    const certs = join(work, 'certs');
    makeCertificates(certs);
    const pem = (name: string) => readFileSync(join(certs, name), 'utf8');
    const receiver = startReceiver({ tls: { cert: pem('server.pem'), key: pem('server.key') } });
    try {
      const { table, publication, slot } = await prepare('bin_http');
      const config = streamerToml({
        state: join(work, 'http-state.db'),
        sections: [
          postgresSourceToml({ server: pg.server, publication, slot, statusInterval: '500ms' }),
          sinkToml('hook', 'http', `url = "${receiver.url}/cdc"\ntlsCaFile = "${join(certs, 'ca.pem')}"\nheaders = { Authorization = "Bearer \${HOOK_TOKEN}" }`),
        ],
      });
      writeFileSync(join(alone, 'http-check.toml'), config);
      const check = await run([binary, 'check', '--live', '--json', '-config', 'http-check.toml'], { cwd: alone, env: { ...ENV, HOOK_TOKEN: 'tok' } });
      const sinkGroup = (JSON.parse(check.stdout) as { groups: { kind: string; results: { check: string; verdict: string }[] }[] }).groups.find((g) => g.kind === 'sink');
      expect(sinkGroup?.results).toEqual([expect.objectContaining({ check: 'url', verdict: 'OK' })]);
      expect(receiver.requests.map((r) => `${r.method} ${r.headers.authorization}`)).toEqual(['HEAD Bearer tok']);
      rmSync(join(alone, 'http-check.toml'));

      const streamer = start('http', config, { HOOK_TOKEN: 'tok' });
      const streaming = await streamer.waitForLog('Streaming from');
      console.log(`PostgreSQL → HTTP: exec → "Streaming from" ${(streaming - streamer.startedAt).toFixed(0)} ms`);
      await writeRows(table);
      await waitFor('4 events at the receiver', () => receiver.accepted().length >= 4, 20_000, () => streamer.stderr());
      const events = receiver.accepted();
      expect(events.map(({ Action, Columns }) => ({ Action, Columns }))).toEqual(EXPECTED);
      const posts = receiver.requests.filter((r) => r.method === 'POST');
      expect(posts.every((r) => r.headers.authorization === 'Bearer tok' && r.headers['content-type'] === 'application/x-ndjson')).toBe(true);
      expect(posts.every((r) => /^[0-9a-f]{32}$/.test(r.headers['idempotency-key'] ?? ''))).toBe(true);
      // The receiver holds the events before its answer reaches the sink, which counts the request then.
      const url = await streamer.httpUrl();
      const counted = /http_sink_requests_total\{sinkName="hook",status="200"\} [1-9]/;
      let metrics = '';
      await waitFor('the request counted in /metrics', async () => counted.test((metrics = await (await fetch(`${url}/metrics`)).text())), 10_000, () => metrics.slice(-2000));
      expect(metrics).toMatch(counted);
      expect(await stop(streamer)).toBe(0);
      expect(streamer.stderr()).not.toContain('ERROR');
    } finally {
      await receiver.stop();
    }
  });

  test('PostgreSQL → NATS JetStream: check --live reaches the server; the events in the original\'s format, Nats-Msg-Id = UUID; time from exec to "Streaming from"', async () => {
    const { table, publication, slot } = await prepare('bin_nats');
    const stream = await nats.createStream('bin');
    const config = streamerToml({
      state: join(work, 'nats-state.db'),
      sections: [
        postgresSourceToml({ server: pg.server, publication, slot, statusInterval: '500ms' }),
        sinkToml('nats', 'nats', `servers = ["${nats.server.url}"]\nsubjectFallback = "${stream}.{schema}.{table}"\nstream = "${stream}"`),
      ],
    });
    writeFileSync(join(alone, 'nats-check.toml'), config);
    const check = await run([binary, 'check', '--live', '--json', '-config', 'nats-check.toml'], { cwd: alone, env: ENV });
    rmSync(join(alone, 'nats-check.toml'));
    const sinkGroup = (JSON.parse(check.stdout) as { groups: { kind: string; results: { check: string; verdict: string }[] }[] }).groups.find((g) => g.kind === 'sink');
    expect(sinkGroup?.results.map((r) => `${r.verdict} ${r.check}`)).toEqual(['OK servers', 'OK jetstream', 'OK stream', 'OK subject']);
    const streamer = start('nats', config);
    const streaming = await streamer.waitForLog('Streaming from');
    console.log(`PostgreSQL → NATS: exec → "Streaming from" ${(streaming - streamer.startedAt).toFixed(0)} ms`);

    await writeRows(table);
    const nc = await nats.connection();
    let messages: Awaited<ReturnType<typeof readStream>> = [];
    await waitFor('4 messages in the stream', async () => (messages = await readStream(nc, stream)).length >= 4, 30_000);
    const events = messages.map((m) => JSON.parse(m.data) as Record<string, unknown>);
    expect(events.map(({ Action, Columns }) => ({ Action, Columns }))).toEqual(EXPECTED);
    expect(messages.map((m) => m.msgId)).toEqual(events.map((e) => e.UUID as string));
    expect(messages[0]!.subject).toBe(`${stream}.public.${table}`);
    expect(await stop(streamer)).toBe(0);
    expect(streamer.stderr()).not.toContain('ERROR');
  });
});
