/** The pipeline's metrics: per batch, and what is read from its own counts when scraped. */
import { expect, test } from 'bun:test';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { permanentError } from '../../../src/core/errors.ts';
import { ManualTimers, until } from '../../helpers/async.ts';
import { fakeSink, fakeSource, item, makePipeline, range } from '../../helpers/pipeline-fakes.ts';

const sample = (text: string, line: string) => text.split('\n').find((l) => l.startsWith(line))?.slice(line.length).trim();

test('batches, acknowledgements and the buffer level are what the pipeline did, at each scrape', async () => {
  const metrics = createMetrics();
  const source = fakeSource();
  const sink = fakeSink('s');
  const p = makePipeline(source, [sink], { timers: new ManualTimers(), metrics });
  // Series exist from the start, at 0.
  let { body } = await metrics.scrape();
  expect(sample(body, 'pipeline_acks_total{source="db1"}')).toBe('0');
  expect(sample(body, 'pipeline_batch_events_count{source="db1"}')).toBe('0');
  expect(sample(body, 'pipeline_retries_total{source="db1",sink="s"}')).toBe('0');
  expect(sample(body, 'pipeline_stopped{source="db1"}')).toBe('0');
  for (const i of range(0, 7)) p.push(item(i));
  await until(() => source.acks.length === 2, 'two acks');
  ({ body } = await metrics.scrape());
  expect(sample(body, 'pipeline_acks_total{source="db1"}')).toBe('2');
  expect(sample(body, 'pipeline_batch_events_count{source="db1"}')).toBe('2');
  expect(sample(body, 'pipeline_batch_events_sum{source="db1"}')).toBe('6');
  expect(sample(body, 'pipeline_delivery_seconds_count{source="db1",sink="s"}')).toBe('2');
  // The 7th event waits in the open batch.
  expect(sample(body, 'pipeline_buffered_events{source="db1"}')).toBe('1');
  // A second scrape adds nothing that did not happen.
  ({ body } = await metrics.scrape());
  expect(sample(body, 'pipeline_acks_total{source="db1"}')).toBe('2');
  p.close();
});

test('pipeline_stopped turns 1 once a permanent error halts the pipeline, and stays 1', async () => {
  const metrics = createMetrics();
  const source = fakeSource();
  const sink = fakeSink('s');
  sink.failing = true;
  sink.failWith = () => permanentError('message too large (2 MB > 1 MB)');
  const p = makePipeline(source, [sink], { timers: new ManualTimers(), metrics, batchSize: 1 });
  p.push(item(0));
  await p.failure;
  let { body } = await metrics.scrape();
  expect(sample(body, 'pipeline_stopped{source="db1"}')).toBe('1');
  ({ body } = await metrics.scrape());
  expect(sample(body, 'pipeline_stopped{source="db1"}')).toBe('1');
  p.close();
});
