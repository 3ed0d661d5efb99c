/**
 * `source_events` and `source_event_processing_time_sec` for one source, updated per event through
 * each table's series, looked up once per table (a series update is then a few nanoseconds).
 */
import { sourceEventProcessingTime, sourceEvents } from '../../metrics/catalogue.ts';

interface TableSeries {
  count: { inc(): void };
  time: { observe(seconds: number): void };
}

export class SourceEventMetrics {
  private readonly tables = new Map<string, TableSeries>();

  constructor(private readonly sourceName: string, private readonly sourceType: string) {}

  /** One event of `table`, whose building and queueing started at `started` (performance.now()). */
  record(table: string, started: number): void {
    const series = this.series(table);
    series.count.inc();
    series.time.observe((performance.now() - started) / 1000);
  }

  private series(table: string): TableSeries {
    let series = this.tables.get(table);
    if (series === undefined) {
      const labels = { sourceName: this.sourceName, sourceType: this.sourceType, table };
      series = { count: sourceEvents.labels(labels), time: sourceEventProcessingTime.labels(labels) };
      this.tables.set(table, series);
    }
    return series;
  }
}
