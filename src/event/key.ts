/**
 * The key of an event's Kafka message (the sink's `key`), pure. The key decides the partition, so
 * every change of one row keeps its order in one partition.
 *
 * - `row` (default): a JSON array, the table as `schema.table` followed by the values of the key
 *   (replica identity) columns in key order, e.g. `["public.users",42]` or
 *   `["shop.lines",1001,"A-7"]`. Values use the event JSON's encoding (int8 exact, text escaped as
 *   Go does), so a key is stable and parseable, and two tables sharing a topic never share a key
 *   (safe for log compaction). Values come from the new row, or from the old row/key when the new
 *   row lacks the column (deletes). Events without key columns (truncate, logical messages, tables
 *   with `REPLICA IDENTITY NOTHING`) get `["schema.table"]`. Logical decoding messages
 *   (pg_logical_emit_message) have no table: they are keyed by their prefix,
 *   `["pg_logical_emit_message","audit"]`, so one prefix's messages keep their order.
 * - `original`: `Host:Database:Table:Action`, the original psql-streamer's key.
 * - `none`: no key; the sink spreads such messages round-robin over the partitions.
 */
import type { ChangeEvent, ColumnValue } from './event.ts';
import { goJsonString, goJsonValue } from './go-json.ts';

export type KeyMode = 'row' | 'original' | 'none';

/** The `schema.table` name of an event (the bare table when the schema is unknown). */
export function qualifiedTable(event: Pick<ChangeEvent, 'schema' | 'table'>): string {
  return event.schema ? event.schema + '.' + event.table : event.table;
}

// Consecutive events nearly always share their table (the same string objects): its encoded
// `["schema.table"` is kept for the next event.
let headSchema: string | undefined;
let headTable: string | undefined;
let head = '';

/** The row key: `["schema.table",v1,v2,...]`; a logical decoding message: `["pg_logical_emit_message","prefix"]`. */
export function rowKey(event: ChangeEvent): string {
  if (event.action === 'message') return '["pg_logical_emit_message",' + goJsonValue(event.columns.prefix ?? null) + ']';
  let out = rowKeyHead(event);
  const names = event.key;
  if (names !== undefined) {
    const columns = event.columns;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      let value: ColumnValue | undefined = columns[name];
      if (value === undefined) value = event.old?.[name];
      out += ',' + goJsonValue(value ?? null);
    }
  }
  return out + ']';
}

const utf8 = new TextEncoder();

/** rowKey(event) as UTF-8 bytes: the source's own (`rowKeyJson`) when it built them. */
export function rowKeyBytes(event: ChangeEvent): Uint8Array {
  return event.rowKeyJson ?? utf8.encode(rowKey(event));
}

/** The start of a table's row keys, `["schema.table"` (values and `]` follow). */
export function rowKeyHeadJson(table: Pick<ChangeEvent, 'schema' | 'table'>): string {
  return '[' + goJsonString(qualifiedTable(table));
}

function rowKeyHead(event: ChangeEvent): string {
  if (event.table !== headTable || event.schema !== headSchema) {
    headTable = event.table;
    headSchema = event.schema;
    head = rowKeyHeadJson(event);
  }
  return head;
}

/** The original's key: `Host:Database:Table:Action`, e.g. `db1:shop:orders:insert`. */
export function originalKey(event: ChangeEvent): string {
  return event.host + ':' + event.database + ':' + event.table + ':' + event.action;
}
