import { expect, test } from 'bun:test';
import { metricsRegistry } from '../../../../src/metrics/catalogue.ts';
import { SourceEventMetrics } from '../../../../src/sources/postgres/event-metrics.ts';

test('counts events and observes their processing time per table, at once', async () => {
  const metrics = new SourceEventMetrics('em-test', 'Source-PSQL');
  const started = performance.now();
  metrics.record('orders', started);
  metrics.record('orders', started);
  metrics.record('users', started);
  const text = await metricsRegistry.metrics();
  expect(text).toContain('source_events{sourceName="em-test",sourceType="Source-PSQL",table="orders"} 2');
  expect(text).toContain('source_events{sourceName="em-test",sourceType="Source-PSQL",table="users"} 1');
  expect(text).toContain('source_event_processing_time_sec_count{sourceName="em-test",sourceType="Source-PSQL",table="orders"} 2');
});
