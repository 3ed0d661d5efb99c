/**
 * Benchmark of the Kafka sink alone: N events built in memory (8 columns, ~450-byte values, their
 * passthrough bytes and key values prebuilt as the PostgreSQL source builds them), written by a
 * KafkaSink in batches of --batch to a topic of 3 partitions, acks=all, one batch after the other as
 * the pipeline delivers them. Prints events/s and this process's CPU µs per event while writing
 * (the sink, the Kafka client, garbage collection), peak RSS, the time of each write (p50 / p90 /
 * p99) and, with its own broker, the broker's CPU per write (and at rest, measured for 2 s before
 * each mode; a fresh broker's JIT warms up over the first thousands of transactions, so give a
 * mode several times: `--modes exactly-once,exactly-once,exactly-once`, each with transactional ids
 * of its own). Building the events is not timed.
 *
 * --modes compares delivery modes in one run, one after the other on the same events:
 * `at-least-once` (the default sink), `exactly-once` (`exactlyOnce = true`: one transaction per
 * batch with its position), `library-txn` (@platformatic/kafka's own transactional producer: one
 * transaction per batch through its `send`, without a position commit; the alternative to our
 * produce path that docs/benchmarks.md weighs). Peak RSS is the process's, so it grows with each mode.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 bun bench/kafka-sink.ts [--events N] [--batch N] [--compression C] [--key row|original|none]
 *       [--modes at-least-once,exactly-once,library-txn]
 *   bun bench/kafka-sink.ts ...           # starts a private broker with scripts/kafka/start
 *   bun --cpu-prof --cpu-prof-dir=DIR bench/kafka-sink.ts ...
 */
import { Admin, Producer } from '@platformatic/kafka';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChangeEvent } from '../src/event/event.ts';
import { Logger } from '../src/core/logger.ts';
import { createMetrics } from '../src/metrics/catalogue.ts';
import { encodePassthrough } from '../src/event/passthrough.ts';
import { rowKey } from '../src/event/key.ts';
import { KafkaSink } from '../src/sinks/kafka/sink.ts';
import type { KafkaSinkOptions } from '../src/sinks/kafka/spec.ts';
import { kafkaSinkDefaults, runScript } from './lib/kafka.ts';
import { sampleProc } from './lib/proc.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '5000' },
    compression: { type: 'string', default: 'none' },
    key: { type: 'string', default: 'row' },
    modes: { type: 'string', default: 'at-least-once' },
  },
});
const MODES = ['at-least-once', 'exactly-once', 'library-txn'] as const;
type Mode = (typeof MODES)[number];
const modes = args.modes.split(',') as Mode[];
for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`--modes: unknown mode ${mode} (expected ${MODES.join(', ')})`);
const total = Number(args.events);
const batchSize = Number(args.batch);


const own = process.env.KAFKA_BROKERS ? undefined : await runScript('kafka/start', ['--private']);
const brokers = (process.env.KAFKA_BROKERS ?? own?.KAFKA_BROKERS ?? '').split(',');
const topic = `bench-sink-${Date.now().toString(36)}`;
const utf8 = new TextEncoder();

/** Event `i`, in transactions of 1000 (one commit LSN each), with the bytes the source would have built. */
function event(i: number): ChangeEvent {
  const tx = Math.floor(i / 1000);
  const e: ChangeEvent = {
    source: 'db1', host: 'db1.example', database: 'bench', schema: 'public', table: 'bench_rows', action: 'insert',
    lsn: 23_861_144n + BigInt(i) * 120n, commitLsn: 23_861_144n + BigInt(tx) * 120_000n, txIndex: i % 1000, xid: 1000 + tx,
    commitTime: '2026-11-26T01:02:03.456789Z', timestamp: '2026-11-26T02:02:03.456789123+01:00',
    uuid: `${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}-9c0b-4ef8-bb6d-${i.toString(16).padStart(12, '0')}`,
    columns: {
      id: i + 1, big: 9_000_000_000_000 + i, label: `row ${i} of the benchmark`, amount: `${i % 1000}.25`, flag: i % 2 === 0,
      created_at: '2026-11-26T01:02:03.456789+00:00', doc: `{"n": ${i}, "tags": ["a", "b"]}`, ref: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    },
    key: ['id'],
  };
  e.encoded = utf8.encode(encodePassthrough(e));
  e.rowKeyJson = utf8.encode(rowKey(e));
  return e;
}

let runs = 0;

function options(mode: Mode): KafkaSinkOptions {
  runs++; // each run its own transactional ids: a mode given twice writes its batches again
  return {
    ...kafkaSinkDefaults(), hosts: brokers, handlers: ['passthrough'], topicFallback: topic,
    batchSize, compression: args.compression, key: args.key, exactlyOnce: mode === 'exactly-once',
    transactionalId: `bench-${topic}-${runs}-{source}`, positionTopic: `${topic}-positions`,
  };
}

/** A writer of one mode: write(batch) as the pipeline calls it, and close. */
interface Writer {
  write(batch: readonly ChangeEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** @platformatic/kafka's transactional producer: one transaction per batch, messages built from the events' prebuilt bytes. */
function libraryTransactions(): Writer {
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    clientId: 'bench-library-txn', bootstrapBrokers: brokers, idempotent: true, transactionalId: `bench-lib-${topic}`, acks: -1,
    compression: args.compression as 'none',
  });
  return {
    async write(batch) {
      const txn = await producer.beginTransaction();
      // At most 1,000 messages per send: the library puts a send's messages of a partition in one
      // record batch, and 5,000 of these exceed the brokers' 1 MiB.
      for (let i = 0; i < batch.length; i += 1000) {
        await txn.send({
          messages: batch.slice(i, i + 1000).map((e) => ({
            topic, key: Buffer.from(e.rowKeyJson!), value: Buffer.from(e.encoded!),
            headers: new Map([[Buffer.from('psql-streamer-source'), Buffer.from(e.source)]]),
          })),
          acks: -1,
        });
      }
      await txn.commit();
    },
    close: () => producer.close(),
  };
}

function writerFor(mode: Mode): Writer {
  if (mode === 'library-txn') return libraryTransactions();
  return new KafkaSink('bench', options(mode), Logger.for('Sink-Kafka', 'bench'), createMetrics());
}

/** The private broker's process (scripts/kafka/start records it), to measure its CPU per write. */
const BROKER_PID = own?.PSQL_STREAMER_KAFKA_DIR ? Number(await Bun.file(join(own.PSQL_STREAMER_KAFKA_DIR, 'pid')).text()) || undefined : undefined;
const brokerCpuUs = () => (BROKER_PID === undefined ? 0 : sampleProc(BROKER_PID)?.cpuUs ?? 0);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((q / 100) * xs.length))] ?? NaN;

try {
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: brokers });
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  await admin.close();
  const batches: ChangeEvent[][] = [];
  for (let i = 0; i < total; i += batchSize) batches.push(Array.from({ length: Math.min(batchSize, total - i) }, (_, j) => event(i + j)));
  for (const mode of modes) {
    const sink = writerFor(mode);
    await sink.write([{ ...event(total + 1), commitLsn: 1n, txIndex: 0 }]); // connect, metadata, JIT warm-up; before every batch's position
    Bun.gc(true);

    // The broker's CPU at rest (per second), then while this mode writes.
    const idleBefore = brokerCpuUs();
    await Bun.sleep(2000);
    const idleUsPerSec = (brokerCpuUs() - idleBefore) / 2;
    const brokerBefore = brokerCpuUs();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const writeMs: number[] = [];
    for (const batch of batches) {
      const t = performance.now();
      await sink.write(batch);
      writeMs.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const brokerUs = brokerCpuUs() - brokerBefore;
    await sink.close();
    const cpuUs = (used.user + used.system) / total;
    console.log(
      `kafka sink ${mode}: ${total.toLocaleString('en')} events in batches of ${batchSize} (compression ${args.compression}, key ${args.key}): ` +
        `${Math.round(total / seconds).toLocaleString('en')} events/s, CPU ${cpuUs.toFixed(2)} µs/event (system ${(used.system / total).toFixed(2)}), peak RSS ${((sampleProc(process.pid)?.hwmKb ?? 0) / 1024).toFixed(1)} MB; ` +
        `write ms p50 / p90 / p99 ${[50, 90, 99].map((q) => quantile(writeMs, q).toFixed(2)).join(' / ')}` +
        (BROKER_PID === undefined ? '' : `; broker CPU ${(brokerUs / batches.length).toFixed(0)} µs/write (${(brokerUs / total).toFixed(2)} µs/event; at rest ${(idleUsPerSec / 1000).toFixed(1)} ms/s, ${((idleUsPerSec * seconds) / batches.length).toFixed(0)} µs/write of it)`),
    );
  }
} finally {
  if (own?.PSQL_STREAMER_KAFKA_DIR) await runScript('kafka/stop', ['--dir', own.PSQL_STREAMER_KAFKA_DIR]);
}
