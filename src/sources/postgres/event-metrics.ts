/**
 * `source_events` and `source_event_processing_time_sec` for one source: events counted per table
 * in plain numbers and added at collection, the time observed for a sample (metrics/tally.ts), so
 * the hot path never calls prom-client per event.
 */
import type { Metrics } from '../../metrics/catalogue.ts';
import { SampledTimer, Tally } from '../../metrics/tally.ts';

export class SourceEventMetrics {
  private readonly counts: Tally<'sourceName' | 'sourceType' | 'table'>;
  private readonly times: SampledTimer<'sourceName' | 'sourceType' | 'table'>;

  constructor(metrics: Metrics, sourceName: string, sourceType: string) {
    const labels = (table: string) => ({ sourceName, sourceType, table });
    this.counts = new Tally(metrics, metrics.sourceEvents, labels);
    this.times = new SampledTimer(metrics.sourceEventProcessingTime, labels);
  }

  /** One event of `table`, whose building and queueing started at `started` (performance.now()). */
  record(table: string, started: number): void {
    this.counts.add(table);
    this.times.time(table, started);
  }
}
