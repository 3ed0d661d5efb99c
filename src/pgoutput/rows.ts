/**
 * Turns a decoded Insert/Update/Delete and its cached Relation into named columns, converting each
 * value with a callback (the type converter lives elsewhere). Unchanged TOAST values are listed in
 * `unchanged` and left out of the columns: reporting them as null would be a lie (the original's bug).
 */
import { TupleMismatchError } from './errors.ts';
import { UNCHANGED_TOAST, type OldTupleKind, type RelationColumn, type RowMessage, type TupleData } from './messages.ts';
import type { RelationInfo } from './relations.ts';

/**
 * Converts one non-null raw value: text as a string, binary as bytes; `index` is the column's
 * position in the relation. Must not throw for bad input.
 */
export type ConvertValue<V> = (typeOid: number, raw: string | Uint8Array, column: RelationColumn, index: number) => V;

/** Named columns of a row; SQL NULL is null. Has no prototype, so any column name is safe as a key. */
export type RowColumns<V> = Record<string, V | null>;

/** A row change with named, converted columns. */
export interface RowChange<V> {
  /** Insert/update: the new row. Delete: the old key or row as sent (non-key columns null for a key). */
  columns: RowColumns<V>;
  /** Update/delete: the old key ('key', key columns only) or old row ('old'), when PostgreSQL sent one. */
  old: RowColumns<V> | undefined;
  oldKind: OldTupleKind | undefined;
  /** Replica identity column names of the relation. */
  key: readonly string[];
  /** Columns whose value is an unchanged TOAST datum (update only): absent from `columns`. */
  unchanged: string[];
}

/**
 * Names and converts the values of a row change. Throws TupleMismatchError when a tuple does not
 * have the relation's column count (a stale schema).
 */
export function rowChange<V>(message: RowMessage, relation: RelationInfo, convert: ConvertValue<V>): RowChange<V> {
  const unchanged: string[] = [];
  if (message.tag === 'delete') {
    const columns = namedColumns(message.oldTuple, relation, convert, undefined);
    const old = message.oldKind === 'key' ? keyOnly(columns, relation) : columns;
    return { columns, old, oldKind: message.oldKind, key: relation.keyColumns, unchanged };
  }
  const columns = namedColumns(message.newTuple, relation, convert, unchanged);
  let old: RowColumns<V> | undefined;
  let oldKind: OldTupleKind | undefined;
  if (message.tag === 'update' && message.oldTuple !== undefined) {
    oldKind = message.oldKind;
    const oldColumns = namedColumns(message.oldTuple, relation, convert, undefined);
    old = oldKind === 'key' ? keyOnly(oldColumns, relation) : oldColumns;
  }
  return { columns, old, oldKind, key: relation.keyColumns, unchanged };
}

function namedColumns<V>(
  tuple: TupleData,
  relation: RelationInfo,
  convert: ConvertValue<V>,
  unchanged: string[] | undefined,
): RowColumns<V> {
  const columns = relation.columns;
  if (tuple.length !== columns.length) throw new TupleMismatchError(relation.relationId, columns.length, tuple.length);
  const out: RowColumns<V> = Object.create(null);
  const order = relation.nameOrder;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    const column = columns[i] as RelationColumn;
    const raw = tuple[i];
    if (raw === null) out[column.name] = null;
    else if (raw === UNCHANGED_TOAST) unchanged?.push(column.name);
    else if (raw !== undefined) out[column.name] = convert(column.typeOid, raw, column, i);
  }
  return out;
}

/** A key tuple has a value for each key column and NULL for the rest: keep the key columns only. */
function keyOnly<V>(columns: RowColumns<V>, relation: RelationInfo): RowColumns<V> {
  const out: RowColumns<V> = Object.create(null);
  for (const name of relation.keyColumns) {
    if (name in columns) out[name] = columns[name] as V | null;
  }
  return out;
}
