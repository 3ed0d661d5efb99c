/** The PostgreSQL source's counters (source-metrics.ts): exposed at 0 from the start, for increase(). */
import { expect, test } from 'bun:test';
import { createMetrics } from '../../../../src/metrics/catalogue.ts';
import { PostgresSourceMetrics } from '../../../../src/sources/postgres/source-metrics.ts';

test('reconnects and accepted gaps have a series at 0 before anything happened, then count', async () => {
  const metrics = createMetrics();
  const source = new PostgresSourceMetrics(metrics, 'db1', 'Source-PSQL');
  let { body } = await metrics.scrape();
  expect(body).toContain('source_replication_reconnects_total{sourceName="db1"} 0\n');
  expect(body).toContain('source_gaps_accepted_total{sourceName="db1"} 0\n');
  source.reconnect();
  source.reconnect();
  ({ body } = await metrics.scrape());
  expect(body).toContain('source_replication_reconnects_total{sourceName="db1"} 2\n');
});
