import type { ChangeEvent, ColumnValue, Columns } from '../event/event.ts';
import { RawJson } from '../event/event.ts';

/** Fixed cost of an event object, its metadata strings and array slots. */
const EVENT_OVERHEAD = 256;
/** Cost of one column entry besides its name and value. */
const ENTRY_OVERHEAD = 16;

/** Rough memory size of a column value; strings count one byte per code unit. */
function valueBytes(value: ColumnValue): number {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return 8;
  if (typeof value === 'string') return value.length;
  if (typeof value === 'bigint') return 16;
  if (value instanceof RawJson) return value.json.length;
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value as readonly ColumnValue[]) total += ENTRY_OVERHEAD + valueBytes(item);
    return total;
  }
  return columnsBytes(value as Columns);
}

function columnsBytes(columns: Columns): number {
  let total = 0;
  for (const name in columns) total += ENTRY_OVERHEAD + name.length + valueBytes(columns[name] as ColumnValue);
  return total;
}

/**
 * Cheap estimate of the memory an event holds, used for the pipeline's byte bound when the source
 * does not say (`PipelineItem.bytes`). Good to a small factor, which is all a bound needs.
 */
export function estimateEventBytes(event: ChangeEvent): number {
  // An event built as bytes holds its JSON and the source message it came from (about as long);
  // its columns objects may not even exist (reading them would build them).
  if (event.encoded !== undefined) return EVENT_OVERHEAD + 2 * event.encoded.length;
  let total = EVENT_OVERHEAD + event.table.length + event.schema.length + columnsBytes(event.columns);
  if (event.old) total += columnsBytes(event.old);
  return total;
}
