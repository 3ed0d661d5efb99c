#!/usr/bin/env bun
/**
 * CPU cost of updating and scraping the Prometheus metrics of src/metrics/catalogue.ts (prom-client):
 * ns per call of inc/set/observe through a child and with a labels object, of the per-event paths
 * that keep prom-client off the hot path (metrics/tally.ts: Tally.add, SampledTimer.time), and ms
 * per scrape of a registry holding `--series` series per metric. Run: `bun bench/metrics.ts [--calls N]`.
 */
import { parseArgs } from 'node:util';
import { createMetrics } from '../src/metrics/catalogue.ts';
import { SampledTimer, Tally } from '../src/metrics/tally.ts';

const { values: args } = parseArgs({
  options: { calls: { type: 'string', default: '2000000' }, series: { type: 'string', default: '100' } },
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
  process.stdout.write(`${name.padEnd(48)} ${shown}\n`);
}

const metrics = createMetrics({ processMetrics: true });
const labels = { sourceName: 'bench', sourceType: 'Source-PSQL', table: 'orders' };
const counter = metrics.sourceEvents.labels(labels);
const gauge = metrics.pipelineBufferedEvents.labels({ source: 'bench' });
const histogram = metrics.pipelineDeliverySeconds.labels({ source: 'bench', sink: 'out' });
const eventHistogram = metrics.sourceEventProcessingTime.labels(labels);
const labelsOf = (table: string) => ({ sourceName: 'bench', sourceType: 'Source-PSQL', table });
const tally = new Tally(metrics, metrics.sourceEvents, labelsOf);
const timer = new SampledTimer(metrics.sourceEventProcessingTime, labelsOf);
let sink = 0;

await measure('prom-client counter child inc()', CALLS, () => {
  for (let i = 0; i < CALLS; i++) counter.inc();
});
await measure('prom-client counter inc(labels, n)', CALLS, () => {
  for (let i = 0; i < CALLS; i++) metrics.sourceEvents.inc(labels, 2);
});
await measure('prom-client gauge child set(n)', CALLS, () => {
  for (let i = 0; i < CALLS; i++) gauge.set(i);
});
await measure('prom-client histogram child observe() (15 b.)', CALLS, () => {
  for (let i = 0; i < CALLS; i++) histogram.observe((i & 1023) / 1e4);
});
await measure('prom-client event histogram child observe()', CALLS, () => {
  for (let i = 0; i < CALLS; i++) eventHistogram.observe((i & 1023) / 1e5);
});
await measure('Tally.add(table) (per event, hot path)', CALLS, () => {
  for (let i = 0; i < CALLS; i++) tally.add('orders');
});
await measure('Tally.add, 2 tables alternating', CALLS, () => {
  for (let i = 0; i < CALLS; i++) tally.add((i & 1) === 0 ? 'orders' : 'lines');
});
const started = performance.now();
await measure('SampledTimer.time(table, t) (1 in 32 observed)', CALLS, () => {
  for (let i = 0; i < CALLS; i++) timer.time('orders', started);
});

for (let s = 0; s < SERIES; s++) {
  const l = { ...labels, table: `t${s}` };
  metrics.sourceEvents.inc(l);
  metrics.sourceEventProcessingTime.observe(l, 0.001);
}
const SCRAPES = 50;
await measure(`scrape (${SERIES} tables, process metrics)`, SCRAPES, async () => {
  for (let i = 0; i < SCRAPES; i++) sink += (await metrics.scrape()).body.length;
}, 'ms');
if (sink < 0) console.log(sink);
