/**
 * PostgreSQL → Kafka through the whole program (src/main.ts as a child process): every action's
 * message compared with the original's format, keys, partitions and headers; `kill -9` while rows
 * commit (every committed row in the topic at least once); bad Kafka configuration.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { murmur2Partition } from '../../../src/kafka/protocol/partitioner.ts';
import { EventIdentity } from '../../../src/event/identity.ts';
import { withoutTimestamp } from '../../helpers/crash/identity.ts';
import { formatLsn } from '../../../src/replication/lsn.ts';
import { useKafka } from '../../helpers/kafka.ts';
import { postgresToKafkaToml } from '../../helpers/configs.ts';
import { createStream, usePostgres } from '../../helpers/pg.ts';
import { repoRoot } from '../../helpers/env.ts';
import { startStreamer, useTempDirs, waitFor, type StreamerProcess, killChildrenAndDropSlots } from '../../helpers/streamer.ts';
import { readTopic, topicSize, type ReadMessage } from '../../helpers/kafka-sink.ts';

const children: StreamerProcess[] = [];
const slots: string[] = [];

// Registered before the server fixtures' hooks, so it runs while the servers are still there.
afterAll(async () => {
  await killChildrenAndDropSlots(children, slots, pg.sql());
});
const kafka = useKafka();
const pg = usePostgres();

const newDir = useTempDirs('psql-streamer-pg-kafka-');

function start(dir: string, config: string, name: string): StreamerProcess {
  const child = startStreamer(dir, config, name, { TZ: 'Europe/Paris' });
  children.push(child);
  return child;
}

/** PostgreSQL (`[source.db1]`, state in `dir`) → `[sink.kafka]` on `brokers` with the sink's own lines. */
function pgToKafka(dir: string, stream: { publication: string; slot: string }, brokers: readonly string[], sink: string, source = ''): string {
  return postgresToKafkaToml({
    server: pg.server, publication: stream.publication, slot: stream.slot, statusInterval: '500ms',
    source: `startRetryInterval = "100ms"\n${source}`, state: join(dir, 'state.db'), brokers, sink,
  });
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?[+-]\d\d:\d\d$/;
/** Event UUIDs are version 8, derived from the change (docs/kafka.md, "Event identity (UUID)"). */
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ORIGINAL_KEYS = ['Host', 'Database', 'Table', 'Action', 'WALPosition', 'Timestamp', 'UUID', 'Columns'];

/** The raw text of `"Columns":{...}` in a message value (the object's exact bytes). */
function columnsText(value: string): string {
  const start = value.indexOf('"Columns":') + '"Columns":'.length;
  let depth = 0;
  for (let i = start; i < value.length; i++) {
    if (value[i] === '"') {
      for (i++; value[i] !== '"'; i++) if (value[i] === '\\') i++;
    } else if (value[i] === '{' || value[i] === '[') depth++;
    else if (value[i] === '}' || value[i] === ']') {
      depth--;
      if (depth === 0) return value.slice(start, i + 1);
    }
  }
  throw new Error(`no Columns in ${value}`);
}

describe('PostgreSQL → Kafka through src/main.ts', () => {
  test('every action (and a logical decoding message): the original\'s JSON, row keys and their partitions, headers', async () => {
    const sql = pg.sql();
    const rows = await createStream(sql, 'pgk', 'id int primary key, name text, big bigint, doc jsonb');
    slots.push(rows.slot);
    const other = `${rows.table}_nokey`;
    await sql.unsafe(`create table ${other} (v text)`);
    await sql.unsafe(`alter publication ${rows.publication} add table ${other}`);
    const rowsTopic = await kafka.createTopic({ prefix: 'pgk-rows', partitions: 3 });
    const otherTopic = await kafka.createTopic({ prefix: 'pgk-other' });
    const dir = newDir();
    const server = pg.server;
    const streamer = start(dir, pgToKafka(dir, rows, kafka.server.brokers, `tableTopicMapping = { "public.${rows.table}" = "${rowsTopic}" }
topicFallback = "${otherTopic}"`), 'actions');
    await streamer.waitForLog('Streaming from');

    await sql.unsafe(`insert into ${rows.table} values (1, 'a <&> b', 9007199254740993, '{"x": 1}'), (2, 'two', null, null)`);
    await sql.unsafe(`update ${rows.table} set name = 'A' where id = 1`);
    await sql.unsafe(`delete from ${rows.table} where id = 2`);
    await sql.unsafe(`truncate ${rows.table}`);
    await sql.unsafe(`insert into ${other} values ('no key')`);
    await sql.begin(async (tx) => {
      await tx.unsafe(`select pg_logical_emit_message(true, 'audit', 'hello <world>')`);
    });

    const read = await readTopic(kafka.server.brokers, rowsTopic, 5, 30_000);
    expect(read.length).toBe(5);
    const [otherMessage, logicalMessage] = await readTopic(kafka.server.brokers, otherTopic, 2, 30_000);
    const byAction = (action: string, id?: number) => read.find((m) => {
      const v = JSON.parse(m.value!) as { Action: string; Columns: { id?: number } };
      return v.Action === action && (id === undefined || v.Columns.id === id);
    })!;
    const insert1 = byAction('insert', 1);
    const insert2 = byAction('insert', 2);
    const update1 = byAction('update', 1);
    const delete2 = byAction('delete', 2);
    const truncate = byAction('truncate');

    // A logical decoding message: no table, keyed by its prefix, to the fallback topic.
    expect(JSON.parse(logicalMessage!.value!)).toMatchObject({ Table: '', Action: 'message', Columns: { prefix: 'audit', content: 'hello <world>', transactional: true } });
    expect(logicalMessage!.value).toContain('"content":"hello \\u003cworld\\u003e"');
    expect(logicalMessage!.key).toBe('["pg_logical_emit_message","audit"]');
    expect(logicalMessage!.headers['psql-streamer-action']).toBe('message');

    for (const m of [...read, otherMessage!]) {
      const value = JSON.parse(m.value!) as Record<string, unknown>;
      expect(Object.keys(value).slice(0, 8)).toEqual(ORIGINAL_KEYS);
      expect(value.Host).toBe(server.host);
      expect(value.Database).toBe(server.database);
      expect(typeof value.WALPosition).toBe('number');
      expect(m.value).toMatch(/"WALPosition":[1-9]\d*,/);
      expect(value.Timestamp).toMatch(TIMESTAMP);
      expect(value.UUID).toMatch(UUID_V8);
      expect(Number.isInteger(value.TxIndex)).toBe(true);
      expect(value.Schema).toBe('public');
      const commitLsn = BigInt(/"CommitLSN":(\d+)/.exec(m.value!)![1]!);
      expect(m.headers).toEqual({
        'psql-streamer-source': 'db1',
        'psql-streamer-table': `public.${value.Table as string}`,
        'psql-streamer-lsn': formatLsn(commitLsn),
        'psql-streamer-action': value.Action as string,
      });
    }

    // Columns: sorted, int8 exact, Go's escaping of <, >, &; jsonb as nested JSON.
    expect(columnsText(insert1.value!)).toBe('{"big":9007199254740993,"doc":{"x": 1},"id":1,"name":"a \\u003c\\u0026\\u003e b"}');
    expect(columnsText(insert2.value!)).toBe('{"big":null,"doc":null,"id":2,"name":"two"}');
    expect(columnsText(update1.value!)).toBe('{"big":9007199254740993,"doc":{"x": 1},"id":1,"name":"A"}');
    // A delete carries the old key (replica identity default): the key column, the others null (as the original).
    expect(columnsText(delete2.value!)).toBe('{"big":null,"doc":null,"id":2,"name":null}');
    expect(columnsText(truncate.value!)).toBe('{}');
    expect(JSON.parse(insert1.value!).Table).toBe(rows.table);

    // Keys: the row's key columns; every change of a row in the partition murmur2 gives its key.
    expect(insert1.key).toBe(`["public.${rows.table}",1]`);
    expect(update1.key).toBe(insert1.key);
    expect(delete2.key).toBe(insert2.key);
    expect(truncate.key).toBe(`["public.${rows.table}"]`);
    expect(otherMessage!.key).toBe(`["public.${other}"]`);
    for (const m of read) expect(m.partition).toBe(murmur2Partition(Buffer.from(m.key!), 3));
    expect(update1.partition).toBe(insert1.partition);
    expect(update1.offset).toBeGreaterThan(insert1.offset);

    streamer.proc.kill('SIGTERM');
    expect(await streamer.exited).toBe(0);
  }, 120_000);

  test('kill -9 while rows commit: after a restart every committed row is in the topic at least once', async () => {
    const sql = pg.sql({ max: 2 });
    const stream = await createStream(sql, 'pgk_crash', 'id int primary key, payload text');
    slots.push(stream.slot);
    const topic = await kafka.createTopic({ prefix: 'pgk-crash', partitions: 3 });
    const dir = newDir();
    const config = pgToKafka(dir, stream, kafka.server.brokers, `topicFallback = "${topic}"`, 'batchSize = 200');
    const first = start(dir, config, 'first');
    await first.waitForLog('Streaming from');

    let committed = 0;
    let writing = true;
    const writer = (async () => {
      for (let id = 1; writing; id++) {
        await sql.unsafe(`insert into ${stream.table} values (${id}, repeat('x', 200))`);
        committed = id;
      }
    })();
    await waitFor('some rows in Kafka', async () => (await topicSize(kafka.server.brokers, topic)) > 200, 30_000);
    first.proc.kill('SIGKILL');
    await first.exited;
    const atKill = await topicSize(kafka.server.brokers, topic);
    await Bun.sleep(300); // rows keep committing while nothing streams

    const second = start(dir, config, 'second');
    await second.waitForLog('Streaming from');
    await waitFor('more rows after the restart', async () => (await topicSize(kafka.server.brokers, topic)) > atKill + 200, 30_000);
    writing = false;
    await writer;
    await waitFor(`all ${committed} rows in Kafka`, async () => (await topicSize(kafka.server.brokers, topic)) >= committed, 60_000, () => second.stderr());
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const size = await topicSize(kafka.server.brokers, topic);
    const read: ReadMessage[] = await readTopic(kafka.server.brokers, topic, size, 60_000);
    expect(read.length).toBe(size);
    const ids = new Set(read.map((m) => (JSON.parse(m.value!) as { Columns: { id: number } }).Columns.id));
    const missing: number[] = [];
    for (let id = 1; id <= committed; id++) if (!ids.has(id)) missing.push(id);
    expect(missing).toEqual([]);
    // A change in the topic twice has the same UUID and value but Timestamp both times, and the
    // UUID docs/kafka.md ("Event identity (UUID)") derives; no two changes share one.
    const [system] = await sql`SELECT system_identifier::text AS id FROM pg_control_system()`;
    const identity = EventIdentity.of(system!.id as string, stream.slot);
    const firstValue = new Map<string, string>();
    const changeOf = new Map<string, string>();
    for (const m of read) {
      const value = JSON.parse(m.value!) as { UUID: string; TxIndex: number };
      const commitLsn = BigInt(/"CommitLSN":(\d+)/.exec(m.value!)![1]!);
      const change = `${commitLsn} #${value.TxIndex}`;
      expect({ change, uuid: value.UUID }).toEqual({ change, uuid: identity.stream(commitLsn, value.TxIndex) });
      const json = withoutTimestamp(m.value!);
      expect(firstValue.get(change) ?? json).toBe(json);
      firstValue.set(change, json);
      expect(changeOf.get(value.UUID) ?? change).toBe(change);
      changeOf.set(value.UUID, change);
    }
    expect(firstValue.size).toBe(ids.size);
    process.stderr.write(`[pg-to-kafka kill -9] ${committed} rows committed, ${size} messages (${size - ids.size} duplicates of rows in flight at the kill, each with its first UUID)\n`);
  }, 180_000);
});

describe('bad Kafka configuration', () => {
  test('a mapped topic equal to the fallback: `check` names the key and what to do', async () => {
    const dir = newDir();
    const file = join(dir, 'bad.toml');
    await Bun.write(file, pgToKafka(dir, { publication: 'pub', slot: 'slot' }, ['127.0.0.1:9092'], `tableTopicMapping = { users = "events" }
topicFallback = "events"`));
    const child = Bun.spawn([process.execPath, join(repoRoot, 'src', 'main.ts'), 'check', '-config', file], { stdout: 'pipe', stderr: 'pipe' });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(code).toBe(2);
    expect(out + err).toContain('sink.kafka.tableTopicMapping: "users" maps to "events", which is also topicFallback: remove the entry or choose another topic');
  }, 30_000);

  test('an unreachable broker: an error line in the log and the reason in /status', async () => {
    const sql = pg.sql();
    const stream = await createStream(sql, 'pgk_nobroker', 'id int primary key');
    slots.push(stream.slot);
    const dir = newDir();
    const streamer = start(dir, pgToKafka(dir, stream, ['127.0.0.1:1'], 'topicFallback = "t"\ntimeout = "500ms"'), 'nobroker');
    await streamer.waitForLog('Sink-Kafka (kafka): cannot reach broker 127.0.0.1:1: connection refused');
    const url = await streamer.httpUrl();
    let body = '';
    await waitFor('/status to name the broker', async () => {
      const response = await fetch(`${url}/status`);
      body = await response.text();
      return response.status === 500 && body.includes('Sink-Kafka (kafka): connecting: cannot reach broker 127.0.0.1:1: connection refused');
    }, 20_000, () => body);
    streamer.proc.kill('SIGTERM');
    await streamer.exited;
  }, 60_000);
});
