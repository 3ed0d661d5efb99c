#!/usr/bin/env bun
/**
 * Where a Kafka broker's CPU went, from a Java Flight Recorder file (docs/benchmarks.md, "Exactly
 * once: the broker's cost is per transaction"): execution samples by thread (numbers folded, so
 * the request handler threads count as one) and by the broker's request paths found on their stacks.
 * Record the benchmark's broker with
 *
 *   KAFKA_HEAP_OPTS="-Xms1g -Xmx1g -XX:StartFlightRecording=filename=/tmp/broker.jfr,settings=profile,dumponexit=true" \
 *     scripts/bench-kafka --exactly-once --phases latency --latency-modes exactly-once
 *   bun bench/jfr-summary.ts /tmp/broker.jfr [--top 15] [--match Name1,Name2]
 *
 * Needs the JDK's `jfr` tool. Samples are of running Java threads only (about one per 10-20 ms
 * each with settings=profile): shares, not CPU seconds.
 */
import { parseArgs } from 'node:util';
import { exitWithHelpIf } from './lib/setup.ts';

/** Frames that name what a broker thread was doing (substrings of the printed frames). */
const PATHS = [
  'handleProduceRequest', 'handleEndTxnRequest', 'handleWriteTxnMarkersRequest', 'handleAddPartitionsToTxnRequest',
  'AddPartitionsToTxnManager', 'appendTransactionToLog', 'TxnMarkerSenderThread', 'handleFetchRequest',
  'handleTxnOffsetCommitRequest', 'handleInitProducerIdRequest', 'handleListOffsetRequest', 'handleMetadataRequest',
  'DelayedProduce', 'ProducerStateManager', 'Histogram.update', 'Sensor.record', 'Processor.run', 'LogCleaner',
];

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '15' }, match: { type: 'string' }, help: { type: 'boolean' } },
});
exitWithHelpIf(args.help === true || positionals.length !== 1, import.meta.path);

const printed = Bun.spawnSync(['jfr', 'print', '--stack-depth', '80', '--events', 'jdk.ExecutionSample', positionals[0]!], { stdout: 'pipe', stderr: 'pipe' });
if (printed.exitCode !== 0) throw new Error(`jfr print failed: ${printed.stderr.toString()}`);
const samples = printed.stdout.toString().split('jdk.ExecutionSample {').slice(1);
if (samples.length === 0) throw new Error('no execution samples in the recording (was it made with settings=profile?)');

const byThread = new Map<string, number>();
const byPath = new Map<string, number>();
const paths = args.match ? args.match.split(',') : PATHS;
for (const sample of samples) {
  const thread = (/sampledThread = "([^"]*)"/.exec(sample)?.[1] ?? '?').replace(/\d+/g, 'N');
  byThread.set(thread, (byThread.get(thread) ?? 0) + 1);
  for (const path of paths) if (sample.includes(path)) byPath.set(path, (byPath.get(path) ?? 0) + 1);
}

const share = (n: number) => `${((100 * n) / samples.length).toFixed(1).padStart(5)} %`;
const top = Number(args.top);
console.log(`${samples.length} samples`);
console.log('\nby thread');
for (const [thread, n] of [...byThread].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${share(n)}  ${thread}`);
console.log('\nby request path on the stack (a sample can count for several)');
for (const [path, n] of [...byPath].sort((a, b) => b[1] - a[1])) console.log(`${share(n)}  ${path}`);
