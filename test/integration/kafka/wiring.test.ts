/**
 * Wiring through src/main.ts: one sink fed by a PostgreSQL source and a Kafka source together, one
 * source feeding several sinks, and each source acknowledging on its own (a sink stuck for the
 * Kafka source does not hold the PostgreSQL source back).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { kafkaSourceToml, postgresSourceToml, sinkToml, streamerToml } from '../../helpers/configs.ts';
import { createStream, usePostgres, type PgServer } from '../../helpers/pg.ts';
import { completeLines, killChildren, readPersisted, startStreamer, useTempDirs, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';
import { committedOffsets, originalEventJson, produce } from '../../helpers/kafka-source.ts';

const kafka = useKafka();
const pg = usePostgres();
const children: StreamerProcess[] = [];
afterAll(() => killChildren(children));
const newDir = useTempDirs('psql-streamer-wiring-');

interface Table {
  table: string;
  publication: string;
  slot: string;
}

function config(dir: string, server: PgServer, stream: Table, topic: string, group: string, sinks: string): string {
  return streamerToml({
    state: join(dir, 'state.db'),
    top: 'shutdownTimeout = "20s"',
    sections: [
      postgresSourceToml({ name: 'db', server, publication: stream.publication, slot: stream.slot, statusInterval: '500ms' }),
      kafkaSourceToml({ name: 'relay', brokers: kafka.server.brokers, topics: [topic], group }),
      sinks,
    ],
  });
}

const fileSink = (name: string, path: string, sources: string[]) => sinkToml(name, 'file', `path = "${path}"`, sources);

/** The Table of each JSON line of a file. */
function tables(path: string): string[] {
  if (!existsSync(path)) return [];
  return completeLines(path).map((line) => (JSON.parse(line) as { Table: string }).Table);
}

const count = (items: string[], value: string) => items.filter((item) => item === value).length;

async function setup(prefix: string): Promise<{ dir: string; stream: Table; topic: string; group: string }> {
  const dir = newDir();
  const stream = await createStream(pg.sql({ max: 1 }), `wiring_${prefix}`, 'id int primary key, note text');
  const topic = await kafka.createTopic({ prefix: `wiring-${prefix}`, partitions: 2 });
  return { dir, stream, topic, group: uniqueTopic(`wiring-${prefix}-group`) };
}

describe('wiring', () => {
  test('one sink fed by a PostgreSQL and a Kafka source; each source also feeds a sink of its own', async () => {
    const { dir, stream, topic, group } = await setup('shared');
    const [all, pgOnly, kafkaOnly] = ['all', 'pg', 'kafka'].map((name) => join(dir, `${name}.jsonl`)) as [string, string, string];
    const streamer = startStreamer(dir, config(dir, pg.server, stream, topic, group,
      fileSink('all', all, ['db', 'relay']) + fileSink('pgonly', pgOnly, ['db']) + fileSink('kafkaonly', kafkaOnly, ['relay'])), 'shared');
    children.push(streamer);
    await streamer.waitForLog('Streaming from', 30_000);

    await pg.sql({ max: 1 }).unsafe(`insert into ${stream.table} select g, 'row ' || g from generate_series(1, 10) g`);
    await produce(kafka.server.brokers, topic, Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: originalEventJson(i, 'relayed') })));

    await waitFor('both sources in the shared sink', () => {
      const t = tables(all);
      return count(t, stream.table) === 10 && count(t, 'relayed') === 10;
    }, 60_000, () => `all: ${tables(all).length} lines`);
    await waitFor('each source in its own sink', () => tables(pgOnly).length === 10 && tables(kafkaOnly).length === 10, 30_000);
    expect(count(tables(pgOnly), stream.table)).toBe(10);
    expect(count(tables(kafkaOnly), 'relayed')).toBe(10);

    // Each source made its own positions durable: the WAL position, and the offsets.
    await waitFor('the PostgreSQL position persisted', () => readPersisted(join(dir, 'state.db'), 'db') > 0n, 30_000);
    await waitFor('the offsets committed', async () => {
      const c = await committedOffsets(kafka.admin(), group);
      return c[`${topic}:0`] === 5 && c[`${topic}:1`] === 5;
    }, 30_000);

    streamer.proc.kill('SIGTERM');
    expect(await streamer.exited).toBe(0);
  }, 120_000);

  test('each source acknowledges on its own: a sink stuck for the Kafka source holds back only its offsets', async () => {
    const { dir, stream, topic, group } = await setup('stuck');
    const all = join(dir, 'all.jsonl');
    // /dev/full fails every write with ENOSPC, retried forever: the Kafka source's batches never complete.
    const streamer = startStreamer(dir, config(dir, pg.server, stream, topic, group,
      fileSink('all', all, ['db', 'relay']) + fileSink('full', '/dev/full', ['relay'])), 'stuck');
    children.push(streamer);
    await streamer.waitForLog('Streaming from', 30_000);

    await produce(kafka.server.brokers, topic, Array.from({ length: 4 }, (_, i) => ({ partition: i % 2, value: originalEventJson(i, 'relayed') })));
    await streamer.waitForLog("to sink 'full'", 60_000);
    const sql = pg.sql({ max: 1 });
    await sql.unsafe(`insert into ${stream.table} values (1, 'a')`);
    await sql.unsafe(`insert into ${stream.table} values (2, 'b')`);

    // The Kafka events reached the sink that works; the PostgreSQL source keeps delivering and
    // persisting while the Kafka source's batch is retried.
    await waitFor('both sources in the working sink', () => count(tables(all), 'relayed') >= 4 && count(tables(all), stream.table) === 2, 30_000);
    await waitFor('the PostgreSQL position persisted', () => readPersisted(join(dir, 'state.db'), 'db') > 0n, 30_000);
    const persisted = readPersisted(join(dir, 'state.db'), 'db');
    await sql.unsafe(`insert into ${stream.table} values (3, 'c')`);
    await waitFor('a later row delivered too', () => count(tables(all), stream.table) === 3, 30_000);
    await waitFor('the PostgreSQL position moved on', () => readPersisted(join(dir, 'state.db'), 'db') > persisted, 30_000);
    expect(await committedOffsets(kafka.admin(), group)).toEqual({});
    expect(streamer.stderr()).toMatch(/Unable to send batch \(\d+ events\) to sink 'full' \(retry \d+\): .*ENOSPC/);

    streamer.proc.kill('SIGKILL');
    await streamer.exited;
    expect(await committedOffsets(kafka.admin(), group)).toEqual({});
  }, 120_000);
});
