/**
 * `sink_events` of one sink: a delivered batch is counted per table in plain numbers (runs of one
 * table add once), added to the counter when the metrics are collected (metrics/tally.ts), so a
 * batch costs no prom-client call.
 */
import type { ChangeEvent } from '../event/event.ts';
import type { Metrics } from '../metrics/catalogue.ts';
import { Tally } from '../metrics/tally.ts';

export class SinkEventCounter {
  private readonly tally: Tally<'sinkName' | 'sinkType' | 'table'>;

  constructor(metrics: Metrics, sinkName: string, sinkType: string) {
    this.tally = new Tally(metrics, metrics.sinkEvents, (table) => ({ sinkName, sinkType, table }));
  }

  /** Adds a delivered batch. */
  count(batch: readonly ChangeEvent[]): void {
    if (batch.length === 0) return;
    // Consecutive events nearly always share their table: counted as runs, one addition per run.
    let table = (batch[0] as ChangeEvent).table;
    let run = 0;
    for (let i = 0; i < batch.length; i++) {
      const next = (batch[i] as ChangeEvent).table;
      if (next !== table) {
        this.tally.add(table, run);
        table = next;
        run = 0;
      }
      run++;
    }
    this.tally.add(table, run);
  }
}
