#!/usr/bin/env bun
/**
 * Benchmark of the HTTP sink alone, and of the two HTTP clients it could use: N events built in
 * memory (8 columns as bench/kafka-sink.ts), POSTed to a local receiver that discards
 * (bench/lib/discard-server.ts, its own process). Modes, one after the other on the same events:
 *   encode      the events' passthrough JSON only (prebuilt, as the PostgreSQL source builds it)
 *   sink        HttpSink.write() per batch of --batch events (encoding included)
 *   fetch       the same NDJSON bodies, prebuilt, through Bun's fetch (keep-alive)
 *   node-http   the same bodies through node:http with a keep-alive Agent
 * Prints events/s and this process's CPU µs per event (the receiver's CPU is not counted).
 *
 *   bun bench/http-sink.ts [--events N] [--batch N] [--modes encode,sink,fetch,node-http]
 */
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { passthroughBytes } from '../src/event/passthrough.ts';
import { createMetrics } from '../src/metrics/catalogue.ts';
import { Logger } from '../src/core/logger.ts';
import { createHttpSink } from '../src/sinks/http/sink.ts';
import { httpSinkOptions, type HttpSinkOptions } from '../src/sinks/http/spec.ts';
import type { SectionSpec } from '../src/config/fields.ts';
import { fmt, sampleProc } from './lib/proc.ts';
import { batchesOf, benchEvents, specDefaults } from './lib/sink-events.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1000' },
    modes: { type: 'string', default: 'sink,fetch,node-http' },
  },
});
const EVENTS = Number(args.events);
const BATCH = Number(args.batch);

const server = Bun.spawn([process.execPath, join(import.meta.dir, 'lib', 'discard-server.ts')], { stdout: 'pipe', stderr: 'inherit' });
const first = await (server.stdout as ReadableStream<Uint8Array>).getReader().read();
const port = Number(/PORT=(\d+)/.exec(new TextDecoder().decode(first.value))![1]);
const url = `http://127.0.0.1:${port}/cdc`;

const events = benchEvents(EVENTS);
const batches = batchesOf(events, BATCH);
const bodies = batches.map((b) => Buffer.concat(b.flatMap((e) => [passthroughBytes(e), Buffer.from('\n')])));

async function measure(mode: string, run: () => Promise<void>): Promise<void> {
  Bun.gc(true);
  const cpu0 = sampleProc(process.pid)!.cpuUs;
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const cpuUs = sampleProc(process.pid)!.cpuUs - cpu0;
  process.stdout.write(`${mode.padEnd(10)} ${fmt(EVENTS / (ms / 1000)).padStart(10)} events/s  CPU ${fmt(cpuUs / EVENTS, 2)} µs/event  (${batches.length} requests of ${BATCH})\n`);
}

const modes: Record<string, () => Promise<void>> = {
  /** What every sink pays: the events' passthrough JSON, nothing sent. */
  async encode() {
    for (const batch of batches) for (const e of batch) passthroughBytes(e);
  },
  async sink() {
    const defaults = specDefaults(httpSinkOptions as SectionSpec);
    const sink = await createHttpSink('bench', { ...(defaults as HttpSinkOptions), url }, { log: Logger.for('Sink-HTTP', 'bench'), metrics: createMetrics() });
    for (const batch of batches) await sink.write(batch);
    await sink.close();
  },
  async fetch() {
    for (const body of bodies) {
      const response = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/x-ndjson' }, keepalive: true });
      await response.text();
    }
  },
  async 'node-http'() {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (const body of bodies) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/x-ndjson', 'Content-Length': body.length } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
    }
    agent.destroy();
  },
};

for (const mode of (args.modes ?? '').split(',')) {
  const run = modes[mode];
  if (run === undefined) throw new Error(`unknown mode ${mode}`);
  await measure(mode, run);
}
server.kill();
