import { describe, expect, test } from 'bun:test';
import { Counter } from '../../../src/metrics/prometheus/counter.ts';
import { escapeHelp, escapeLabelValue, formatNumber } from '../../../src/metrics/prometheus/exposition.ts';
import { Gauge } from '../../../src/metrics/prometheus/gauge.ts';
import { Histogram } from '../../../src/metrics/prometheus/histogram.ts';
import { registerProcessMetrics } from '../../../src/metrics/prometheus/process-metrics.ts';
import { Registry } from '../../../src/metrics/prometheus/registry.ts';

describe('exposition', () => {
  test('a counter, a gauge and a histogram with labels, in registration order (golden text)', async () => {
    const registry = new Registry();
    const registers = [registry];
    const events = new Counter({ name: 'events', help: 'Events seen\nby "us" \\ them', labelNames: ['source', 'table'] as const, registers });
    const level = new Gauge({ name: 'level', help: 'Level', labelNames: ['source'] as const, registers });
    const work = new Histogram({ name: 'work_seconds', help: 'Time of work', labelNames: ['table'] as const, buckets: [1, 0.1], registers });
    events.inc({ source: 'db1', table: 'orders' });
    events.inc({ source: 'db1', table: 'we"ird\\ta\nble' }, 5);
    events.labels({ source: 'db1', table: 'orders' }).inc(2);
    level.set({ source: 'db1' }, -3.5);
    const orders = work.labels({ table: 'orders' });
    orders.observe(0.05);
    orders.observe(0.1); // on a bound: counted in that bucket (le = less or equal)
    orders.observe(0.5);
    orders.observe(7);
    work.observe({ table: 'lines' }, 0.2);
    expect(await registry.metrics()).toBe(
      [
        '# HELP events Events seen\\nby "us" \\\\ them',
        '# TYPE events counter',
        'events{source="db1",table="orders"} 3',
        'events{source="db1",table="we\\"ird\\\\ta\\nble"} 5',
        '',
        '# HELP level Level',
        '# TYPE level gauge',
        'level{source="db1"} -3.5',
        '',
        '# HELP work_seconds Time of work',
        '# TYPE work_seconds histogram',
        'work_seconds_bucket{le="0.1",table="orders"} 2',
        'work_seconds_bucket{le="1",table="orders"} 3',
        'work_seconds_bucket{le="+Inf",table="orders"} 4',
        'work_seconds_sum{table="orders"} 7.65',
        'work_seconds_count{table="orders"} 4',
        'work_seconds_bucket{le="0.1",table="lines"} 0',
        'work_seconds_bucket{le="1",table="lines"} 1',
        'work_seconds_bucket{le="+Inf",table="lines"} 1',
        'work_seconds_sum{table="lines"} 0.2',
        'work_seconds_count{table="lines"} 1',
        '',
      ].join('\n'),
    );
    expect(registry.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  test('labels are written in label-name order, whatever order the caller gave them in; a missing one is left out', async () => {
    const registry = new Registry();
    const lag = new Gauge({ name: 'lag', help: 'Lag', labelNames: ['source', 'topic', 'partition'] as const, registers: [registry] });
    lag.set({ partition: 0, topic: 't', source: 'r' }, 4);
    lag.set({ source: 'r', topic: 't' }, 1);
    const text = await registry.metrics();
    expect(text).toContain('lag{source="r",topic="t",partition="0"} 4\n');
    expect(text).toContain('lag{source="r",topic="t"} 1\n');
    expect(lag.labels({ source: 'r', topic: 't', partition: '0' }).value).toBe(4); // 0 and '0' are the same series
  });

  test('metrics without labels show 0 before any update, metrics with labels show no sample', async () => {
    const registry = new Registry();
    const total = new Counter({ name: 'total', help: 'Total', registers: [registry] });
    new Counter({ name: 'per_table', help: 'Per table', labelNames: ['table'] as const, registers: [registry] });
    new Histogram({ name: 'sizes', help: 'Sizes', buckets: [10], registers: [registry] });
    expect(await registry.metrics()).toBe(
      '# HELP total Total\n# TYPE total counter\ntotal 0\n\n# HELP per_table Per table\n# TYPE per_table counter\n\n' +
        '# HELP sizes Sizes\n# TYPE sizes histogram\nsizes_bucket{le="10"} 0\nsizes_bucket{le="+Inf"} 0\nsizes_sum 0\nsizes_count 0\n',
    );
    total.inc();
    total.inc(2.5);
    expect(await registry.metrics()).toContain('\ntotal 3.5\n');
  });

  test('numbers: non-finite values as +Inf, -Inf and NaN, others as JavaScript writes them', () => {
    expect([Infinity, -Infinity, NaN, 0, -0, 1e-7, 1.5e21, 0.1 + 0.2, 2 ** 53].map(formatNumber)).toEqual([
      '+Inf', '-Inf', 'NaN', '0', '0', '1e-7', '1.5e+21', '0.30000000000000004', '9007199254740992',
    ]);
  });

  test('escaping: label values escape backslash, double quote and newline; help escapes backslash and newline', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
  });
});

describe('series', () => {
  test('labels() returns the same series for the same values: updates through it and through the metric add up', () => {
    const counter = new Counter({ name: 'c', help: 'c', labelNames: ['a', 'b'] as const });
    const child = counter.labels({ a: 'x', b: 'y' });
    expect(counter.labels({ b: 'y', a: 'x' })).toBe(child);
    expect(counter.labels({ a: 'x', b: 'z' })).not.toBe(child);
    child.inc();
    counter.inc({ a: 'x', b: 'y' }, 2);
    expect(child.value).toBe(3);
    const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['a'] as const, buckets: [1] });
    expect(histogram.labels({ a: 'x' })).toBe(histogram.labels({ a: 'x' }));
  });

  test('get() lists each series with its labels and value', () => {
    const counter = new Counter({ name: 'c', help: 'c help', labelNames: ['a'] as const });
    counter.inc({ a: 'x' }, 2);
    counter.inc({ a: 'y' });
    expect(counter.get()).toEqual({
      name: 'c',
      help: 'c help',
      type: 'counter',
      values: [{ labels: { a: 'x' }, value: 2 }, { labels: { a: 'y' }, value: 1 }],
    });
  });

  test('remove() drops one series; reset() drops them all, and a later update starts a new series from 0', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'g', help: 'g', labelNames: ['p'] as const, registers: [registry] });
    const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['p'] as const, buckets: [1], registers: [registry] });
    gauge.set({ p: '0' }, 1);
    gauge.set({ p: '1' }, 2);
    gauge.remove({ p: '0' });
    gauge.remove({ p: 'never' });
    expect(gauge.get().values).toEqual([{ labels: { p: '1' }, value: 2 }]);
    gauge.set({ p: '0' }, 5); // back, after the others
    expect(gauge.get().values.map((v) => v.labels.p)).toEqual(['1', '0']);
    histogram.observe({ p: 'a' }, 0.5);
    registry.resetMetrics();
    expect(await registry.metrics()).toBe('# HELP g g\n# TYPE g gauge\n\n# HELP h h\n# TYPE h histogram\n');
    gauge.inc({ p: '1' });
    expect(gauge.get().values).toEqual([{ labels: { p: '1' }, value: 1 }]);
  });

  test('gauges go up and down', () => {
    const gauge = new Gauge({ name: 'g', help: 'g', labelNames: ['p'] as const });
    const child = gauge.labels({ p: '1' });
    child.set(10);
    child.inc();
    child.dec(3);
    gauge.inc({ p: '1' }, 2);
    gauge.dec({ p: '1' });
    expect(child.value).toBe(9);
  });

  test('mistakes are refused: unknown label, counter going down, missing label values, le on a histogram, duplicate names', () => {
    const counter = new Counter({ name: 'c', help: 'c', labelNames: ['a'] as const });
    expect(() => counter.inc({ a: 'x', b: 'y' } as never)).toThrow('unknown label "b"');
    expect(() => counter.inc({ a: 'x' }, -1)).toThrow('only goes up');
    expect(() => counter.inc()).toThrow('label values are required');
    expect(() => new Histogram({ name: 'h', help: 'h', labelNames: ['le'] })).toThrow('"le"');
    const registry = new Registry();
    new Gauge({ name: 'g', help: 'g', registers: [registry] });
    expect(() => new Gauge({ name: 'g', help: 'g', registers: [registry] })).toThrow('already been registered');
  });
});

test('process metrics are read at scrape time', async () => {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const text = await registry.metrics();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  for (const name of ['process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_seconds_total']) {
    expect(text).toContain(`# TYPE ${name} counter\n`);
    expect(value(name)).toBeGreaterThanOrEqual(0);
  }
  expect(value('process_cpu_seconds_total')).toBeCloseTo(value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total'), 6);
  expect(Math.abs(value('process_start_time_seconds') - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
  expect(value('process_resident_memory_bytes')).toBeGreaterThan(1e6);
  expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  expect(value('nodejs_heap_size_total_bytes')).toBeGreaterThan(0);
  expect(value('nodejs_external_memory_bytes')).toBeGreaterThanOrEqual(0);
  expect(value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  expect(text).toContain(`nodejs_version_info{version="${process.version}",major="`);
  if (process.platform === 'linux') {
    expect(value('process_virtual_memory_bytes')).toBeGreaterThan(value('process_resident_memory_bytes'));
    expect(value('process_heap_bytes')).toBeGreaterThan(0);
    expect(value('process_open_fds')).toBeGreaterThan(2);
    expect(value('process_max_fds')).toBeGreaterThanOrEqual(value('process_open_fds'));
  }
  const before = value('process_cpu_seconds_total');
  for (let i = 0, x = 0; i < 2e6; i++) x += i;
  const again = await registry.metrics();
  expect(Number(/^process_cpu_seconds_total (\S+)$/m.exec(again)?.[1])).toBeGreaterThan(before);
});
