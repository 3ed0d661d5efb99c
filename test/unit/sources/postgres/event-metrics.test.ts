import { expect, test } from 'bun:test';
import { createMetrics } from '../../../../src/metrics/catalogue.ts';
import { SAMPLE_EVERY } from '../../../../src/metrics/tally.ts';
import { SourceEventMetrics } from '../../../../src/sources/postgres/event-metrics.ts';

test('counts every event per table and times a sample of them, both seen at the scrape', async () => {
  const metrics = createMetrics();
  const events = new SourceEventMetrics(metrics, 'em-test', 'Source-PSQL');
  const started = performance.now();
  for (let i = 0; i < SAMPLE_EVERY + 8; i++) events.record('orders', started);
  events.record('users', started);
  const { body } = await metrics.scrape();
  expect(body).toContain(`source_events{sourceName="em-test",sourceType="Source-PSQL",table="orders"} ${SAMPLE_EVERY + 8}`);
  expect(body).toContain('source_events{sourceName="em-test",sourceType="Source-PSQL",table="users"} 1');
  // The 1st and the (SAMPLE_EVERY + 1)th event of "orders", the first of "users".
  expect(body).toContain('source_event_processing_time_sec_count{sourceName="em-test",sourceType="Source-PSQL",table="orders"} 2');
  expect(body).toContain('source_event_processing_time_sec_count{sourceName="em-test",sourceType="Source-PSQL",table="users"} 1');
});
