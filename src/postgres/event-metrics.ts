/**
 * `source_events` and `source_event_processing_time_sec` for one source, cheap enough to update per
 * event: the timing goes to a local histogram series, and counts are added to prom-client once per
 * burst (its inc() costs more than building the event).
 */
import { sourceEventProcessingTime, sourceEvents } from '../http/metrics.ts';

interface TableSeries {
  labels: { sourceName: string; sourceType: string; table: string };
  pending: number;
  time: { observe(seconds: number): void };
}

export class SourceEventMetrics {
  private readonly tables = new Map<string, TableSeries>();
  private flushQueued = false;

  constructor(private readonly sourceName: string, private readonly sourceType: string) {}

  /** One event of `table`, whose building and queueing started at `started` (performance.now()). */
  record(table: string, started: number): void {
    const series = this.series(table);
    series.pending++;
    series.time.observe((performance.now() - started) / 1000);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private series(table: string): TableSeries {
    let series = this.tables.get(table);
    if (series === undefined) {
      const labels = { sourceName: this.sourceName, sourceType: this.sourceType, table };
      series = { labels, pending: 0, time: sourceEventProcessingTime.labels(labels) };
      this.tables.set(table, series);
    }
    return series;
  }

  private flush(): void {
    this.flushQueued = false;
    for (const series of this.tables.values()) {
      if (series.pending > 0) sourceEvents.inc(series.labels, series.pending);
      series.pending = 0;
    }
  }
}
