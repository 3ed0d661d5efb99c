#!/usr/bin/env bun
/**
 * Where a snapshot's CPU goes, stage by stage, in one process (docs/benchmarks.md, "Snapshots"):
 * the benchmark table (bench/lib/bench-table.ts, created and filled with --rows rows unless it is
 * there) read in chunks of --chunk-size rows as the snapshot reads them, then each stage on its own.
 * Prints CPU µs per row (this process's user + system time) for:
 *
 *   read      readChunk over our protocol code (DataRows kept where they arrived; plain TCP, where the
 *             product's default sslmode=prefer adds TLS against a server with TLS); the server's work
 *             is not counted, the wait for it is not CPU; "read (wall)" is the wall time per row,
 *             the server's work and the round trips included
 *   events    EventFactory.snapshotRow of every row, as table-copy.ts builds a chunk's events
 *             (snapshot identity: UUID from the row key), one timestamp per chunk
 *   file      the real file sink writing those events to /dev/null in batches of --batch
 *   kafka     the real Kafka sink (product defaults, key = row, 3 partitions) over a client that
 *             answers every request at once without sending it: routing, encoding, partitions,
 *             record batches and the sink's bookkeeping, in batches of --batch; the library's
 *             socket writes and answer parsing are not in it (bench/kafka-sink.ts has those)
 *
 * Each stage runs --passes times over the chunks read; the median pass is printed. Needs PostgreSQL
 * (PG* and PSQL_STREAMER_PG_BIN as `scripts/pg start` prints them):
 *
 *   bun bench/snapshot-stages.ts [--rows N] [--chunk-size N] [--batch N] [--passes N]
 */
import { parseArgs } from 'node:util';
import { Logger } from '../src/core/logger.ts';
import type { ChangeEvent } from '../src/event/event.ts';
import { EventIdentity } from '../src/event/identity.ts';
import { createMetrics } from '../src/metrics/catalogue.ts';
import { PgConnection } from '../src/pg/connection.ts';
import { SqlClient } from '../src/pg/sql-client.ts';
import { RelationCache } from '../src/pgoutput/relations.ts';
import { TypeRegistry } from '../src/pgtypes/index.ts';
import { FILE_FORMAT_DEFAULTS, fileSinkType } from '../src/sinks/file/file.ts';
import type { KafkaProducer, PartitionBatch, RequestOutcome } from '../src/sinks/kafka/client.ts';
import { KafkaSink } from '../src/sinks/kafka/sink.ts';
import { kafkaSinkDefaults } from './lib/kafka.ts';
import { EventFactory } from '../src/sources/postgres/events.ts';
import { readChunk, type ChunkHint, type ChunkRead } from '../src/sources/postgres/snapshot/chunk-reader.ts';
import { resolveSnapshotTables } from '../src/sources/postgres/snapshot/tables.ts';
import type { StateStore } from '../src/state/store.ts';
import { benchRowsSql, benchTableDdl } from './lib/bench-table.ts';
import { median } from './lib/proc.ts';
import { exitWithHelpIf, pgTargetFromEnv } from './lib/setup.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    'chunk-size': { type: 'string', default: '5000' },
    batch: { type: 'string', default: '4096' },
    passes: { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h' },
  },
});
exitWithHelpIf(args.help, import.meta.path);
const ROWS = Number(args.rows);
const CHUNK = Number(args['chunk-size']);
const BATCH = Number(args.batch);
const PASSES = Number(args.passes);
const PG = pgTargetFromEnv('scripts/pg start');
const TABLE = 'bench_snapshot_stages';
const PUBLICATION = 'bench_snapshot_stages_pub';

const connect = { host: PG.host, port: PG.port, user: PG.user, database: PG.database, params: { DateStyle: 'ISO', TimeZone: 'UTC', extra_float_digits: '3', IntervalStyle: 'postgres' } };
const client = await SqlClient.connect(connect as never);
const [present] = await client.query(`SELECT count(*)::text FROM pg_class WHERE relname = '${TABLE}'`);
if (present?.[0] === '0' || Number((await client.query(`SELECT count(*)::text FROM ${TABLE}`).catch(() => [['0']]))[0]?.[0]) !== ROWS) {
  await client.query(`DROP PUBLICATION IF EXISTS ${PUBLICATION}`);
  await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await client.query(benchTableDdl(TABLE));
  for (let from = 1; from <= ROWS; from += 100_000) await client.query(benchRowsSql(TABLE, String(from), String(Math.min(ROWS, from + 99_999))));
  await client.query(`VACUUM (FREEZE, ANALYZE) ${TABLE}`);
  await client.query(`CREATE PUBLICATION ${PUBLICATION} FOR TABLE ${TABLE}`);
}
const { tables } = await resolveSnapshotTables(client, [PUBLICATION], 'all');
const table = tables[0]!;
const conn = await PgConnection.connect(connect as never);

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const results = new Map<string, number[]>();
async function stage(name: string, rows: number, run: () => Promise<void> | void, wall = false): Promise<void> {
  Bun.gc(true);
  const before = cpu();
  const started = performance.now();
  await run();
  const add = (key: string, value: number) => results.set(key, [...(results.get(key) ?? []), value]);
  add(name, (cpu() - before) / rows);
  if (wall) add(`${name} (wall)`, ((performance.now() - started) * 1000) / rows);
}

let chunks: ChunkRead[] = [];
const types = new TypeRegistry();
const factory = new EventFactory('bench', PG.host, PG.database, types);
factory.setIdentity(EventIdentity.of('7301234567890123456', 'bench'), '7301234567890123456/bench');
const identity = factory.snapshotIdentity('initial', '2026-12-07T00:00:00.000Z');
const relation = new RelationCache().setRelation(table.relation);
const log = new Logger({ level: 'error' } as never);
const noStore = {} as StateStore;
const sink = await fileSinkType.create('devnull', { path: '/dev/null', fsync: false, ...FILE_FORMAT_DEFAULTS }, { log, store: noStore, metrics: createMetrics() } as never);

/** A client that knows one topic of 3 partitions and acknowledges every produce request at once (sends nothing). */
const KAFKA_PARTITIONS = 3;
const answering = {
  metadata: async ({ topics = [] }: { topics?: string[] }) => ({ topics: new Map(topics.map((t) => [t, { partitionsCount: KAFKA_PARTITIONS, lastUpdate: Date.now() }])) }),
  clearMetadata: () => {},
  close: async () => {},
  send: async () => { throw new Error('not used: the sink is not idempotent'); },
  produceBatches: async (batches: readonly PartitionBatch[]): Promise<RequestOutcome[]> => [{ partitionKeys: batches.map((b) => b.partitionKey) }],
  transactions: () => { throw new Error('not used'); },
} as unknown as KafkaProducer;
const kafka = new KafkaSink('bench', { ...kafkaSinkDefaults(), hosts: ['127.0.0.1:1'], handlers: ['passthrough'], topicFallback: 'bench', requiredAcks: -1 }, log, createMetrics(), { producer: answering });

/** A chunk's events as table-copy.ts builds them. */
function events(read: ChunkRead): ChangeEvent[] {
  const { data, starts, ends } = read.messages;
  const lsn = Number(read.walInsertLsn);
  const now = performance.now();
  const out: ChangeEvent[] = [];
  for (let i = 0; i < read.rows; i++) out.push(factory.snapshotRow(data[i]!, starts[i]!, ends[i]!, relation, lsn, now, identity));
  return out;
}

for (let pass = 0; pass < PASSES; pass++) {
  await stage('read', ROWS, async () => {
    chunks = [];
    let after: string[] | undefined;
    let hint: ChunkHint | undefined;
    for (;;) {
      const read = await readChunk(conn, table, after, undefined, { rows: CHUNK, bytes: 8 * 2 ** 20 }, hint);
      chunks.push(read);
      if (read.rows > 0) hint = { valueBytesPerRow: read.bytes / read.rows };
      if (read.complete) break;
      after = read.lastKey;
    }
  }, true);
  let built: ChangeEvent[] = [];
  await stage('events', ROWS, () => {
    built = [];
    for (const read of chunks) for (const event of events(read)) built.push(event);
  });
  await stage('file', ROWS, async () => {
    for (let at = 0; at < built.length; at += BATCH) await sink.write(built.slice(at, at + BATCH));
  });
  await stage('kafka', ROWS, async () => {
    for (let at = 0; at < built.length; at += BATCH) await kafka.write(built.slice(at, at + BATCH));
  });
}
await conn.close();
await client.close();
await sink.close();
await kafka.close();
const line = [...results].map(([name, list]) => `${name} ${median(list).toFixed(3)}`).join(', ');
process.stdout.write(`snapshot stages, ${ROWS} rows in chunks of ${CHUNK}, median of ${PASSES} passes, CPU µs/row: ${line}\n`);
