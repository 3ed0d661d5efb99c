#!/usr/bin/env bun
/**
 * CPU cost of updating and scraping the Prometheus metrics of src/metrics/catalogue.ts: ns per call of a
 * held child's inc/set/observe, of inc/observe with a labels object (resolved per call), and ms per
 * scrape of a registry holding `--series` series per metric. Run: `bun bench/metrics.ts [--calls N]`.
 */
import { parseArgs } from 'node:util';
import { metricsRegistry, pipelineBufferedEvents, pipelineDeliverySeconds, sourceEventProcessingTime, sourceEvents } from '../src/metrics/catalogue.ts';

const { values: args } = parseArgs({
  options: { calls: { type: 'string', default: '5000000' }, series: { type: 'string', default: '100' } },
});
const CALLS = Number(args.calls);
const SERIES = Number(args.series);

/** Best of three runs after a warm-up, in CPU ns per call. */
async function measure(name: string, calls: number, body: () => void | Promise<void>, unit: 'ns' | 'ms' = 'ns'): Promise<void> {
  await body();
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 3; run++) {
    Bun.gc(true);
    const before = process.cpuUsage();
    await body();
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / calls);
  }
  const shown = unit === 'ns' ? `${best.toFixed(1).padStart(8)} ns/call` : `${(best / 1e6).toFixed(2).padStart(8)} ms/scrape`;
  process.stdout.write(`${name.padEnd(44)} ${shown}\n`);
}

const labels = { sourceName: 'bench', sourceType: 'Source-PSQL', table: 'orders' };
const counter = sourceEvents.labels(labels);
const gauge = pipelineBufferedEvents.labels({ source: 'bench' });
const histogram = pipelineDeliverySeconds.labels({ source: 'bench', sink: 'out' });
const eventHistogram = sourceEventProcessingTime.labels(labels);
let sink = 0;

await measure('counter child inc()', CALLS, () => {
  for (let i = 0; i < CALLS; i++) counter.inc();
});
await measure('counter inc(labels, n)', CALLS, () => {
  for (let i = 0; i < CALLS; i++) sourceEvents.inc(labels, 2);
});
await measure('gauge child set(n)', CALLS, () => {
  for (let i = 0; i < CALLS; i++) gauge.set(i);
});
await measure('histogram child observe() (15 buckets)', CALLS, () => {
  for (let i = 0; i < CALLS; i++) histogram.observe((i & 1023) / 1e4);
});
await measure('source event histogram child observe()', CALLS, () => {
  for (let i = 0; i < CALLS; i++) eventHistogram.observe((i & 1023) / 1e5);
});
await measure('histogram observe(labels, v)', CALLS / 10, () => {
  for (let i = 0; i < CALLS / 10; i++) pipelineDeliverySeconds.observe({ source: 'bench', sink: 'out' }, (i & 1023) / 1e4);
});

for (let s = 0; s < SERIES; s++) {
  const l = { ...labels, table: `t${s}` };
  sourceEvents.inc(l);
  sourceEventProcessingTime.labels(l).observe(0.001);
}
const SCRAPES = 50;
await measure(`scrape (${SERIES} tables)`, SCRAPES, async () => {
  for (let i = 0; i < SCRAPES; i++) sink += (await metricsRegistry.metrics()).length;
}, 'ms');
if (sink < 0) console.log(sink);
