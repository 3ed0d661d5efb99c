import type { ChangeEvent } from '../event/event.ts';
import type { Metrics } from '../metrics/catalogue.ts';

/** Adds a delivered batch to `sink_events`, one increment per table rather than per event. */
export function countSinkEvents(metrics: Pick<Metrics, 'sinkEvents'>, sinkName: string, sinkType: string, batch: readonly ChangeEvent[]): void {
  if (batch.length === 0) return;
  const perTable = new Map<string, number>();
  // Consecutive events nearly always share their table: counted as runs, one map update per run.
  let table = (batch[0] as ChangeEvent).table;
  let run = 0;
  for (let i = 0; i < batch.length; i++) {
    const next = (batch[i] as ChangeEvent).table;
    if (next !== table) {
      perTable.set(table, (perTable.get(table) ?? 0) + run);
      table = next;
      run = 0;
    }
    run++;
  }
  perTable.set(table, (perTable.get(table) ?? 0) + run);
  for (const [table, count] of perTable) metrics.sinkEvents.inc({ sinkName, sinkType, table }, count);
}
