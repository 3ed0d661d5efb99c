import type { ChangeEvent } from '../core/event.ts';
import { sinkEvents } from '../http/metrics.ts';

/** Adds a delivered batch to `sink_events`, one increment per table rather than per event. */
export function countSinkEvents(sinkName: string, sinkType: string, batch: readonly ChangeEvent[]): void {
  if (batch.length === 0) return;
  const perTable = new Map<string, number>();
  for (const event of batch) perTable.set(event.table, (perTable.get(event.table) ?? 0) + 1);
  for (const [table, count] of perTable) sinkEvents.inc({ sinkName, sinkType, table }, count);
}
