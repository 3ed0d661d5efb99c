/**
 * ChangeEvent → Debezium change records (docs/debezium.md): the key `{key columns}` and the value
 * `{before, after, source, transaction, op, ts_ms, ts_us, ts_ns}` of Debezium's PostgreSQL
 * connector with the JSON converter's `schemas.enable=false`; a tombstone (null value) after each
 * delete when enabled; topic `<prefix>.<schema>.<table>`. Pure. As Debezium does, an update that
 * changes the key becomes a delete (+ tombstone) of the old key and a create of the new one.
 */
import type { ChangeEvent, ColumnValue, Columns } from '../event.ts';
import { DEBEZIUM_COMPAT_VERSION } from './version.ts';
import { debeziumValue, UNAVAILABLE_VALUE, type DbzValue, type DecimalMode } from './values.ts';

export interface DebeziumOptions {
  /** Debezium's `topic.prefix`: `source.name` and the first part of the topic. */
  readonly prefix: string;
  readonly decimalMode: DecimalMode;
  /** A record with a null value after each delete (Debezium's `tombstones.on.delete`). */
  readonly tombstones: boolean;
}

/** One Kafka-style record: the value is null for a tombstone, the key null for a truncate. */
export interface DebeziumRecord {
  readonly topic: string;
  readonly key: DbzValue;
  readonly value: DbzValue;
}

type Op = 'c' | 'u' | 'd' | 'r' | 't';

/** Debezium's topic of a table's events. */
export function debeziumTopic(prefix: string, schema: string, table: string): string {
  return `${prefix}.${schema === '' ? 'public' : schema}.${table}`;
}

/** Epoch microseconds of an RFC 3339 UTC time with up to 6 fraction digits ("...:05.5Z"). */
function epochMicros(text: string | undefined): bigint | null {
  if (text === undefined) return null;
  const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (m === null) return null;
  const ms = Date.parse(m[1]! + m[3]!);
  if (Number.isNaN(ms)) return null;
  return BigInt(ms) * 1000n + BigInt((m[2] ?? '').padEnd(6, '0').slice(0, 6));
}

/** A row in Debezium's conventions, in table order when the types are known; unchanged TOAST columns get the placeholder. */
function row(event: ChangeEvent, columns: Columns, options: DebeziumOptions, unchanged?: readonly string[]): { [key: string]: DbzValue } {
  const out: { [key: string]: DbzValue } = {};
  const types = event.columnTypes;
  const names = types === undefined ? Object.keys(columns) : Object.keys(types);
  for (const name of names) {
    if (unchanged?.includes(name)) out[name] = UNAVAILABLE_VALUE;
    else out[name] = debeziumValue(columns[name] ?? null, types?.[name], options.decimalMode);
  }
  return out;
}

function keyOf(event: ChangeEvent, columns: Columns, options: DebeziumOptions): DbzValue {
  const key = event.key;
  if (key === undefined || key.length === 0) return null;
  const out: { [key: string]: DbzValue } = {};
  for (const name of key) out[name] = debeziumValue(columns[name] ?? null, event.columnTypes?.[name], options.decimalMode);
  return out;
}

/** The `source` block. Values we do not have are null (docs/debezium.md, "Differences"). */
function sourceBlock(event: ChangeEvent, options: DebeziumOptions): DbzValue {
  const commitMicros = epochMicros(event.commitTime) ?? epochMicros(event.timestamp) ?? 0n;
  const lsn = event.lsn;
  return {
    version: DEBEZIUM_COMPAT_VERSION,
    connector: 'postgresql',
    name: options.prefix,
    ts_ms: commitMicros / 1000n,
    snapshot: event.snapshot === true ? 'true' : 'false',
    db: event.database,
    sequence: JSON.stringify([event.commitLsn === undefined ? null : String(event.commitLsn), String(lsn)]),
    ts_us: commitMicros,
    ts_ns: commitMicros * 1000n,
    schema: event.schema === '' ? 'public' : event.schema,
    table: event.table,
    txId: event.xid ?? null,
    lsn,
    xmin: null,
    origin: null,
    origin_lsn: null,
  };
}

function envelope(event: ChangeEvent, op: Op, before: DbzValue, after: DbzValue, options: DebeziumOptions): DbzValue {
  const now = epochMicros(event.timestamp) ?? BigInt(Date.now()) * 1000n;
  return { before, after, source: sourceBlock(event, options), transaction: null, op, ts_ms: now / 1000n, ts_us: now, ts_ns: now * 1000n };
}

const sameValue = (a: ColumnValue | undefined, b: ColumnValue | undefined): boolean =>
  JSON.stringify(a ?? null, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) === JSON.stringify(b ?? null, (_k, v) => (typeof v === 'bigint' ? String(v) : v));

/** The old row of a key-only old tuple, with every column (non-key ones null), as Debezium writes a delete's `before`. */
function keyOnlyRow(event: ChangeEvent, old: Columns): Columns {
  const out: Columns = {};
  for (const name of Object.keys(event.columnTypes ?? old)) out[name] = event.key?.includes(name) ? old[name] ?? null : null;
  return out;
}

/** The Debezium records of one event (none for a logical decoding message). */
export function debeziumRecords(event: ChangeEvent, options: DebeziumOptions): DebeziumRecord[] {
  const topic = debeziumTopic(options.prefix, event.schema, event.table);
  switch (event.action) {
    case 'insert': {
      const after = row(event, event.columns, options);
      return [{ topic, key: keyOf(event, event.columns, options), value: envelope(event, event.snapshot ? 'r' : 'c', null, after, options) }];
    }
    case 'update': {
      const old = event.old;
      const after = row(event, event.columns, options, event.unchanged);
      const keyChanged = old !== undefined && (event.key ?? []).some((name) => name in old && !sameValue(old[name], event.columns[name]));
      if (keyChanged) {
        const before = row(event, keyOnlyRow(event, old), options);
        const oldKey = keyOf(event, old, options);
        const records: DebeziumRecord[] = [{ topic, key: oldKey, value: envelope(event, 'd', before, null, options) }];
        if (options.tombstones) records.push({ topic, key: oldKey, value: null });
        records.push({ topic, key: keyOf(event, event.columns, options), value: envelope(event, 'c', null, after, options) });
        return records;
      }
      // A full old row (REPLICA IDENTITY FULL) is the `before`; a key-only one is not sent for an unchanged key.
      const before = old === undefined ? null : row(event, old, options);
      return [{ topic, key: keyOf(event, event.columns, options), value: envelope(event, 'u', before, after, options) }];
    }
    case 'delete': {
      const key = keyOf(event, event.columns, options);
      const records: DebeziumRecord[] = [{ topic, key, value: envelope(event, 'd', row(event, event.columns, options), null, options) }];
      if (options.tombstones) records.push({ topic, key, value: null });
      return records;
    }
    case 'truncate':
      return [{ topic, key: null, value: envelope(event, 't', null, null, options) }];
    case 'message':
      return [];
  }
}
