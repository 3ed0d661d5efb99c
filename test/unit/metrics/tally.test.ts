import { describe, expect, test } from 'bun:test';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { SAMPLE_EVERY, SampledTimer, Tally } from '../../../src/metrics/tally.ts';

const labels = (table: string) => ({ sourceName: 'db1', sourceType: 'Source-PSQL', table });

async function values(metric: { get(): Promise<{ values: { labels: object; value: number; metricName?: string }[] }> }, name?: string) {
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) {
    if (name !== undefined && v.metricName !== name) continue;
    out[(v.labels as { table: string }).table] = v.value;
  }
  return out;
}

describe('Tally', () => {
  test('counts per key in plain numbers; the counter sees them only when collected, and nothing twice', async () => {
    const metrics = createMetrics();
    const tally = new Tally(metrics, metrics.sourceEvents, labels);
    for (const table of ['a', 'a', 'b', 'a', 'c', 'c']) tally.add(table);
    tally.add('b', 5);
    expect(await values(metrics.sourceEvents)).toEqual({ a: 3, b: 6, c: 2 });
    // A second read adds nothing; later events are added to the sums.
    expect(await values(metrics.sourceEvents)).toEqual({ a: 3, b: 6, c: 2 });
    tally.add('a');
    expect((await metrics.scrape()).body).toContain('source_events{sourceName="db1",sourceType="Source-PSQL",table="a"} 4');
  });

  test('random keys and amounts: the collected sums equal the events counted', async () => {
    const metrics = createMetrics();
    const tally = new Tally(metrics, metrics.sourceEvents, labels);
    const expected: Record<string, number> = {};
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 200; i++) {
        const table = `t${Math.floor(Math.random() * 4)}`;
        const n = Math.random() < 0.2 ? Math.floor(Math.random() * 10) : 1;
        tally.add(table, n);
        expected[table] = (expected[table] ?? 0) + n;
      }
      if (Math.random() < 0.5) await metrics.scrape();
    }
    for (const table of Object.keys(expected)) if (expected[table] === 0) delete expected[table];
    expect(await values(metrics.sourceEvents)).toEqual(expected);
  });
});

describe('SampledTimer', () => {
  test('observes the first event of each key, then every SAMPLE_EVERY-th, with its own time', async () => {
    const metrics = createMetrics();
    const timer = new SampledTimer(metrics.sourceEventProcessingTime, labels);
    const started = performance.now() - 2; // 2 ms ago: every observation is ≥ 0.002 s
    for (let i = 0; i < 2 * SAMPLE_EVERY + 1; i++) timer.time('a', started);
    timer.time('b', started);
    for (let i = 0; i < SAMPLE_EVERY - 1; i++) timer.time('b', started);
    expect(await values(metrics.sourceEventProcessingTime, 'source_event_processing_time_sec_count')).toEqual({ a: 3, b: 1 });
    const sums = await values(metrics.sourceEventProcessingTime, 'source_event_processing_time_sec_sum');
    expect(sums.a).toBeGreaterThanOrEqual(3 * 0.002);
    expect(sums.a).toBeLessThan(3 * 5);
  });

  test('next() chooses the same events as time() and counts each; observe() records the chosen', async () => {
    const metrics = createMetrics();
    const timer = new SampledTimer(metrics.sourceEventProcessingTime, labels);
    const started = performance.now() - 2;
    const chosen: number[] = [];
    for (let i = 0; i < 3 * SAMPLE_EVERY; i++) {
      if (timer.next(i % 2 === 0 ? 'a' : 'b')) {
        chosen.push(i);
        timer.observe(i % 2 === 0 ? 'a' : 'b', started);
      }
    }
    // Each key's 1st, (SAMPLE_EVERY + 1)-th, ... event: a at i = 0, 64, 128; b at i = 1, 65, 129 (for SAMPLE_EVERY 32).
    expect(chosen).toEqual([0, 1, 2 * SAMPLE_EVERY, 2 * SAMPLE_EVERY + 1]);
    timer.time('a', started); // a's 49th event: not chosen
    expect(await values(metrics.sourceEventProcessingTime, 'source_event_processing_time_sec_count')).toEqual({ a: 2, b: 2 });
  });
});
