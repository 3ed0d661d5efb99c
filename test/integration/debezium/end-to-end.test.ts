/**
 * The Debezium format end to end through the whole program (src/main.ts as a child process):
 * PostgreSQL with a snapshot → a file sink with `format = "debezium"`, → a Kafka sink with
 * `handlers = ["debezium"]` and Debezium's topic names, → a NATS sink with `handlers = ["debezium"]`
 * and Debezium's names as subjects (a real nats-server), and → an HTTP sink with
 * `handlers = ["debezium"]` (a real receiver). A row present before the start arrives as op "r",
 * then c, u (with an unchanged TOAST column), d with its tombstone (Kafka and file only), and t.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { murmur2Partition } from '../../../src/kafka/protocol/partitioner.ts';
import { postgresSourceToml, sinkToml, streamerToml } from '../../helpers/configs.ts';
import { readTopic } from '../../helpers/kafka-sink.ts';
import { createTopic, useKafka } from '../../helpers/kafka.ts';
import { startReceiver } from '../../helpers/http-receiver.ts';
import { readStream, streamSize, useNats } from '../../helpers/nats.ts';
import { uniqueName, usePostgres } from '../../helpers/pg.ts';
import { preparePublication } from '../../helpers/postgres-source.ts';
import { completeLines, killChildrenAndDropSlots, startStreamer, useTempDirs, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const children: StreamerProcess[] = [];
const slots: string[] = [];
afterAll(async () => {
  await killChildrenAndDropSlots(children, slots, pg.sql());
});
const kafka = useKafka();
const nats = useNats();
const pg = usePostgres();
const newDir = useTempDirs('psql-streamer-debezium-');

interface Line {
  topic: string;
  key: Record<string, unknown> | null;
  value: null | { op: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null; source: Record<string, unknown> };
}

/** A table with one row already in it (a snapshot row), a stream for it, and the changes made once streaming. */
async function prepare(prefix: string) {
  const sql = pg.sql();
  // The row goes in before the slot exists, so only the snapshot copies it.
  const table = uniqueName(`${prefix}_t`);
  await sql.unsafe(`create table ${table} (id int primary key, amount numeric(10,2), at timestamptz, big text)`);
  await sql.unsafe(`alter table ${table} alter column big set storage external`);
  await sql.unsafe(`insert into ${table} values (1, 1.5, '2020-01-02 03:04:05+00', 'snap')`);
  const stream = { table, ...(await preparePublication(sql, [table])) };
  slots.push(stream.slot);
  const changes = async () => {
    await sql.unsafe(`insert into ${stream.table} values (2, -0.25, null, (select string_agg(md5(i::text), '') from generate_series(1, 100) i))`);
    await sql.unsafe(`update ${stream.table} set amount = 3 where id = 2`);
    await sql.unsafe(`delete from ${stream.table} where id = 1`);
    await sql.unsafe(`truncate ${stream.table}`);
  };
  return { stream, changes };
}

function source(stream: { publication: string; slot: string }) {
  return postgresSourceToml({ server: pg.server, publication: stream.publication, slot: stream.slot, source: 'startRetryInterval = "100ms"\nsnapshot = "initial"\n' });
}

/** The records the scenario gives, in order, as [op or "tombstone", key]. */
const EXPECTED = [['r', { id: 1 }], ['c', { id: 2 }], ['u', { id: 2 }], ['d', { id: 1 }], ['tombstone', { id: 1 }], ['t', null]];

function checkRecords(records: Line[], table: string, topic: string) {
  expect(records.map((r) => [r.value?.op ?? 'tombstone', r.key])).toEqual(EXPECTED);
  for (const r of records) expect(r.topic).toBe(topic);
  checkValues(records.flatMap((r) => (r.value === null ? [] : [r.value])), table);
}

/** The records' values (what the NATS and HTTP sinks send: no tombstones, no keys). */
function checkValues(values: Array<NonNullable<Line['value']>>, table: string, name = 'dbz') {
  expect(values.map((v) => v.op)).toEqual(EXPECTED.map(([op]) => op as string).filter((op) => op !== 'tombstone'));
  const [snap, create, update, del] = values.map((value) => ({ value }));
  expect(snap!.value!.after).toEqual({ id: 1, amount: '1.50', at: '2020-01-02T03:04:05.000000Z', big: 'snap' });
  expect(snap!.value!.source).toMatchObject({ connector: 'postgresql', name, schema: 'public', table, snapshot: 'true', version: '3.6.1.Final' });
  expect(create!.value!.after).toMatchObject({ id: 2, amount: '-0.25', at: null });
  expect(create!.value!.source).toMatchObject({ snapshot: 'false', db: pg.server.database });
  expect(typeof create!.value!.source.txId).toBe('number');
  expect(update!.value!.after).toEqual({ id: 2, amount: '3.00', at: null, big: '__debezium_unavailable_value' });
  expect(del!.value!.before).toEqual({ id: 1, amount: null, at: null, big: null });
  expect(del!.value!.after).toBeNull();
}

describe('the Debezium format through src/main.ts', () => {
  test('file sink, format = "debezium", decimal.handling.mode string', async () => {
    const { stream, changes } = await prepare('dbzfile');
    const dir = newDir();
    const out = join(dir, 'out.jsonl');
    const config = streamerToml({
      state: join(dir, 'state.db'),
      sections: [source(stream), sinkToml('out', 'file', `path = "${out}"\nformat = "debezium"\ndebeziumTopicPrefix = "dbz"\ndebeziumDecimalHandlingMode = "string"`)],
    });
    const streamer = startStreamer(dir, config, 'dbz-file');
    children.push(streamer);
    await waitFor('the snapshot row', () => completeLines(out).length >= 1, 30_000);
    await changes();
    await waitFor('every record', () => completeLines(out).length >= EXPECTED.length, 30_000, () => completeLines(out).join('\n'));
    const lines = completeLines(out).map((l) => JSON.parse(l) as Line);
    checkRecords(lines, stream.table, `dbz.public.${stream.table}`);
  }, 90_000);

  test('Kafka sink, handlers = ["debezium"], Debezium topic names, key partitioning', async () => {
    const { stream, changes } = await prepare('dbzkafka');
    const prefix = `dbz`;
    const topic = `${prefix}.public.${stream.table}`;
    await createTopic(kafka.admin(), topic, 3);
    const dir = newDir();
    const config = streamerToml({
      state: join(dir, 'state.db'),
      sections: [source(stream), sinkToml('kafka', 'kafka', `hosts = ${JSON.stringify(kafka.server.brokers)}\nhandlers = ["debezium"]\ndebeziumTopics = true\ndebeziumTopicPrefix = "${prefix}"\ndebeziumDecimalHandlingMode = "string"`)],
    });
    const streamer = startStreamer(dir, config, 'dbz-kafka');
    children.push(streamer);
    await streamer.waitForLog('Streaming from');
    expect((await readTopic(kafka.server.brokers, topic, 1, 30_000)).length).toBe(1); // the snapshot row
    await changes();
    const messages = await readTopic(kafka.server.brokers, topic, EXPECTED.length, 30_000);
    // Each key's messages are in one partition, the one murmur2 of the key bytes gives (as Kafka Connect's default).
    for (const m of messages) if (m.key !== undefined) expect(m.partition).toBe(murmur2Partition(Buffer.from(m.key), 3));
    const ordered = [...messages].sort((a, b) => Number(BigInt(a.timestamp) - BigInt(b.timestamp)) || a.partition - b.partition || Number(a.offset - b.offset));
    const records = ordered.map((m): Line => ({ topic: m.topic, key: m.key === undefined ? null : JSON.parse(m.key), value: m.value === undefined ? null : JSON.parse(m.value) }));
    // Order across partitions is not defined: compare per key, in partition order.
    const byKey = (rs: Line[]) => rs.map((r) => `${JSON.stringify(r.key)} ${r.value?.op ?? 'tombstone'}`).sort();
    expect(byKey(records)).toEqual(EXPECTED.map(([op, key]) => `${JSON.stringify(key)} ${op}`).sort());
    for (const m of messages) expect(m.headers['psql-streamer-source']).toBe('db1');
    const tombstone = messages.find((m) => m.value === undefined)!;
    expect(tombstone.key).toBe('{"id":1}');
    const update = records.find((r) => r.value?.op === 'u')!;
    expect(update.value!.after).toEqual({ id: 2, amount: '3.00', at: null, big: '__debezium_unavailable_value' });
  }, 90_000);

  test('NATS sink, handlers = ["debezium"], Debezium names as subjects: the values, no tombstone', async () => {
    const { stream, changes } = await prepare('dbznats');
    const jetStream = await nats.createStream('DBZ'); // captures "<name>.>": the prefix is the stream's name
    const nc = await nats.connection();
    const dir = newDir();
    const config = streamerToml({
      state: join(dir, 'state.db'),
      sections: [source(stream), sinkToml('nats', 'nats', `servers = ["${nats.server.url}"]\nhandlers = ["debezium"]\ndebeziumSubjects = true\ndebeziumTopicPrefix = "${jetStream}"\ndebeziumDecimalHandlingMode = "string"\nstream = "${jetStream}"`)],
    });
    const streamer = startStreamer(dir, config, 'dbz-nats');
    children.push(streamer);
    await waitFor('the snapshot row', async () => (await streamSize(nc, jetStream)) >= 1, 30_000);
    await changes();
    await waitFor('every record', async () => (await streamSize(nc, jetStream)) >= EXPECTED.length - 1, 30_000);
    const messages = await readStream(nc, jetStream);
    for (const m of messages) expect(m.subject).toBe(`${jetStream}.public.${stream.table}`);
    expect(new Set(messages.map((m) => m.msgId)).size).toBe(messages.length);
    checkValues(messages.map((m) => JSON.parse(m.data)), stream.table, jetStream);
  }, 90_000);

  test('HTTP sink, handlers = ["debezium"], json_array: the values as the items, no tombstone', async () => {
    const { stream, changes } = await prepare('dbzhttp');
    const receiver = startReceiver();
    try {
      const dir = newDir();
      const config = streamerToml({
        state: join(dir, 'state.db'),
        sections: [source(stream), sinkToml('hook', 'http', `url = "${receiver.url}/cdc"\nformat = "json_array"\nhandlers = ["debezium"]\ndebeziumTopicPrefix = "dbz"\ndebeziumDecimalHandlingMode = "string"`)],
      });
      const streamer = startStreamer(dir, config, 'dbz-http');
      children.push(streamer);
      await waitFor('the snapshot row', () => receiver.accepted().length >= 1, 30_000);
      await changes();
      await waitFor('every record', () => receiver.accepted().length >= EXPECTED.length - 1, 30_000, () => JSON.stringify(receiver.accepted()));
      const values = receiver.accepted() as unknown as Array<NonNullable<Line['value']>>;
      for (const v of values) expect(v.source).toMatchObject({ name: 'dbz', table: stream.table });
      checkValues(values, stream.table);
    } finally {
      await receiver.stop();
    }
  }, 90_000);
});
