#!/usr/bin/env bun
/**
 * CPU per single-row transaction of the stream path, in one process (docs/benchmarks.md, "CPU per
 * transaction at steady rates"): what `scripts/bench-kafka --phases latency` spends per transaction
 * without the socket reads, the walsender and the other processes of a shared machine, counted in
 * this process's CPU time (all threads), which is far steadier than a latency run.
 *
 * Every millisecond, rate/1000 transactions arrive as the walsender sends them at such rates: the
 * CopyData payloads XLogData(Begin), XLogData(Insert of one row of bench/lib/bench-table.ts's
 * table), XLogData(Commit) and a primary keepalive (PostgreSQL sends one each time it waits for
 * WAL), handed to the source's ChangeDispatch as its session does → Pipeline (batchSize 1000,
 * batchFlushInterval 5 ms as the latency phase sets them) → the sink → acknowledgement →
 * PositionTracker → SQLite state store (a file in a temporary directory).
 *
 *   bun bench/tx-loop.ts [--rate N] [--seconds N] [--warmup N] [--sink kafka|none] [--runs N]
 *
 * `--sink kafka` (default) writes to a topic of 3 partitions on $KAFKA_BROKERS, or on a private
 * broker started with scripts/kafka/start; `--sink none` acknowledges each batch at once (the source
 * and pipeline alone). Prints CPU µs per transaction per run, and the median.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { Logger } from '../src/core/logger.ts';
import { realTimers } from '../src/core/timers.ts';
import type { ChangeEvent } from '../src/event/event.ts';
import { createMetrics } from '../src/metrics/catalogue.ts';
import type { PgoutputMessage } from '../src/pgoutput/messages.ts';
import { Pipeline, type PipelineSink } from '../src/pipeline/pipeline.ts';
import type { Lsn } from '../src/replication/lsn.ts';
import { KafkaSink } from '../src/sinks/kafka/sink.ts';
import type { KafkaSinkOptions } from '../src/sinks/kafka/spec.ts';
import { ChangeDispatch } from '../src/sources/postgres/dispatch.ts';
import { PositionTracker } from '../src/sources/postgres/position-tracker.ts';
import { PostgresSourceMetrics } from '../src/sources/postgres/source-metrics.ts';
import { WalWatch } from '../src/sources/postgres/wal-watch.ts';
import type { PgPosition } from '../src/sources/postgres/snapshot/mark.ts';
import { openSqliteStateStore } from '../src/state/sqlite-store.ts';
import { encodePgoutput, FrameWriter } from '../test/helpers/pgoutput-frames.ts';
import { kafkaSinkDefaults, runScript } from './lib/kafka.ts';
import { median, threadCpuMs } from './lib/proc.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    sink: { type: 'string', default: 'kafka' },
    runs: { type: 'string', default: '3' },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const RUNS = Number(args.runs);


// ---- the stream: payloads as the walsender sends them ----

const RELATION_ID = 16_390;
const PG_EPOCH_MS = 946_684_800_000;

function xlogData(walStart: bigint, message: PgoutputMessage): Uint8Array {
  return new FrameWriter().char('w').u64(walStart).u64(walStart).u64(0n).raw(encodePgoutput(message)).finish();
}

function keepalive(walEnd: bigint): Uint8Array {
  return new FrameWriter().char('k').u64(walEnd).u64(0n).u8(0).finish();
}

/** Transaction number `n`'s payloads: Begin, Insert, Commit, keepalive; it takes 512 bytes of WAL. */
function transaction(n: number): Uint8Array[] {
  const start = 0x1_0000_0000n + BigInt(n) * 512n;
  const commitLsn = start + 400n;
  const endLsn = start + 512n;
  const commitTime = BigInt(Date.now() - PG_EPOCH_MS) * 1000n + BigInt(n % 1000);
  const g = n + 1;
  const row = [
    String(g), String(g * 1000003), `customer ${g} 0cc175b9c0f1b6a831c399e269772661`, `${g % 100000}.${g % 100}`,
    g % 2 === 0 ? 't' : 'f', '2024-01-01 00:00:01.5+00', `{"id": ${g}, "ok": false, "tags": ["a", "b"]}`,
    '0cc175b9-c0f1-b6a8-31c3-99e269772661',
  ];
  return [
    xlogData(start, { tag: 'begin', finalLsn: commitLsn, commitTime, xid: 1000 + n }),
    xlogData(start + 40n, { tag: 'insert', xid: undefined, relationId: RELATION_ID, newTuple: row }),
    xlogData(commitLsn, { tag: 'commit', flags: 0, commitLsn, endLsn, commitTime }),
    keepalive(endLsn),
  ];
}

const relation = xlogData(0x1_0000_0000n - 512n, {
  tag: 'relation', relationId: RELATION_ID, namespace: 'public', name: 'bench_latency', replicaIdentity: 'd',
  columns: [
    { flags: 1, name: 'id', typeOid: 23, typeModifier: -1 },
    { flags: 0, name: 'big', typeOid: 20, typeModifier: -1 },
    { flags: 0, name: 'txt', typeOid: 25, typeModifier: -1 },
    { flags: 0, name: 'num', typeOid: 1700, typeModifier: -1 },
    { flags: 0, name: 'flag', typeOid: 16, typeModifier: -1 },
    { flags: 0, name: 'ts', typeOid: 1184, typeModifier: -1 },
    { flags: 0, name: 'doc', typeOid: 3802, typeModifier: -1 },
    { flags: 0, name: 'uid', typeOid: 2950, typeModifier: -1 },
  ],
} as PgoutputMessage);

// ---- the parts of a PostgreSQL source, and its pipeline ----

function sinkOptions(brokers: string[], topic: string): KafkaSinkOptions {
  return { ...kafkaSinkDefaults(), hosts: brokers, handlers: ['passthrough'], topicFallback: topic, key: 'row' };
}

/** A sink that takes every batch at once. */
const noSink: PipelineSink = { name: 'none', write: () => Promise.resolve(), mergeEvents: undefined };

/** CPU ms by thread group between two threadCpuMs() readings. */
function threadDelta(before: Record<string, number>, after: Record<string, number>): string {
  return Object.entries(after).map(([name, ms]) => [name, ms - (before[name] ?? 0)] as const).filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1]).map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(', ');
}

async function run(index: number, sink: PipelineSink & { close?(): Promise<void> }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'psql-streamer-tx-loop-'));
  const store = openSqliteStateStore(join(dir, 'state.db'));
  const metrics = createMetrics();
  const log = Logger.for('Source-PSQL', 'bench');
  const wal = new WalWatch('bench', {
    slotMonitorIntervalMs: 0, heartbeatIntervalMs: 0, heartbeatPrefix: 'psql-streamer-heartbeat', heartbeatEvents: false,
    budget: { warnBytes: 0, maxBytes: 0, action: 'wait' },
  }, { metrics, slot: 'bench', connection: {} as never, log, onSample: () => {}, onBudgetStop: () => {} });
  const tracker = new PositionTracker({
    name: 'bench', store, timers: realTimers, walRetain: 0, component: 'bench',
    onDelivered: (position) => wal.delivered(position), onBackgroundFailure: (err) => { throw err; },
  });
  tracker.load(0n);
  const dispatch = new ChangeDispatch({
    name: 'bench', sourceType: 'Source-PSQL', eventHost: 'localhost', eventDatabase: 'bench', connection: {} as never, log,
    tracker, wal, metrics: new PostgresSourceMetrics(metrics, 'bench', 'Source-PSQL'), sendStatus: () => {}, closeSession: () => {},
  });
  const pipeline = new Pipeline<PgPosition>({
    name: 'bench', source: { ack: (positions) => tracker.ack(positions as Lsn[]) }, sinks: [sink], log: Logger.for('Pipeline', 'bench'), metrics,
    batchSize: 1000, batchFlushIntervalMs: 5, sendRetryIntervalMs: 100, maxRetryIntervalMs: 1000,
    maxBufferedEvents: 100_000, maxBufferedBytes: 256 * 2 ** 20,
  });
  dispatch.valve.output = pipeline;
  dispatch.begin({ pause() {}, resume() {} }, 1, 0n, { systemId: '7000000000000000000', slot: 'bench' });
  dispatch.onCopyData(relation, 0, relation.length);

  // Prebuilt payloads (building them is not what is measured), each used once: LSNs grow.
  const total = (WARMUP + SECONDS) * RATE;
  const prebuilt = Array.from({ length: total }, (_, i) => transaction(index * 10_000_000 + i));
  let n = 0;
  const feed = (count: number) => {
    for (let i = 0; i < count; i++) {
      for (const payload of prebuilt[n]!) dispatch.onCopyData(payload, 0, payload.length);
      n++;
    }
  };
  const perTick = RATE / 1000;
  const measuredFrom = WARMUP * RATE;
  let cpuStart = process.cpuUsage();
  let threadsStart = threadCpuMs(process.pid);
  let measuredTx = 0;
  await new Promise<void>((resolve) => {
    const started = performance.now();
    const tick = () => {
      // As many as are due by now: a late timer catches up, as a socket read would bring them all.
      const due = Math.min(total, Math.floor(((performance.now() - started) * perTick)));
      if (n < measuredFrom && due >= measuredFrom) {
        feed(measuredFrom - n);
        cpuStart = process.cpuUsage();
        threadsStart = threadCpuMs(process.pid);
      }
      if (due > n) feed(due - n);
      if (n >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  measuredTx = n - measuredFrom;
  await pipeline.drain();
  const used = process.cpuUsage(cpuStart);
  if (process.env.TX_LOOP_THREADS) console.log(`  threads (ms): ${threadDelta(threadsStart, threadCpuMs(process.pid))}; system ${(used.system / 1000).toFixed(0)} ms`);
  pipeline.close();
  await tracker.close();
  // Every transaction was delivered and acknowledged: the last one's end is persisted.
  const last = 0x1_0000_0000n + BigInt(index * 10_000_000 + total) * 512n;
  if (tracker.persisted !== last) throw new Error(`persisted ${tracker.persisted}, expected ${last}`);
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return (used.user + used.system) / measuredTx;
}

const own = args.sink === 'kafka' && !process.env.KAFKA_BROKERS ? await runScript('kafka/start', ['--private']) : undefined;
try {
  let sink: PipelineSink & { close?(): Promise<void> } = noSink;
  if (args.sink === 'kafka') {
    const brokers = (process.env.KAFKA_BROKERS ?? own?.KAFKA_BROKERS ?? '').split(',');
    const topic = `bench-tx-loop-${Date.now().toString(36)}`;
    const admin = new Admin({ clientId: 'bench', bootstrapBrokers: brokers });
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    await admin.close();
    const kafka = new KafkaSink('bench', sinkOptions(brokers, topic), Logger.for('Sink-Kafka', 'bench'), createMetrics());
    const warm: ChangeEvent = {
      source: 'bench', host: 'localhost', database: 'bench', schema: 'public', table: 'warm', action: 'insert', lsn: 1n,
      uuid: '00000000-0000-4000-8000-000000000000', columns: { id: 1 }, key: ['id'], timestamp: '', commitTime: '', txIndex: 0,
    } as ChangeEvent;
    await kafka.write([warm]);
    sink = kafka;
  }
  const results: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    Bun.gc(true);
    const us = await run(i, sink);
    results.push(us);
    console.log(`tx-loop run ${i + 1}: ${RATE.toLocaleString('en')} tx/s, sink ${args.sink}: ${us.toFixed(2)} CPU µs/transaction`);
  }
  console.log(`tx-loop: median ${median(results).toFixed(2)} CPU µs/transaction (runs ${results.map((r) => r.toFixed(2)).join(', ')})`);
  await sink.close?.();
} finally {
  if (own?.PSQL_STREAMER_KAFKA_DIR) await runScript('kafka/stop', ['--dir', own.PSQL_STREAMER_KAFKA_DIR]);
}
