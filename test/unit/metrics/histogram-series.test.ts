import { describe, expect, test } from 'bun:test';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { HistogramSeries } from '../../../src/metrics/histogram-series.ts';

/** The exposition lines of one metric. */
async function lines(metrics: ReturnType<typeof createMetrics>, name: string): Promise<string[]> {
  return (await metrics.scrape()).body.split('\n').filter((line) => line.startsWith(name));
}

describe('HistogramSeries', () => {
  test('exposes what prom-client\'s observe would, bucket bounds and values above them included, only once collected', async () => {
    const ours = createMetrics();
    const theirs = createMetrics();
    const series = new HistogramSeries(ours, ours.pipelineDeliverySeconds, { source: 'db1', sink: 'k' });
    theirs.pipelineDeliverySeconds.zero({ source: 'db1', sink: 'k' });
    expect(await lines(ours, 'pipeline_delivery_seconds')).toEqual(await lines(theirs, 'pipeline_delivery_seconds'));
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const values = [0, 0.0005, 0.001, 0.0010001, 30, 31, 1e9, 0.25];
    for (let i = 0; i < 5000; i++) values.push(random() ** 4 * 40);
    for (const [i, value] of values.entries()) {
      series.observe(value);
      theirs.pipelineDeliverySeconds.observe({ source: 'db1', sink: 'k' }, value);
      // Collected in the middle too: nothing is added twice.
      if (i === 100) expect((await lines(ours, 'pipeline_delivery_seconds_count'))[0]).toBe('pipeline_delivery_seconds_count{source="db1",sink="k"} 101');
    }
    const [a, b] = [await lines(ours, 'pipeline_delivery_seconds'), await lines(theirs, 'pipeline_delivery_seconds')];
    // Sums added in another order may differ in the last bits.
    const sum = (ls: string[]) => Number(ls.find((l) => l.startsWith('pipeline_delivery_seconds_sum'))?.split(' ')[1]);
    expect(Math.abs(sum(a) - sum(b)) / sum(b)).toBeLessThan(1e-12);
    expect(a.filter((l) => !l.includes('_sum'))).toEqual(b.filter((l) => !l.includes('_sum')));
    expect(a.some((l) => l === 'pipeline_delivery_seconds_bucket{le="+Inf",source="db1",sink="k"} 5008')).toBe(true);
  });

  test('a value that is not finite is ignored; a reset registry starts the series again', async () => {
    const metrics = createMetrics();
    const series = new HistogramSeries(metrics, metrics.pipelineBatchEvents, { source: 'db1' });
    series.observe(Number.NaN);
    series.observe(Number.POSITIVE_INFINITY);
    series.observe(3);
    expect(await lines(metrics, 'pipeline_batch_events_count')).toEqual(['pipeline_batch_events_count{source="db1"} 1']);
    metrics.registry.resetMetrics();
    series.observe(700);
    const after = await lines(metrics, 'pipeline_batch_events');
    expect(after).toContain('pipeline_batch_events_count{source="db1"} 1');
    expect(after).toContain('pipeline_batch_events_bucket{le="500",source="db1"} 0');
    expect(after).toContain('pipeline_batch_events_bucket{le="1000",source="db1"} 1');
  });
});
