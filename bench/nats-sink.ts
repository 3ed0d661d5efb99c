#!/usr/bin/env bun
/**
 * Benchmark of the NATS sink alone (docs/benchmarks.md, "NATS JetStream sink"): N events built in
 * memory (8 columns as bench/http-sink.ts, their passthrough JSON prebuilt as the PostgreSQL source
 * builds it), written by NatsSink.write() per batch of --batch events to a JetStream stream (file
 * storage) of the nats-server at NATS_URL (`eval "$(scripts/nats/start)"`). Prints events/s, this
 * process's CPU µs per event and nats-server's (when PSQL_STREAMER_NATS_DIR names its directory).
 *
 *   bun bench/nats-sink.ts [--events N] [--batch N] [--runs N]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { SectionSpec } from '../src/config/fields.ts';
import { Logger } from '../src/core/logger.ts';
import { createMetrics } from '../src/metrics/catalogue.ts';
import { createNatsSink } from '../src/sinks/nats/sink.ts';
import { natsSinkOptions, type NatsSinkOptions } from '../src/sinks/nats/spec.ts';
import { fmt, sampleProc } from './lib/proc.ts';
import { batchesOf, benchEvents, specDefaults } from './lib/sink-events.ts';
import { requiredEnv } from './lib/setup.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '100' },
    runs: { type: 'string', default: '1' },
  },
});
const EVENTS = Number(args.events);
const BATCH = Number(args.batch);
const NATS_URL = requiredEnv('NATS_URL', 'eval "$(scripts/nats/start)"');
const SERVER_PID = ((): number | undefined => {
  const dir = process.env.PSQL_STREAMER_NATS_DIR;
  if (!dir || !existsSync(join(dir, 'pid'))) return undefined;
  return Number(readFileSync(join(dir, 'pid'), 'utf8').trim()) || undefined;
})();

const batches = batchesOf(benchEvents(EVENTS), BATCH);
const defaults = specDefaults(natsSinkOptions as SectionSpec);
const admin = await connect({ servers: NATS_URL });
const jsm = await jetstreamManager(admin);

for (let run = 1; run <= Number(args.runs); run++) {
  const stream = `BENCHSINK_${run}_${Date.now()}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const options = { ...(defaults as NatsSinkOptions), servers: [NATS_URL], subjectFallback: `${stream}.{table}`, stream };
  const sink = await createNatsSink('bench', options, { log: Logger.for('Sink-NATS', 'bench'), metrics: createMetrics() });
  await sink.write(batches[0]!.slice(0, 1)); // connected
  Bun.gc(true);
  const cpu0 = sampleProc(process.pid)!.cpuUs;
  const usage0 = process.cpuUsage();
  const server0 = SERVER_PID === undefined ? undefined : sampleProc(SERVER_PID)?.cpuUs;
  const t0 = performance.now();
  // As the pipeline does: a few batches in flight at once, written one after another by the sink.
  const inFlight: Promise<void>[] = [];
  for (const batch of batches) {
    inFlight.push(sink.write(batch));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const ms = performance.now() - t0;
  const cpuUs = sampleProc(process.pid)!.cpuUs - cpu0;
  const usage = process.cpuUsage(usage0);
  const server1 = SERVER_PID === undefined ? undefined : sampleProc(SERVER_PID)?.cpuUs;
  await sink.close();
  const stored = (await jsm.streams.info(stream)).state.messages;
  await jsm.streams.delete(stream);
  if (stored !== EVENTS) throw new Error(`the stream holds ${stored} messages, expected ${EVENTS}`);
  process.stdout.write(`run ${run}: ${fmt(EVENTS / (ms / 1000)).padStart(10)} events/s  CPU ${fmt(cpuUs / EVENTS, 2)} µs/event (user ${fmt(usage.user / EVENTS, 2)}, system ${fmt(usage.system / EVENTS, 2)})` +
    (server0 !== undefined && server1 !== undefined ? `  nats-server ${fmt((server1 - server0) / EVENTS, 2)} µs/event` : '') + ` (batches of ${BATCH})\n`);
}
await admin.close();
process.exit(0);
