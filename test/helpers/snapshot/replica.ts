/**
 * The snapshot tests' consumer: applies events in order as upserts and deletes by key to an
 * in-memory copy of one table, then compares it row by row with the table's contents read by SQL.
 * Pure: the events come in as parsed lines (events.ts), the table's rows as text.
 *
 * The comparison is exact. Each value is reduced to a canonical JSON text on both sides by one rule
 * per column kind, and the rules lose nothing:
 * - `int`: the JSON number's digits as written (every digit: int8 beyond 2^53 too) = `col::text`;
 * - `bool`: `true`/`false` = SQL's `t`/`f` spelled out;
 * - `string` (text, numeric, bytea, timestamptz): the decoded JSON string, re-encoded with
 *   JSON.stringify (so only the escaping style is normalised, never a character) = the SQL text
 *   rendered as the event renders it (numeric's exact text, bytea's `\x` hex, timestamptz in RFC 3339
 *   UTC with the fraction's trailing zeros dropped);
 * - `json` (jsonb): the text written verbatim = `col::text`;
 * - `array`: the decoded JSON array re-encoded = `array_to_json(col)::text` decoded and re-encoded.
 * SQL NULL is `null` on both sides. An unchanged TOAST value (listed in `Unchanged`) keeps the value
 * the copy had; when the copy had none it becomes UNKNOWN, which never equals a table value.
 */
import type { EventLine } from './events.ts';

export type ColumnKind = 'int' | 'bool' | 'string' | 'json' | 'array';

/** A column of the compared table: its name, its kind, and the SQL giving its text as the event renders it. */
export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** SQL expression of type text (NULL for SQL NULL). */
  sql: string;
}

/** Stands for a value an event left out (Unchanged) while the copy had no value for it. */
export const UNKNOWN = '<unknown: listed as Unchanged, no earlier value>';

/** The canonical text of a value as an event carries it (its exact JSON text). */
export function canonicalFromEvent(kind: ColumnKind, raw: string): string {
  if (raw === 'null') return 'null';
  switch (kind) {
    case 'int':
      if (!/^-?\d+$/.test(raw)) throw new Error(`not an integer: ${raw.slice(0, 80)}`);
      return raw;
    case 'bool':
      if (raw !== 'true' && raw !== 'false') throw new Error(`not a bool: ${raw.slice(0, 80)}`);
      return raw;
    case 'string': {
      const value = JSON.parse(raw) as unknown;
      if (typeof value !== 'string') throw new Error(`not a string: ${raw.slice(0, 80)}`);
      return JSON.stringify(value);
    }
    case 'json':
      return raw;
    case 'array': {
      const value = JSON.parse(raw) as unknown;
      if (!Array.isArray(value)) throw new Error(`not an array: ${raw.slice(0, 80)}`);
      return JSON.stringify(value);
    }
  }
}

/** The canonical text of a value as the table's SQL gives it (see ColumnSpec.sql). */
export function canonicalFromSql(kind: ColumnKind, text: string | null): string {
  if (text === null) return 'null';
  switch (kind) {
    case 'int':
    case 'json':
      return text;
    case 'bool':
      if (text === 't' || text === 'true') return 'true';
      if (text === 'f' || text === 'false') return 'false';
      throw new Error(`not a bool: ${text}`);
    case 'string':
      return JSON.stringify(text);
    case 'array':
      return JSON.stringify(JSON.parse(text));
  }
}

/** What the consumer saw, for the tests' checks. */
export interface ReplicaStats {
  events: number;
  snapshotRows: number;
  streamEvents: number;
  /** Values events listed as Unchanged (left out as unchanged TOAST values). */
  unchanged: number;
  /** Unchanged values of rows the copy had no value for. */
  unknownUnchanged: number;
  /** Ids that came in a snapshot row. */
  snapshotIds: Set<string>;
  /** Ids a stream event (insert, update, delete) named. */
  streamIds: Set<string>;
}

/**
 * Where an event stands in the stream, comparable across keys: a change at (CommitLSN, TxIndex); a
 * snapshot row at its WALPosition, after the changes committed before it and before those at or
 * after it (docs/snapshots.md, "How a chunk joins the stream").
 */
export function streamOrder(event: EventLine): bigint {
  if (event.snapshot) return BigInt(event.walPosition || '0') << 33n;
  return (BigInt(event.commitLsn || '0') << 33n) | (1n << 32n) | BigInt(event.txIndex || '0');
}

/**
 * The in-memory copy of one table, built by applying its events in order.
 *
 * `partitioned`: events come from Kafka partitions, each key's in order but the partitions in any
 * order among each other. An update that changes the key is in its new key's partition, so it can
 * arrive before or after earlier events of its old key (docs/kafka.md, "Message key and partition"):
 * the old key then leaves only if nothing newer is there, and the old key's events older than the
 * move that arrive later are ignored. The order used is streamOrder's.
 */
export class Replica {
  /** id (its canonical text) → column name → canonical value. */
  readonly rows = new Map<string, Map<string, string>>();
  readonly stats: ReplicaStats = { events: 0, snapshotRows: 0, streamEvents: 0, unchanged: 0, unknownUnchanged: 0, snapshotIds: new Set(), streamIds: new Set() };
  private readonly kinds: Map<string, ColumnKind>;
  /** partitioned: id → streamOrder of the last event applied to it. */
  private readonly applied = new Map<string, bigint>();
  /** partitioned: id → streamOrder of the key change that moved its row away. */
  private readonly movedAway = new Map<string, bigint>();

  constructor(readonly table: string, readonly columns: readonly ColumnSpec[], readonly key = 'id', readonly partitioned = false) {
    this.kinds = new Map(columns.map((c) => [c.name, c.kind]));
  }

  /** Applies one event; events of other tables are ignored (returns false). */
  apply(event: EventLine): boolean {
    if (event.table !== this.table) return false;
    const rawKey = event.columns.get(this.key);
    if (rawKey === undefined) throw new Error(`${event.action} without the key column ${this.key}`);
    const id = canonicalFromEvent(this.kinds.get(this.key) ?? 'int', rawKey);
    this.stats.events++;
    if (event.snapshot) {
      this.stats.snapshotRows++;
      this.stats.snapshotIds.add(id);
    } else {
      this.stats.streamEvents++;
      this.stats.streamIds.add(id);
    }
    if (event.action !== 'insert' && event.action !== 'update' && event.action !== 'delete') throw new Error(`unexpected action ${event.action}`);
    const order = this.partitioned ? streamOrder(event) : 0n;
    let before = this.rows.get(id);
    // An update that changed the key: the row leaves its old key (Old names it) and keeps its values.
    const rawOldKey = event.action === 'update' ? event.old?.get(this.key) : undefined;
    if (rawOldKey !== undefined) {
      const oldId = canonicalFromEvent(this.kinds.get(this.key) ?? 'int', rawOldKey);
      if (oldId !== id) {
        if (!event.snapshot) this.stats.streamIds.add(oldId);
        if (!this.partitioned || (this.applied.get(oldId) ?? -1n) < order) {
          before = this.rows.get(oldId);
          this.rows.delete(oldId);
        }
        if (this.partitioned && order > (this.movedAway.get(oldId) ?? -1n)) this.movedAway.set(oldId, order);
      }
    }
    if (this.partitioned) {
      // Older than the key change that took the key's row away: superseded (it came late from another partition).
      if (order < (this.movedAway.get(id) ?? -1n)) return true;
      this.applied.set(id, order);
    }
    if (event.action === 'delete') {
      this.rows.delete(id);
      return true;
    }
    const row = new Map<string, string>();
    for (const [name, raw] of event.columns) {
      const kind = this.kinds.get(name);
      if (kind === undefined) throw new Error(`unknown column ${name}`);
      row.set(name, canonicalFromEvent(kind, raw));
    }
    for (const name of event.unchanged) {
      this.stats.unchanged++;
      const old = before?.get(name);
      if (old === undefined || old === UNKNOWN) this.stats.unknownUnchanged++;
      row.set(name, old ?? UNKNOWN);
    }
    this.rows.set(id, row);
    return true;
  }
}

/** The table's rows as SQL gave them (each column named as in ColumnSpec) → id → canonical values. */
export function expectedRows(columns: readonly ColumnSpec[], rows: ReadonlyArray<Record<string, string | null>>, key = 'id'): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const sqlRow of rows) {
    const row = new Map<string, string>();
    for (const c of columns) row.set(c.name, canonicalFromSql(c.kind, sqlRow[c.name] ?? null));
    out.set(row.get(key) as string, row);
  }
  return out;
}

const short = (s: string | undefined) => (s === undefined ? 'absent' : s.length > 60 ? `${s.slice(0, 40)}… (${s.length} chars)` : s);

/** Every difference between the copy and the table (empty when equal), the first `limit` spelled out. */
export function compareRows(actual: ReadonlyMap<string, ReadonlyMap<string, string>>, expected: ReadonlyMap<string, ReadonlyMap<string, string>>, columns: readonly ColumnSpec[], limit = 10): { count: number; examples: string[] } {
  const examples: string[] = [];
  let count = 0;
  const note = (text: string) => {
    count++;
    if (examples.length < limit) examples.push(text);
  };
  for (const [id, want] of expected) {
    const got = actual.get(id);
    if (got === undefined) {
      note(`row ${id}: missing`);
      continue;
    }
    const wrong = columns.filter((c) => got.get(c.name) !== want.get(c.name));
    if (wrong.length > 0) note(`row ${id}: ${wrong.map((c) => `${c.name} ${short(got.get(c.name))} instead of ${short(want.get(c.name))}`).join('; ')}`);
  }
  for (const id of actual.keys()) if (!expected.has(id)) note(`row ${id}: present, but not in the table (stale: deleted)`);
  return { count, examples };
}
