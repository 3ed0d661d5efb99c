/**
 * The keys of one table to read again (docs/snapshots.md, "Rows moved during the copy"): the stream
 * moved a row there, leaving values Unchanged, while the table was copied. Pure bookkeeping over the
 * table's persisted list (`TableRecord.refetch`); table-copy.ts reads the keys and reports back.
 *
 * A key is listed once. A read of it is in flight from `take` until `delivered` (or `abandoned`);
 * a move to the key heard meanwhile may postdate the read's snapshot, so the key then stays listed
 * for one more read instead of leaving the list with the delivery.
 */
import { RawJson, type ChangeEvent, type ColumnValue } from '../../../event/event.ts';
import type { TableRecord } from './record.ts';

/** The text of a moved row's key columns, or undefined when one has no text form to read it again by. */
export function movedKey(event: ChangeEvent): string[] | undefined {
  const key = (event.key ?? []).map((column) => keyText(event.columns[column]));
  if (key.length === 0 || key.some((text) => text === undefined)) return undefined;
  return key as string[];
}

/** A key column's value as text the server casts back to the column's type, or undefined when it has none (arrays, composites). */
function keyText(value: ColumnValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof RawJson) return value.json;
  return undefined;
}

export class MovedKeys {
  /** Keys being read (JSON of the key texts) → moved to again since that read was taken. */
  private readonly inFlight = new Map<string, boolean>();

  constructor(private readonly table: TableRecord) {}

  /** Keys listed, in flight or not. */
  get size(): number {
    return this.table.refetch?.length ?? 0;
  }

  /** The stream moved a row to `key`. Returns true when the list changed (it is then persisted). */
  add(key: string[]): boolean {
    const id = JSON.stringify(key);
    const list = (this.table.refetch ??= []);
    if (list.some((listed) => JSON.stringify(listed) === id)) {
      if (this.inFlight.has(id)) this.inFlight.set(id, true);
      return false;
    }
    list.push(key);
    return true;
  }

  /** Up to `max` listed keys not being read yet, in list order; they are in flight from now. */
  take(max: number): string[][] {
    const keys: string[][] = [];
    for (const key of this.table.refetch ?? []) {
      if (keys.length >= max) break;
      const id = JSON.stringify(key);
      if (this.inFlight.has(id)) continue;
      this.inFlight.set(id, false);
      keys.push(key);
    }
    return keys;
  }

  /** The read of `keys` was delivered: they leave the list, except those moved to again meanwhile. */
  delivered(keys: readonly string[][]): void {
    const done = new Set<string>();
    for (const key of keys) {
      const id = JSON.stringify(key);
      if (this.inFlight.get(id) === false) done.add(id);
      this.inFlight.delete(id);
    }
    if (done.size > 0) this.table.refetch = (this.table.refetch ?? []).filter((key) => !done.has(JSON.stringify(key)));
  }

  /** The read of `keys` will not be delivered (read again, cancelled, failed): they stay listed. */
  abandoned(keys: readonly string[][]): void {
    for (const key of keys) this.inFlight.delete(JSON.stringify(key));
  }
}
