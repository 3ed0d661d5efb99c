/**
 * `nodejs_heap_space_size_{total,used,available}_bytes{space}` without walking the heap
 * (docs/operations.md, "Metrics"). prom-client reads them with v8.getHeapSpaceStatistics(), which
 * under Bun counts every object on the JavaScriptCore heap: 60–215 ms of a stalled event loop per
 * scrape at 23 MB of heap, so each Prometheus scrape delayed every event in flight by that much.
 * Bun fills only the `old` space (the others are 0); the same series come from
 * process.memoryUsage() here, which costs microseconds.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';

const KINDS = ['total', 'used', 'available'] as const;

const metricName = (kind: (typeof KINDS)[number]) => `nodejs_heap_space_size_${kind}_bytes`;

/** The series names, as prom-client's default metrics name them. */
export const HEAP_SPACE_METRICS = KINDS.map(metricName);

/** The space that holds Bun's whole heap. */
const HEAP_SPACE = 'old';

/** Replaces prom-client's heap-space gauges in `registry` (registered by collectDefaultMetrics) with ones read from process.memoryUsage(). */
export function replaceHeapSpaceMetrics(registry: Registry): void {
  // Read once, while the heap is small, for the names of the spaces the runtime reports.
  const spaces = getHeapSpaceStatistics().map((s) => s.space_name.replace(/_space$/, ''));
  if (!spaces.includes(HEAP_SPACE)) spaces.push(HEAP_SPACE);
  for (const name of HEAP_SPACE_METRICS) registry.removeSingleMetric(name);
  const gauge = (kind: (typeof KINDS)[number], collect?: () => void) => new Gauge({
    name: metricName(kind),
    help: `Process heap space size ${kind} in bytes (under Bun the whole JavaScriptCore heap is the "old" space; from process.memoryUsage())`,
    labelNames: ['space'] as const,
    registers: [registry],
    ...(collect ? { collect } : {}),
  });
  // One collect sets all three, as prom-client's does: the registry reads its metrics in registration order, so this one is registered first.
  const total: Gauge<'space'> = gauge('total', () => {
    const { heapTotal, heapUsed } = process.memoryUsage();
    for (const space of spaces) {
      const isHeap = space === HEAP_SPACE;
      total.set({ space }, isHeap ? heapTotal : 0);
      used.set({ space }, isHeap ? heapUsed : 0);
      available.set({ space }, isHeap ? Math.max(0, heapTotal - heapUsed) : 0);
    }
  });
  const used = gauge('used');
  const available = gauge('available');
}
