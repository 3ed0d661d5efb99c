/**
 * src/metrics/heap-space.ts: the process metrics' heap-space series are read without walking the
 * heap (v8.getHeapSpaceStatistics() under Bun counts every object: 60–215 ms per scrape), and are
 * the same series as before, current at each scrape.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import v8 from 'node:v8';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { HEAP_SPACE_METRICS } from '../../../src/metrics/heap-space.ts';

const original = v8.getHeapSpaceStatistics;
let walks = 0;
afterEach(() => {
  v8.getHeapSpaceStatistics = original;
});

/** `name{space="old"} value` lines of an exposition. */
function oldSpace(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of HEAP_SPACE_METRICS) {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{space="old"} `));
    if (line !== undefined) out[name] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

describe('heap-space metrics', () => {
  test('a scrape does not call v8.getHeapSpaceStatistics(); the series are there, from process.memoryUsage()', async () => {
    const metrics = createMetrics({ processMetrics: true });
    v8.getHeapSpaceStatistics = (...args) => {
      walks++;
      return original(...args);
    };
    walks = 0;
    const before = process.memoryUsage();
    const text = await metrics.registry.metrics();
    const after = process.memoryUsage();
    expect(walks).toBe(0);
    const values = oldSpace(text);
    expect(Object.keys(values).sort()).toEqual([...HEAP_SPACE_METRICS].sort());
    const [total, used, available] = HEAP_SPACE_METRICS.map((n) => values[n] as number) as [number, number, number];
    expect(used).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(Math.min(before.heapTotal, after.heapTotal));
    expect(total).toBeLessThanOrEqual(Math.max(before.heapTotal, after.heapTotal));
    expect(available).toBe(Math.max(0, total - used));
    // Every space the runtime reports keeps its series (0 but "old", as Bun fills them).
    for (const space of original().map((s) => s.space_name.replace(/_space$/, ''))) {
      expect(text).toContain(`nodejs_heap_space_size_total_bytes{space="${space}"}`);
    }
  });

  test('current at each scrape (the collect runs before the three gauges are read)', async () => {
    const metrics = createMetrics({ processMetrics: true });
    const first = oldSpace(await metrics.registry.metrics());
    const garbage: unknown[] = [];
    for (let i = 0; i < 200_000; i++) garbage.push({ i, s: `value ${i}` });
    Bun.gc(true); // Bun's heapUsed moves with collections: now it surely differs from the first scrape's
    const expected = process.memoryUsage().heapUsed;
    const second = oldSpace(await metrics.registry.metrics());
    const used = second['nodejs_heap_space_size_used_bytes'] as number;
    expect(used).not.toBe(first['nodejs_heap_space_size_used_bytes']);
    expect(Math.abs(used - expected)).toBeLessThan(expected / 2);
    expect(garbage.length).toBe(200_000);
  });

  test('without process metrics there are no heap-space series', async () => {
    const text = await createMetrics().registry.metrics();
    for (const name of HEAP_SPACE_METRICS) expect(text).not.toContain(name);
  });
});
