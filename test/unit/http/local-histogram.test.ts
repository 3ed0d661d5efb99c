import { expect, test } from 'bun:test';
import { Registry } from 'prom-client';
import { LocalHistogram } from '../../../src/http/local-histogram.ts';

test('exposes cumulative buckets, sum and count per series, as prom-client histograms do', async () => {
  const registry = new Registry();
  const histogram = new LocalHistogram('work_seconds', 'Time of work', ['table'] as const, { buckets: [0.1, 1], registers: [registry] });
  const orders = histogram.labels({ table: 'orders' });
  orders.observe(0.05);
  orders.observe(0.1); // on a bound: counted in that bucket (le = less or equal)
  orders.observe(0.5);
  orders.observe(7);
  histogram.labels({ table: 'lines' }).observe(0.2);
  expect(histogram.labels({ table: 'orders' })).toBe(orders);
  const text = await registry.metrics();
  expect(text).toContain('# HELP work_seconds Time of work\n# TYPE work_seconds histogram\n');
  expect(text).toContain('work_seconds_bucket{le="0.1",table="orders"} 2\n');
  expect(text).toContain('work_seconds_bucket{le="1",table="orders"} 3\n');
  expect(text).toContain('work_seconds_bucket{le="+Inf",table="orders"} 4\n');
  expect(text).toContain('work_seconds_sum{table="orders"} 7.65\n');
  expect(text).toContain('work_seconds_count{table="orders"} 4\n');
  expect(text).toContain('work_seconds_bucket{le="0.1",table="lines"} 0\n');
  expect(text).toContain('work_seconds_count{table="lines"} 1');
  registry.resetMetrics();
  expect(await registry.metrics()).not.toContain('work_seconds_count');
});
