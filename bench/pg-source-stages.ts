#!/usr/bin/env bun
/**
 * Where the PostgreSQL source's CPU goes, stage by stage, in one process without I/O waits: real
 * pgoutput messages of the benchmark table (captured from the server with
 * pg_logical_slot_peek_binary_changes, wrapped in XLogData as the walsender sends them) go through
 * each stage of src/ on their own, cycling over the captured rows. Prints ns per event (CPU) for:
 *
 *   frame      decodeCopyBothMessage (XLogData header)
 *   decode     decodePgoutput (Insert → tuple)
 *   build      EventFactory.row (column names, type conversion, UUID, timestamps)
 *   metrics    the per-event Prometheus updates PostgresSource.pushEvent does (mirrored here)
 *   logArg     the verbose-log message PostgresSource.pushEvent formats for every event
 *   pipeline   Pipeline.push → batch → deliver to a no-op sink → ack
 *   encode     encodePassthrough (event → JSON)
 *   bytes      the file sink's batch → bytes (string concatenation + Buffer.from), and alternatives
 *   sink       the real file sink writing to /dev/null (encode + bytes + write + counters)
 *   chain      frame → decode → build → pipeline (→ metrics, → encode, → file sink), as the streamer
 *              runs it, on fresh events
 * and the heap each buffered event holds (against the pipeline's estimate). Needs PostgreSQL:
 * run it as `scripts/bench-pg stages [--events N] [--batch-size N]`. `--save-frames FILE` keeps the
 * captured messages; `bun bench/pg-source-stages.ts --frames FILE` runs again on them, without a server.
 */
import { parseArgs } from 'node:util';
import { encodePassthrough } from '../src/core/passthrough.ts';
import type { ChangeEvent } from '../src/core/event.ts';
import { Logger } from '../src/core/logger.ts';
import { processingTimestamp } from '../src/core/time.ts';
import { sourceEventProcessingTime, sourceEvents } from '../src/http/metrics.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { estimateEventBytes } from '../src/pipeline/estimate-bytes.ts';
import { decodePgoutput } from '../src/pgoutput/decode.ts';
import type { Insert, PgoutputMessage } from '../src/pgoutput/messages.ts';
import { RelationCache, type RelationInfo } from '../src/pgoutput/relations.ts';
import { EventFactory } from '../src/postgres/events.ts';
import { decodeCopyBothMessage, type XLogData } from '../src/replication/copy-both.ts';
import { formatLsn } from '../src/replication/lsn.ts';
import { fileSinkType } from '../src/sinks/file.ts';
import type { Sink } from '../src/sinks/sink.ts';
import type { StateStore } from '../src/state/store.ts';
import { TypeRegistry } from '../src/types/index.ts';
import { framesFor } from './lib/frames.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    rows: { type: 'string', default: '10000' },
    'batch-size': { type: 'string', default: '5000' },
    'save-frames': { type: 'string' },
    frames: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const ROWS = Number(args.rows);
const BATCH = Number(args['batch-size']);

interface Measured {
  stage: string;
  nsPerEvent: number;
  note?: string;
}

const results: Measured[] = [];

/** Runs `body` (which handles `events` events) 3 times after a warm-up; keeps the best CPU time. */
async function measure(stage: string, events: number, body: () => void | Promise<void>, note?: string): Promise<number> {
  await body();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    Bun.gc(true);
    const before = process.cpuUsage();
    await body();
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / events);
  }
  results.push({ stage, nsPerEvent: best, note });
  process.stderr.write(`[stages] ${stage.padEnd(34)} ${best.toFixed(0).padStart(6)} ns/event${note ? `  (${note})` : ''}\n`);
  return best;
}

const log = Logger.for('Bench', 'stages');
const noStore = {} as StateStore;

const frames = await framesFor({ frames: args.frames, saveFrames: args['save-frames'], rows: ROWS });
const relations = new RelationCache();
const decoded: { x: XLogData; message: PgoutputMessage }[] = frames.map((payload) => {
  const x = decodeCopyBothMessage(payload) as XLogData;
  return { x, message: decodePgoutput(x.data, { protoVersion: 1 }) };
});
for (const { message } of decoded) relations.apply(message);
const inserts = decoded.filter((d) => d.message.tag === 'insert');
const insertFrames = frames.filter((_, i) => decoded[i]!.message.tag === 'insert');
const relation = relations.require((inserts[0]!.message as Insert).relationId) as RelationInfo;
const n = inserts.length;
const passes = Math.max(1, Math.round(EVENTS / n));
const total = passes * n;
process.stderr.write(`[stages] ${frames.length} captured messages (${n} inserts of the benchmark table, ${(insertFrames.reduce((s, f) => s + f.length, 0) / n).toFixed(0)} bytes each); ${total} events per stage, batches of ${BATCH}\n`);

const types = new TypeRegistry();
const factory = new EventFactory('bench', '127.0.0.1', 'streamer_test', types);
const txn = { xid: 1, commitLsn: 1n, commitTime: '2024-01-01T00:00:00Z' };
let sink = 0;

await measure('frame: decodeCopyBothMessage', total, () => {
  for (let p = 0; p < passes; p++) for (const f of insertFrames) sink += decodeCopyBothMessage(f).tag.length;
});
await measure('decode: decodePgoutput', total, () => {
  for (let p = 0; p < passes; p++) for (const { x } of inserts) sink += decodePgoutput(x.data, { protoVersion: 1 }).tag.length;
});
const built: ChangeEvent[] = inserts.map(({ x, message }) => factory.row(message as Insert, relation, x.walStart, txn));
await measure('build: EventFactory.row', total, () => {
  for (let p = 0; p < passes; p++) for (const { x, message } of inserts) sink += factory.row(message as Insert, relation, x.walStart, txn).columns === undefined ? 0 : 1;
});
await measure('  of which randomUUID', total, () => {
  for (let i = 0; i < total; i++) sink += crypto.randomUUID().length;
});
await measure('  of which processingTimestamp', total, () => {
  for (let i = 0; i < total; i++) sink += processingTimestamp().length;
});
const labels = { sourceName: 'bench', sourceType: 'Source-PSQL', table: relation.name };
const counter = sourceEvents.labels(labels);
const histogram = sourceEventProcessingTime.labels(labels);
// As PostgresSource.pushEvent does (src/postgres/source.ts): the processing time observed per event,
// `source_events` counted locally and added once per burst of socket data (here: per 1,000 events).
let pendingCount = 0;
function eventMetrics(started: number): void {
  histogram.observe((performance.now() - started) / 1000);
  if (++pendingCount === 1000) {
    counter.inc(pendingCount);
    pendingCount = 0;
  }
}
await measure('metrics: as pushEvent (observe; count per burst)', total, () => {
  for (let i = 0; i < total; i++) {
    eventMetrics(performance.now());
  }
});
await measure('logArg: verbose message text', total, () => {
  for (let p = 0; p < passes; p++) {
    for (const event of built) sink += `Event (${event.action} ${event.schema}.${event.table} at ${formatLsn(event.lsn)})`.length;
  }
});
await measure('estimateEventBytes', total, () => {
  for (let p = 0; p < passes; p++) for (const event of built) sink += estimateEventBytes(event);
});

const nullSink: Sink = {
  name: 'null', type: 'Sink-Null',
  write: async () => {},
  close: async () => {},
  stats: () => '', status: () => null, setDebug: () => {},
};
async function throughPipeline(sinks: Sink[], items: (i: number) => ChangeEvent, count: number, positionsEvery: number): Promise<void> {
  const pipeline = new Pipeline<bigint>({
    name: 'bench', source: { ack: async () => {} }, sinks, log,
    batchSize: BATCH, batchFlushIntervalMs: 100, sendRetryIntervalMs: 100, maxRetryIntervalMs: 1000,
    maxBufferedEvents: Math.max(10_000, 4 * BATCH), maxBufferedBytes: 64 * 1024 * 1024,
  });
  for (let i = 0; i < count; i++) {
    const room = pipeline.push({ event: items(i) });
    if ((i + 1) % positionsEvery === 0) pipeline.push({ position: BigInt(i) });
    if (!room) await pipeline.drained();
  }
  await pipeline.drain();
  pipeline.close();
}
await measure('pipeline: push → batch → no-op sink → ack', total, () => throughPipeline([nullSink], (i) => built[i % n] as ChangeEvent, total, 1000));

await measure('encode: encodePassthrough', total, () => {
  for (let p = 0; p < passes; p++) for (const event of built) sink += encodePassthrough(event).length;
});
const jsons = built.map((event) => encodePassthrough(event));
const batches = Math.floor(total / BATCH);
await measure('bytes: text += line; Buffer.from (file sink)', batches * BATCH, () => {
  for (let b = 0; b < batches; b++) {
    let text = '';
    for (let i = 0; i < BATCH; i++) text += encodePassthrough(built[(b * BATCH + i) % n] as ChangeEvent) + '\n';
    sink += Buffer.from(text, 'utf8').length;
  }
}, 'encode included');
await measure('bytes alt: lines.join; Buffer.from', batches * BATCH, () => {
  for (let b = 0; b < batches; b++) {
    const lines: string[] = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) lines[i] = encodePassthrough(built[(b * BATCH + i) % n] as ChangeEvent);
    lines.push('');
    sink += Buffer.from(lines.join('\n'), 'utf8').length;
  }
}, 'encode included');
const encoder = new TextEncoder();
let scratch = new Uint8Array(8 * 1024 * 1024);
await measure('bytes alt: encodeInto one buffer', batches * BATCH, () => {
  for (let b = 0; b < batches; b++) {
    let at = 0;
    for (let i = 0; i < BATCH; i++) {
      const line = encodePassthrough(built[(b * BATCH + i) % n] as ChangeEvent) + '\n';
      if (scratch.length - at < line.length * 3) {
        const bigger = new Uint8Array(scratch.length * 2);
        bigger.set(scratch.subarray(0, at));
        scratch = bigger;
      }
      at += encoder.encodeInto(line, scratch.subarray(at)).written;
    }
    sink += at;
  }
}, 'encode included');
await measure('bytes only: Buffer.from of a flat batch', batches * BATCH, () => {
  for (let b = 0; b < batches; b++) sink += Buffer.from(jsons.slice(0, BATCH).join('\n'), 'utf8').length;
}, 'join + utf8, no encode');

const fileSink = await fileSinkType.create('devnull', { path: '/dev/null', fsync: false }, { log, store: noStore });
await measure('sink: file sink → /dev/null', batches * BATCH, async () => {
  for (let b = 0; b < batches; b++) {
    const batch = [];
    for (let i = 0; i < BATCH; i++) batch.push(built[(b * BATCH + i) % n] as ChangeEvent);
    await fileSink.write(batch);
  }
}, 'encode + bytes + write + counters');

/** The source's hot path as PostgresSource runs it, into a pipeline; `sinkOf` picks the sink, `metrics` the per-event updates. */
async function chain(sinks: Sink[], metrics: boolean): Promise<void> {
  const pipeline = new Pipeline<bigint>({
    name: 'bench', source: { ack: async () => {} }, sinks, log,
    batchSize: BATCH, batchFlushIntervalMs: 100, sendRetryIntervalMs: 100, maxRetryIntervalMs: 1000,
    maxBufferedEvents: Math.max(10_000, 4 * BATCH), maxBufferedBytes: 64 * 1024 * 1024,
  });
  for (let i = 0; i < total; i++) {
    const started = performance.now();
    const x = decodeCopyBothMessage(insertFrames[i % n] as Uint8Array) as XLogData;
    const message = decodePgoutput(x.data, { protoVersion: 1 }) as Insert;
    const event = factory.row(message, relations.require(message.relationId), x.walStart, txn);
    const room = pipeline.push({ event });
    if (metrics) eventMetrics(started);
    if ((i + 1) % 1000 === 0) pipeline.push({ position: BigInt(i) });
    if (!room) await pipeline.drained();
  }
  await pipeline.drain();
  pipeline.close();
}
// Fresh events cost more downstream than the warm ones above (their strings are ropes until first
// flattened, and they die young or survive in the buffer): the chain shows the real split.
const encodeOnly: Sink = { ...nullSink, write: async (batch) => { for (const event of batch) sink += encodePassthrough(event).length; } };
await measure('chain A: frame→decode→build→pipeline', total, () => chain([nullSink], false), 'no-op sink, no metrics');
await measure('chain B: A + per-event metrics', total, () => chain([nullSink], true));
await measure('chain C: A + encodePassthrough', total, () => chain([encodeOnly], false), 'JSON strings, no bytes');
await measure('chain D: A + file sink → /dev/null', total, () => chain([fileSink], false));
await measure('chain E: A + metrics + file sink (streamer)', total, () => chain([fileSink], true), 'in process: no socket reads');
await fileSink.close();

// Heap held per buffered event: what the pipeline keeps between source and sink.
Bun.gc(true);
const heapBefore = process.memoryUsage().heapUsed;
const held: ChangeEvent[] = [];
for (let i = 0; i < 20_000; i++) {
  const { x, message } = inserts[i % n]!;
  held.push(factory.row(message as Insert, relation, x.walStart, txn));
}
Bun.gc(true);
const perEvent = (process.memoryUsage().heapUsed - heapBefore) / held.length;
const estimate = held.reduce((s, e) => s + estimateEventBytes(e), 0) / held.length;
process.stderr.write(`[stages] heap per buffered event: ${perEvent.toFixed(0)} bytes (pipeline estimate ${estimate.toFixed(0)}); ` +
  `20,000 buffered events ≈ ${((perEvent * 20_000) / 1048576).toFixed(1)} MiB of heap\n`);
if (sink === -1) process.stderr.write('unreachable\n');

process.stdout.write(`\nstage                                      ns/event (CPU, best of 3)\n`);
for (const r of results) process.stdout.write(`${r.stage.padEnd(42)} ${r.nsPerEvent.toFixed(0).padStart(8)}${r.note ? `  ${r.note}` : ''}\n`);
process.stdout.write(`heap per buffered event                    ${perEvent.toFixed(0).padStart(8)} bytes (pipeline estimate ${estimate.toFixed(0)})\n`);
