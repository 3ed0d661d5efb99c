#!/usr/bin/env bun
/**
 * Where the PostgreSQL source's CPU goes, stage by stage, in one process without I/O waits: real
 * pgoutput messages of the benchmark table (captured from the server with
 * pg_logical_slot_peek_binary_changes, wrapped in XLogData as the walsender sends them and packed
 * into 64 KiB chunks as a socket delivers them) go through each stage of src/ on their own, cycling
 * over the captured rows. Prints CPU ns per event for:
 *
 *   general    the general path, for comparison: decodeCopyBothMessage → decodePgoutput →
 *              EventFactory.row → encodePassthrough → UTF-8 bytes
 *   bytes      the byte path: EventFactory.rowFromBytes (XLogData Insert → event with its JSON bytes)
 *   metrics    SourceEventMetrics.record, as PostgresSource.pushEvent calls it per event
 *   pipeline   Pipeline.push → batch → no-op sink → ack
 *   file sink  the real file sink writing byte-path events to /dev/null
 *   chain      the source's hot path as PostgresSource.handleRowChange runs it (frames from the
 *              chunk, xlogDataStartNumber, relation lookup, rowFromBytes, pipeline, metrics), into a
 *              no-op sink and into the file sink
 * and the heap each buffered event holds (against the pipeline's estimate). Needs PostgreSQL:
 * run it as `scripts/bench-pg stages [--events N] [--batch-size N]`. `--save-frames FILE` keeps the
 * captured messages; `bun bench/pg-source-stages.ts --frames FILE` runs again on them, without a server.
 */
import { parseArgs } from 'node:util';
import { readUint32BE } from '../src/core/bytes.ts';
import type { ChangeEvent } from '../src/event/event.ts';
import { EventIdentity } from '../src/event/identity.ts';
import { Logger } from '../src/core/logger.ts';
import { createMetrics } from '../src/metrics/catalogue.ts';
import { encodePassthrough, passthroughBytes } from '../src/event/passthrough.ts';
import { estimateEventBytes } from '../src/pipeline/estimate-bytes.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { decodePgoutput } from '../src/pgoutput/decode.ts';
import type { Insert, PgoutputMessage } from '../src/pgoutput/messages.ts';
import { RelationCache, type RelationInfo } from '../src/pgoutput/relations.ts';
import { SourceEventMetrics } from '../src/sources/postgres/event-metrics.ts';
import { EventFactory } from '../src/sources/postgres/events.ts';
import { decodeCopyBothMessage, XLOGDATA_DATA_OFFSET, xlogDataStartNumber, type XLogData } from '../src/replication/copy-both.ts';
import { FILE_FORMAT_DEFAULTS, fileSinkType } from '../src/sinks/file/file.ts';
import type { Sink } from '../src/sinks/sink.ts';
import type { StateStore } from '../src/state/store.ts';
import { TypeRegistry } from '../src/pgtypes/index.ts';
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
  process.stderr.write(`[stages] ${stage.padEnd(44)} ${best.toFixed(0).padStart(6)} ns/event${note ? `  (${note})` : ''}\n`);
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
const insertFrames = frames.filter((_, i) => decoded[i]!.message.tag === 'insert');
const relation = relations.require((decoded.find((d) => d.message.tag === 'insert')!.message as Insert).relationId) as RelationInfo;
const n = insertFrames.length;
const passes = Math.max(1, Math.round(EVENTS / n));
const total = passes * n;

// The frames as a socket hands them over: 64 KiB chunks of consecutive CopyData payloads.
interface Located { chunk: Uint8Array; start: number; end: number }
const located: Located[] = [];
{
  let chunk = new Uint8Array(64 * 1024);
  let at = 0;
  for (const frame of insertFrames) {
    if (at + frame.length > chunk.length) {
      chunk = new Uint8Array(Math.max(64 * 1024, frame.length));
      at = 0;
    }
    chunk.set(frame, at);
    located.push({ chunk, start: at, end: at + frame.length });
    at += frame.length;
  }
}
process.stderr.write(`[stages] ${frames.length} captured messages (${n} inserts of the benchmark table, ${(insertFrames.reduce((s, f) => s + f.length, 0) / n).toFixed(0)} bytes each); ${total} events per stage, batches of ${BATCH}\n`);

const factory = new EventFactory('bench', '127.0.0.1', 'streamer_test', new TypeRegistry());
factory.setIdentity(EventIdentity.of('7301234567890123456', 'bench'), '7301234567890123456/bench');
const txn = { xid: 1, commitLsn: 1n, commitTime: '2024-01-01T00:00:00Z' };
let sink = 0;

function fromBytes(i: number): ChangeEvent {
  const { chunk, start, end } = located[i % n]!;
  return factory.rowFromBytes(chunk, start + XLOGDATA_DATA_OFFSET, end, relation, xlogDataStartNumber(chunk, start), txn, i % 1000)!;
}
if (fromBytes(0) === undefined) throw new Error('the byte path refused the benchmark rows');

const utf8 = new TextEncoder();
await measure('general: decode → row → encodePassthrough → bytes', total, () => {
  for (let p = 0; p < passes; p++) {
    for (const frame of insertFrames) {
      const x = decodeCopyBothMessage(frame) as XLogData;
      const message = decodePgoutput(x.data, { protoVersion: 1 }) as Insert;
      sink += utf8.encode(encodePassthrough(factory.row(message, relation, x.walStart, txn, 0))).length;
    }
  }
});
await measure('bytes: xlogDataStartNumber + rowFromBytes', total, () => {
  for (let i = 0; i < total; i++) sink += fromBytes(i).encoded!.length;
});
const metrics = createMetrics();
const eventMetrics = new SourceEventMetrics(metrics, 'bench', 'Source-PSQL');
await measure('metrics: SourceEventMetrics.record', total, () => {
  for (let i = 0; i < total; i++) eventMetrics.record(relation.name, performance.now());
});
const built: ChangeEvent[] = Array.from({ length: n }, (_, i) => fromBytes(i));
await measure('estimateEventBytes', total, () => {
  for (let p = 0; p < passes; p++) for (const event of built) sink += estimateEventBytes(event);
});

const nullSink: Sink = {
  name: 'null', type: 'Sink-Null',
  write: async () => {},
  close: async () => {},
  stats: () => '', status: () => null, setDebug: () => {},
};
function newPipeline(sinks: Sink[]): Pipeline<bigint> {
  return new Pipeline<bigint>({
    name: 'bench', source: { ack: async () => {} }, sinks, log, metrics,
    batchSize: BATCH, batchFlushIntervalMs: 100, sendRetryIntervalMs: 100, maxRetryIntervalMs: 1000,
    maxBufferedEvents: Math.max(10_000, 4 * BATCH), maxBufferedBytes: 64 * 1024 * 1024,
  });
}
await measure('pipeline: push → batch → no-op sink → ack', total, async () => {
  const pipeline = newPipeline([nullSink]);
  for (let i = 0; i < total; i++) {
    const room = pipeline.push({ event: built[i % n]! });
    if ((i + 1) % 1000 === 0) pipeline.push({ position: BigInt(i) });
    if (!room) await pipeline.drained();
  }
  await pipeline.drain();
  pipeline.close();
});

const fileSink = await fileSinkType.create('devnull', { path: '/dev/null', fsync: false, ...FILE_FORMAT_DEFAULTS }, { log, store: noStore, metrics });
const batches = Math.floor(total / BATCH);
await measure('file sink → /dev/null', batches * BATCH, async () => {
  for (let b = 0; b < batches; b++) {
    const batch = [];
    for (let i = 0; i < BATCH; i++) batch.push(built[(b * BATCH + i) % n]!);
    await fileSink.write(batch);
  }
}, 'bytes copied into one buffer + write + counters');

/** PostgresSource.handleRowChange's work per event, into a pipeline of `sinks`. */
async function chain(sinks: Sink[]): Promise<void> {
  const pipeline = newPipeline(sinks);
  for (let i = 0; i < total; i++) {
    const { chunk, start, end } = located[i % n]!;
    const started = performance.now();
    const base = start + XLOGDATA_DATA_OFFSET;
    const walStart = xlogDataStartNumber(chunk, start);
    const rel = relations.get(readUint32BE(chunk, base + 1))!;
    const event = factory.rowFromBytes(chunk, base, end, rel, walStart, txn, i % 1000, started)!;
    const room = pipeline.push({ event });
    eventMetrics.record(rel.name, started);
    if ((i + 1) % 1000 === 0) pipeline.push({ position: BigInt(i) });
    if (!room) await pipeline.drained();
  }
  await pipeline.drain();
  pipeline.close();
}
const bytesOnly: Sink = { ...nullSink, write: async (batch) => { for (const event of batch) sink += passthroughBytes(event).length; } };
await measure('chain A: handleRowChange → pipeline → no-op sink', total, () => chain([bytesOnly]), 'with metrics');
await measure('chain B: A, into the file sink → /dev/null', total, () => chain([fileSink]), 'the streamer without socket reads');
await fileSink.close();

// Heap held per buffered event: what the pipeline keeps between source and sink (its JSON bytes
// live in shared chunks, the message in the socket chunk: both outside the JS heap's object count).
Bun.gc(true);
const heapBefore = process.memoryUsage().heapUsed;
const held: ChangeEvent[] = [];
for (let i = 0; i < 20_000; i++) held.push(fromBytes(i));
Bun.gc(true);
const perEvent = (process.memoryUsage().heapUsed - heapBefore) / held.length;
const estimate = held.reduce((s, e) => s + estimateEventBytes(e), 0) / held.length;
process.stderr.write(`[stages] heap per buffered event: ${perEvent.toFixed(0)} bytes (pipeline estimate ${estimate.toFixed(0)}); ` +
  `20,000 buffered events ≈ ${((perEvent * 20_000) / 1048576).toFixed(1)} MiB of heap\n`);
if (sink === -1) process.stderr.write('unreachable\n');

process.stdout.write(`\nstage                                                ns/event (CPU, best of 3)\n`);
for (const r of results) process.stdout.write(`${r.stage.padEnd(52)} ${r.nsPerEvent.toFixed(0).padStart(8)}${r.note ? `  ${r.note}` : ''}\n`);
process.stdout.write(`heap per buffered event                              ${perEvent.toFixed(0).padStart(8)} bytes (pipeline estimate ${estimate.toFixed(0)})\n`);
