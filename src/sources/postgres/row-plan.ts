/**
 * What the PostgreSQL source's hot path (row-bytes.ts) encodes once rather than per row: a
 * relation's RowPlan (its line heads, sorted `"name":` keys, each column's byte rule, the `Key`
 * array and the row key's head) and a transaction's `,"XID":…` piece.
 */
import { compareCodePoints, goJsonString } from '../../event/go-json.ts';
import { utf8Bytes } from '../../core/bytes.ts';
import { rowKeyHeadJson } from '../../event/key.ts';
import type { RelationInfo } from '../../pgoutput/relations.ts';
import { asText, type Converter } from '../../pgtypes/converter.ts';
import { OID } from '../../pgtypes/oids.ts';
import type { TypeRegistry } from '../../pgtypes/index.ts';
import { BOOL, DATE, INTEGER, JSON_TEXT, OTHER, TEXT, TIMESTAMP, TIMESTAMPTZ } from './value-bytes.ts';

/** What a snapshot row adds after every other key (docs/snapshots.md). */
export const SNAPSHOT_TAIL_TEXT = ',"Snapshot":true';

export interface ColumnPlan {
  /** Position in the tuple. */
  readonly index: number;
  readonly name: string;
  /** `"name":` */
  readonly key: Uint8Array;
  readonly kind: number;
  readonly converter: Converter;
  /** One of the relation's replica identity columns (kept in the Old of a 'K' tuple). */
  readonly identity: boolean;
}

/** What is fixed per relation and key columns. */
export interface RowPlan {
  /** In name order, which is also Go's key order here (see rowPlan). */
  readonly columns: readonly ColumnPlan[];
  /** `{"Host":…,"Action":"insert","WALPosition":` per action. */
  readonly heads: { readonly insert: Uint8Array; readonly update: Uint8Array; readonly delete: Uint8Array };
  /** `,"Schema":"…"`, or nothing when the schema is ''. */
  readonly schema: Uint8Array;
  /** `,"Key":[…]` of the given key columns (the event's Key) */
  readonly keyJson: Uint8Array;
  /** Tuple index of each key column, in key order (-1: not a column). */
  readonly keyIndexes: Int32Array;
  /** `["schema.table"`: the start of every row key of the relation (event/key.ts rowKey). */
  readonly rowKeyHead: Uint8Array;
  /** Every key column is a column of the relation, so a row's key names the row (snapshot rows' UUIDs). */
  readonly keyComplete: boolean;
  /** What a snapshot row (no Old, nothing Unchanged) writes after Columns: Schema, Key, the marker, `}`. */
  readonly snapshotEnd: Uint8Array;
}

/**
 * The plan of a relation, or undefined when its rows need the general path (column names whose
 * UTF-16 order differs from Go's code point order).
 */
export function rowPlan(relation: RelationInfo, key: readonly string[], types: TypeRegistry, host: string, database: string): RowPlan | undefined {
  const kinds = new Map<Converter, number>();
  // Taken together with the columns' converters, so a registry reset in between cannot mix generations.
  const setKind = (oids: readonly number[], kind: number) => {
    for (const oid of oids) kinds.set(types.converter(oid), kind);
  };
  setKind([OID.int2, OID.int4, OID.int8, OID.oid, OID.xid, OID.cid, OID.xid8], INTEGER);
  setKind([OID.bool], BOOL);
  setKind([OID.timestamptz], TIMESTAMPTZ);
  setKind([OID.timestamp], TIMESTAMP);
  setKind([OID.date], DATE);
  setKind([OID.json, OID.jsonb], JSON_TEXT);
  const identity = new Set(relation.keyColumns);
  const columns = relation.nameOrder.map((index): ColumnPlan => {
    const column = relation.columns[index]!;
    const converter = types.converter(column.typeOid);
    const kind = converter === asText ? TEXT : kinds.get(converter) ?? OTHER;
    return { index, name: column.name, key: utf8Bytes(goJsonString(column.name) + ':'), kind, converter, identity: identity.has(column.name) };
  });
  for (let k = 1; k < columns.length; k++) {
    if (compareCodePoints(columns[k - 1]!.name, columns[k]!.name) > 0) return undefined;
  }
  const head = (action: string) =>
    utf8Bytes(`{"Host":${goJsonString(host)},"Database":${goJsonString(database)},"Table":${goJsonString(relation.name)},"Action":"${action}","WALPosition":`);
  const indexByName = new Map(relation.columns.map((column, i) => [column.name, i]));
  const schema = relation.namespace === '' ? '' : ',"Schema":' + goJsonString(relation.namespace);
  const keyJson = ',"Key":[' + key.map(goJsonString).join(',') + ']';
  return {
    columns,
    heads: { insert: head('insert'), update: head('update'), delete: head('delete') },
    schema: utf8Bytes(schema),
    keyJson: utf8Bytes(keyJson),
    keyIndexes: Int32Array.from(key, (name) => indexByName.get(name) ?? -1),
    rowKeyHead: utf8Bytes(rowKeyHeadJson({ schema: relation.namespace, table: relation.name })),
    keyComplete: key.length > 0 && key.every((name) => indexByName.has(name)),
    snapshotEnd: utf8Bytes(schema + keyJson + SNAPSHOT_TAIL_TEXT + '}'),
  };
}

/** `,"XID":…,"CommitLSN":…,"CommitTime":"…"` of a transaction (or nothing outside one). */
export function transactionJson(txn: { xid: number; commitLsn: bigint; commitTime: string } | undefined): Uint8Array {
  if (txn === undefined) return new Uint8Array(0);
  return utf8Bytes(`,"XID":${txn.xid},"CommitLSN":${txn.commitLsn},"CommitTime":${goJsonString(txn.commitTime)}`);
}
