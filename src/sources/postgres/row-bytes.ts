/**
 * The PostgreSQL source's hot path: one pgoutput Insert/Update/Delete (the bytes of an XLogData)
 * straight into the event's passthrough JSON line, without a string or object per value (the CPU
 * target of docs/benchmarks.md, "Targets"). The pgoutput text already is UTF-8 and, for integers,
 * already JSON; what is fixed per relation (head, sorted `"name":` keys, converters, the `Key`
 * array) is encoded once in a RowPlan. Values a byte rule does not cover take the general path for
 * that column only: decode, convert (src/pgtypes), goJsonValue. Output must equal encodePassthrough
 * of the event built from the decoded message (test/unit/sources/postgres/row-bytes.test.ts checks
 * it on random rows of every type).
 *
 * A snapshot row takes the same rules from its DataRow (encodeDataRow): a query's text-format row
 * carries the same text per column as the Insert pgoutput would send for it.
 *
 * encodeRow refuses (returns false) what it does not handle — a malformed or streamed message,
 * binary values, a column count that does not match, names whose UTF-16 and code point orders
 * differ — and the caller takes the general path, which also reports errors properly.
 *
 * Over the ~400-line guideline on purpose: the per-relation plan, the per-kind value writers and the
 * row loop are one hot path over one shared plan, measured as a whole (docs/benchmarks.md); a split
 * would have to be measured again before it lands.
 */
import type { ColumnValue } from '../../event/event.ts';
import { compareCodePoints, goJsonString, goJsonValue } from '../../event/go-json.ts';
import { readInt32BE, readUint32BE, utf8Bytes } from '../../core/bytes.ts';
import { LineWriter } from '../../core/line-writer.ts';
import { writeLocalTimestamp } from '../../core/time.ts';
import { UUID_TEXT_LENGTH, type EventIdentity, type SnapshotIdentity } from '../../event/identity.ts';
import { writeUuidV4 } from '../../event/uuid-bytes.ts';
import { rowKeyHeadJson } from '../../event/key.ts';
import type { RelationInfo } from '../../pgoutput/relations.ts';
import { utf8Slice } from '../../pgoutput/text.ts';
import { KIND_NULL, KIND_TEXT, KIND_UNCHANGED, TUPLE_KEY, TUPLE_NEW, TUPLE_OLD } from '../../pgoutput/tuple.ts';
import { asText, type Converter } from '../../pgtypes/converter.ts';
import { OID } from '../../pgtypes/oids.ts';
import type { TypeRegistry } from '../../pgtypes/index.ts';

const SNAPSHOT_TAIL_TEXT = ',"Snapshot":true';

// How a column's value becomes JSON: by the converter the registry hands out for its type (a
// domain gets its base type's converter, so it gets the same rule).
const OTHER = 0;
const TEXT = 1;
const INTEGER = 2;
const BOOL = 3;
const TIMESTAMPTZ = 4;
const TIMESTAMP = 5;
const DATE = 6;
const JSON_TEXT = 7;

interface ColumnPlan {
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

/**
 * What the event's UUID is made of (event/identity.ts), reused from event to event: a stream
 * event's commit LSN (as 32-bit halves) and txIndex, or, for a snapshot row, its snapshot.
 */
export interface RowIdentity {
  identity: EventIdentity;
  lsnLow: number;
  lsnHigh: number;
  txIndex: number;
  /** Set for a snapshot row: the UUID comes from the snapshot and the row key, and no TxIndex is written. */
  snapshot: SnapshotIdentity | undefined;
}

/** Where encodeRow put things, besides the line itself. */
export interface EncodedRow {
  line: Uint8Array;
  /** The Kafka row key (ChangeEvent.rowKeyJson): keyChunk[keyStart, keyEnd), no view made. */
  keyChunk: Uint8Array;
  keyStart: number;
  keyEnd: number;
  /** Offsets in `line` of the Timestamp text; the UUID's 36 bytes start UUID_OFFSET after its end. */
  timestampStart: number;
  timestampEnd: number;
  /** Unchanged TOAST columns of the new row, or undefined when none. */
  unchanged: string[] | undefined;
}

/**
 * The head, WALPosition, Timestamp and the UUID's key, with room made for what follows up to
 * Columns (the UUID, `","Columns":`); notes the Timestamp's offsets in the line in `at`.
 */
function writeLineStart(w: LineWriter, head: Uint8Array, lsn: number, nowMicros: number, at: { timestampStart: number; timestampEnd: number }): void {
  w.ensure(head.length + 160);
  w.bytes(head);
  w.digits(lsn);
  w.bytes(TIMESTAMP_KEY);
  at.timestampStart = w.offset;
  w.at = writeLocalTimestamp(w.buf, w.at, nowMicros);
  at.timestampEnd = w.offset;
  w.bytes(UUID_KEY);
}

/** The start of a snapshot chunk's lines up to its UUID, made once per chunk (see snapshotPrefix). */
interface SnapshotPrefix {
  plan: RowPlan | undefined;
  lsn: number;
  nowMicros: number;
  bytes: Uint8Array;
  /** Offsets of the Timestamp text in `bytes`. */
  timestampStart: number;
  timestampEnd: number;
}

const prefix: SnapshotPrefix = { plan: undefined, lsn: -1, nowMicros: -1, bytes: new Uint8Array(0), timestampStart: 0, timestampEnd: 0 };

/** `{"Host":…,"Action":"insert","WALPosition":…,"Timestamp":"…","UUID":"` of a snapshot row (the last one made, or anew). */
function snapshotPrefix(plan: RowPlan, lsn: number, nowMicros: number): SnapshotPrefix {
  if (prefix.plan === plan && prefix.lsn === lsn && prefix.nowMicros === nowMicros) return prefix;
  const head = plan.heads.insert;
  const w = new LineWriter(head.length + 160);
  writeLineStart(w, head, lsn, nowMicros, prefix);
  prefix.bytes = w.finish();
  prefix.plan = plan;
  prefix.lsn = lsn;
  prefix.nowMicros = nowMicros;
  return prefix;
}

/** Value start markers for a tuple's columns without bytes. */
const NULL_VALUE = -1;
const UNCHANGED_VALUE = -2;

const TIMESTAMP_KEY = utf8Bytes(',"Timestamp":"');
const UUID_KEY = utf8Bytes('","UUID":"');
/** From the end of the Timestamp text to the start of the UUID text. */
export const UUID_OFFSET = UUID_KEY.length;
const COLUMNS_KEY = utf8Bytes('","Columns":');
const TX_INDEX_KEY = utf8Bytes(',"TxIndex":');
const OLD_KEY = utf8Bytes(',"Old":');
const UNCHANGED_KEY = utf8Bytes(',"Unchanged":[');
const NULL = utf8Bytes('null');
const TRUE = utf8Bytes('true');
const FALSE = utf8Bytes('false');
const MIDNIGHT = utf8Bytes('T00:00:00Z"');
const NO_TAIL = new Uint8Array(0);
/** A snapshot row's transaction JSON: none. */
const NO_TRANSACTION = new Uint8Array(0);
/** What a snapshot row adds after every other key (docs/snapshots.md). */
export const SNAPSHOT_TAIL = utf8Bytes(SNAPSHOT_TAIL_TEXT);

/** Tuple value bounds: start offset in the message (or a marker) and end. */
class Tuple {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** Offsets of each column's JSON value in the line being written (-1: not written). */
  jsonStarts = new Int32Array(64);
  jsonEnds = new Int32Array(64);

  /** Reads a TupleData of `count` columns at `p` (before `end`); returns the offset after it, or -1 when it cannot. */
  read(data: Uint8Array, p: number, end: number, count: number): number {
    if (p + 2 > end || ((data[p]! << 8) | data[p + 1]!) !== count) return -1;
    p += 2;
    if (count > this.starts.length) this.grow(count);
    const starts = this.starts;
    const ends = this.ends;
    for (let i = 0; i < count; i++) {
      const kind = data[p++];
      if (kind === KIND_TEXT) {
        if (p + 4 > end) return -1;
        const length = readUint32BE(data, p);
        p += 4;
        if (p + length > end) return -1;
        starts[i] = p;
        ends[i] = p + length;
        p += length;
      } else if (kind === KIND_NULL) {
        starts[i] = NULL_VALUE;
      } else if (kind === KIND_UNCHANGED) {
        starts[i] = UNCHANGED_VALUE;
      } else {
        return -1; // binary ('b', never requested) or garbage: the general path decides
      }
    }
    return p;
  }

  /**
   * Reads a DataRow (Int16 count, then per column Int32 length, -1 for NULL, and the text) at
   * data[p, end) whose first `count` values are the relation's; values after them (key columns a
   * column list leaves out) are skipped. Returns false when it cannot.
   */
  readDataRow(data: Uint8Array, p: number, end: number, count: number): boolean {
    if (p + 2 > end) return false;
    const total = (data[p]! << 8) | data[p + 1]!;
    if (total < count) return false;
    p += 2;
    if (count > this.starts.length) this.grow(count);
    const starts = this.starts;
    const ends = this.ends;
    for (let i = 0; i < total; i++) {
      if (p + 4 > end) return false;
      const length = readInt32BE(data, p);
      p += 4;
      if (length < 0) {
        if (length !== -1) return false;
        if (i < count) starts[i] = NULL_VALUE;
        continue;
      }
      if (p + length > end) return false;
      if (i < count) {
        starts[i] = p;
        ends[i] = p + length;
      }
      p += length;
    }
    return p === end;
  }

  private grow(count: number): void {
    this.starts = new Int32Array(count);
    this.ends = new Int32Array(count);
    this.jsonStarts = new Int32Array(count);
    this.jsonEnds = new Int32Array(count);
  }
}

const newTuple = new Tuple();
const oldTuple = new Tuple();

/**
 * Encodes an Insert/Update/Delete message (data[base, end), whose relation is plan.relation) as
 * the event's passthrough JSON into `w`, filling `out`. Returns false, with nothing written, when
 * the general path must take it (see the module comment). Every write is preceded by an `ensure`
 * covering it: a typed array silently drops writes past its end.
 */
export function encodeRow(
  w: LineWriter, data: Uint8Array, base: number, end: number, plan: RowPlan, lsn: number, txnJson: Uint8Array, nowMicros: number, out: EncodedRow,
  id: RowIdentity, tail: Uint8Array = NO_TAIL,
): boolean {
  const count = plan.columns.length;
  const tag = data[base];
  let p = base + 5; // tag, relation OID
  let oldKind: 'key' | 'old' | undefined;
  let marker = data[p++];
  if (tag === 0x55 /* U */ || tag === 0x44 /* D */) {
    if (marker === TUPLE_KEY || marker === TUPLE_OLD) {
      oldKind = marker === TUPLE_KEY ? 'key' : 'old';
      p = oldTuple.read(data, p, end, count);
      if (p < 0) return false;
      marker = tag === 0x55 ? data[p++] : TUPLE_NEW;
    } else if (tag === 0x44) {
      return false;
    }
  } else if (tag !== 0x49 /* I */) {
    return false;
  }
  if (marker !== TUPLE_NEW) return false;
  if (tag !== 0x44) {
    p = newTuple.read(data, p, end, count);
    if (p < 0) return false;
  }
  if (p !== end) return false;
  writeEvent(w, data, tag!, oldKind, plan, lsn, txnJson, nowMicros, out, id, tail);
  return true;
}

/**
 * Encodes a snapshot row, the DataRow (text format) at data[start, end), as the passthrough JSON of
 * the insert the stream would make of the same row (its first plan.columns.length values are the
 * relation's, in its column order, as an Insert's tuple; any after them are skipped), into `w`,
 * filling `out`. Returns false, with nothing written, when the general path must take it.
 */
export function encodeDataRow(
  w: LineWriter, data: Uint8Array, start: number, end: number, plan: RowPlan, lsn: number, nowMicros: number, out: EncodedRow, id: RowIdentity, tail: Uint8Array,
): boolean {
  if (!newTuple.readDataRow(data, start, end, plan.columns.length)) return false;
  writeEvent(w, data, 0x49, undefined, plan, lsn, NO_TRANSACTION, nowMicros, out, id, tail);
  return true;
}

/** Writes the event of a row read into newTuple (and oldTuple for an old or key tuple) from `data`. */
function writeEvent(
  w: LineWriter, data: Uint8Array, tag: number, oldKind: 'key' | 'old' | undefined, plan: RowPlan, lsn: number, txnJson: Uint8Array, nowMicros: number,
  out: EncodedRow, id: RowIdentity, tail: Uint8Array,
): void {
  // A delete's Columns are its old tuple (non-key columns null for a key), as rowChange has it.
  const columnsTuple = tag === 0x44 ? oldTuple : newTuple;

  const snapshot = id.snapshot;
  if (snapshot === undefined) {
    writeLineStart(w, tag === 0x49 ? plan.heads.insert : tag === 0x55 ? plan.heads.update : plan.heads.delete, lsn, nowMicros, out);
  } else {
    // A snapshot chunk's rows share all of this (one position, one timestamp): one copy per row.
    const prefix = snapshotPrefix(plan, lsn, nowMicros);
    w.ensure(prefix.bytes.length + 160);
    out.timestampStart = w.offset + prefix.timestampStart;
    out.timestampEnd = w.offset + prefix.timestampEnd;
    w.bytes(prefix.bytes);
  }
  // A snapshot row's UUID is written once its row key is known (below).
  const uuidAt = w.offset;
  if (snapshot === undefined) w.at = id.identity.writeStream(w.buf, w.at, id.lsnLow, id.lsnHigh, id.txIndex);
  else w.at += UUID_TEXT_LENGTH;
  w.bytes(COLUMNS_KEY);
  const unchanged = tag === 0x44 ? undefined : unchangedNames(plan, newTuple);
  const columnsStart = w.offset;
  writeObject(w, data, plan, columnsTuple, false, true);
  const columnsEnd = w.offset;
  if (snapshot !== undefined && oldKind === undefined && unchanged === undefined && tail === SNAPSHOT_TAIL) {
    // A snapshot row ends the same way every time: Schema, Key and the marker, in one copy.
    w.ensure(plan.snapshotEnd.length);
    w.bytes(plan.snapshotEnd);
    finishLine(w, plan, columnsTuple, undefined, out, snapshot, uuidAt, unchanged);
    return;
  }
  w.ensure(plan.schema.length + txnJson.length + TX_INDEX_KEY.length + 16 + OLD_KEY.length);
  w.bytes(plan.schema);
  w.bytes(txnJson);
  if (snapshot === undefined) {
    w.bytes(TX_INDEX_KEY);
    w.digits(id.txIndex);
  }
  if (oldKind !== undefined) {
    w.bytes(OLD_KEY);
    if (tag === 0x44 && oldKind === 'old') {
      // Old is the same row as Columns: copy its JSON.
      w.ensure(columnsEnd - columnsStart);
      w.copy(w.buf, w.at - w.offset + columnsStart, w.at - w.offset + columnsEnd);
    } else {
      // A delete's old tuple was written as Columns already: its value bounds stay those.
      writeObject(w, data, plan, oldTuple, oldKind === 'key', tag !== 0x44);
    }
  }
  w.ensure(plan.keyJson.length + 1);
  w.bytes(plan.keyJson);
  if (unchanged !== undefined) {
    w.ensure(UNCHANGED_KEY.length);
    w.bytes(UNCHANGED_KEY);
    for (let i = 0; i < unchanged.length; i++) {
      w.ensure(1);
      if (i > 0) w.byte(44);
      w.utf8(goJsonString(unchanged[i]!));
    }
    w.ensure(2);
    w.byte(93); // ']'
  }
  w.ensure(tail.length + 1);
  w.bytes(tail);
  w.byte(125); // '}'
  finishLine(w, plan, columnsTuple, oldKind === undefined || tag === 0x44 ? undefined : oldTuple, out, snapshot, uuidAt, unchanged);
}

/** Ends the line and writes its row key (and a snapshot row's UUID, from that key). */
function finishLine(
  w: LineWriter, plan: RowPlan, columnsTuple: Tuple, old: Tuple | undefined, out: EncodedRow, snapshot: SnapshotIdentity | undefined, uuidAt: number,
  unchanged: string[] | undefined,
): void {
  out.line = w.finish();
  writeRowKey(w, out.line, plan, columnsTuple, old);
  out.keyChunk = w.buf;
  out.keyEnd = w.at;
  out.keyStart = w.at - w.offset;
  w.finishInPlace();
  if (snapshot !== undefined) {
    // Without every key column in the row, its key does not name it: a random UUID (docs/kafka.md).
    if (plan.keyComplete) snapshot.write(out.line, uuidAt, out.keyChunk, out.keyStart, out.keyEnd);
    else writeUuidV4(out.line, uuidAt);
  }
  out.unchanged = unchanged;
}

function unchangedNames(plan: RowPlan, tuple: Tuple): string[] | undefined {
  let names: string[] | undefined;
  const columns = plan.columns;
  for (let k = 0; k < columns.length; k++) {
    const column = columns[k]!;
    if (tuple.starts[column.index] === UNCHANGED_VALUE) (names ??= []).push(column.name);
  }
  return names;
}

/** A tuple as a JSON object in name order (unchanged TOAST values left out); `record`: note each value's JSON bounds in the tuple. */
function writeObject(w: LineWriter, data: Uint8Array, plan: RowPlan, tuple: Tuple, identityOnly: boolean, record: boolean): void {
  const columns = plan.columns;
  const starts = tuple.starts;
  const ends = tuple.ends;
  const jsonStarts = tuple.jsonStarts;
  const jsonEnds = tuple.jsonEnds;
  w.ensure(1);
  w.byte(123); // '{'
  let first = true;
  for (let k = 0; k < columns.length; k++) {
    const column = columns[k]!;
    const index = column.index;
    const start = starts[index]!;
    if (record) jsonStarts[index] = -1;
    if (start === UNCHANGED_VALUE || (identityOnly && !column.identity)) continue;
    const key = column.key;
    let valueStart: number;
    if (start === NULL_VALUE) {
      w.ensure(key.length + 5);
      if (!first) w.byte(44);
      w.bytes(key);
      valueStart = w.offset;
      w.bytes(NULL);
    } else {
      const end = ends[index]!;
      // The byte rules other than text's write at most the value plus quotes and a date's suffix;
      // text makes room for its escapes itself, piece by piece (a huge value is not reserved 6×).
      w.ensure(key.length + (end - start) + 16);
      if (!first) w.byte(44);
      w.bytes(key);
      valueStart = w.offset;
      if (!writeValue(w, data, start, end, column.kind)) {
        w.at = w.at - w.offset + valueStart;
        const text = utf8Slice(data, start, end);
        w.utf8(valueJson(column.kind, text, column.converter(text)));
      }
    }
    if (record) {
      jsonStarts[index] = valueStart;
      jsonEnds[index] = w.offset;
    }
    first = false;
  }
  w.ensure(1);
  w.byte(125); // '}'
}

/**
 * The row key (event/key.ts rowKey): `["schema.table"`, then each key column's JSON from Columns,
 * else from Old, else null, then `]`. The values are copied from the finished line; the key is
 * written as the next line (not finished).
 */
function writeRowKey(w: LineWriter, line: Uint8Array, plan: RowPlan, columns: Tuple, old: Tuple | undefined): void {
  w.ensure(plan.rowKeyHead.length + 1);
  w.bytes(plan.rowKeyHead);
  const indexes = plan.keyIndexes;
  for (let i = 0; i < indexes.length; i++) {
    const index = indexes[i]!;
    let tuple: Tuple | undefined = index >= 0 && columns.jsonStarts[index]! >= 0 ? columns : undefined;
    if (tuple === undefined && old !== undefined && index >= 0 && old.jsonStarts[index]! >= 0) tuple = old;
    const start = tuple === undefined ? 0 : tuple.jsonStarts[index]!;
    const end = tuple === undefined ? 0 : tuple.jsonEnds[index]!;
    w.ensure(end - start + 5);
    w.byte(44); // ','
    if (tuple === undefined) w.bytes(NULL);
    else w.copy(line, start, end);
  }
  w.ensure(1);
  w.byte(93); // ']'
}

/** The JSON of a converted value, taking the text itself where it already is that JSON. */
function valueJson(kind: number, text: string, value: ColumnValue): string {
  if (kind === TEXT) return goJsonString(text);
  if (kind === INTEGER && typeof value !== 'string' && isCanonicalInteger(text)) return text;
  return goJsonValue(value);
}

/** -?[0-9]+ as JSON writes it: no leading zero, no "-0". Only for text an integer converter accepted. */
function isCanonicalInteger(text: string): boolean {
  const negative = text.charCodeAt(0) === 45;
  return negative ? text.charCodeAt(1) !== 48 : text.charCodeAt(0) !== 48 || text.length === 1;
}

/** Byte rules: writes the value's JSON and returns true, or false when the general path must. */
function writeValue(w: LineWriter, data: Uint8Array, start: number, end: number, kind: number): boolean {
  switch (kind) {
    case TEXT:
      return writeString(w, data, start, end);
    case INTEGER:
      if (!isIntegerJson(data, start, end)) return false;
      w.copy(data, start, end);
      return true;
    case BOOL:
      if (end - start !== 1) return false;
      if (data[start] === 0x74) w.bytes(TRUE);
      else if (data[start] === 0x66) w.bytes(FALSE);
      else return false;
      return true;
    case TIMESTAMPTZ:
    case TIMESTAMP:
      return writeTimestamp(w, data, start, end, kind === TIMESTAMPTZ);
    case DATE:
      if (end - start !== 10 || !isIsoDate(data, start)) return false;
      w.byte(34);
      w.copy(data, start, end);
      w.bytes(MIDNIGHT);
      return true;
    case JSON_TEXT:
      if (!isVerbatimJson(data, start, end)) return false;
      w.copy(data, start, end);
      return true;
    default:
      return false;
  }
}

// Go's escapes for ASCII. Bytes ≥ 0x80 take the general path. PLAIN[c] is 1 for a byte copied as
// is, 0 for one escaped (a flag table: one typed load per byte in the loop).
const ESCAPES: readonly Uint8Array[] = Array.from({ length: 128 }, (_, c) => {
  const replacement: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x3c: '\\u003c', 0x3e: '\\u003e', 0x26: '\\u0026' };
  if (replacement[c] !== undefined) return utf8Bytes(replacement[c]!);
  if (c < 0x20) return utf8Bytes('\\u00' + c.toString(16).padStart(2, '0'));
  return new Uint8Array(0);
});
const PLAIN = Uint8Array.from({ length: 256 }, (_, c) => (c < 0x80 && ESCAPES[c]!.length === 0 ? 1 : 0));

/** Text bytes escaped per piece: room for the worst case (every byte as \u00XX) is made a piece at a time. */
const STRING_PIECE = 16 * 1024;

/** A JSON string of ASCII text with Go's escapes; false on any byte ≥ 0x80 (UTF-8 checks, U+2028/9). */
function writeString(w: LineWriter, data: Uint8Array, start: number, end: number): boolean {
  w.byte(34);
  let i = start;
  do {
    const stop = Math.min(end, i + STRING_PIECE);
    w.ensure(6 * (stop - i) + 1);
    const buf = w.buf;
    let at = w.at;
    for (; i < stop; i++) {
      const c = data[i]!;
      if (PLAIN[c] === 1) {
        buf[at++] = c;
        continue;
      }
      if (c >= 0x80) return false;
      const escape = ESCAPES[c]!;
      for (let j = 0; j < escape.length; j++) buf[at++] = escape[j]!;
    }
    w.at = at;
  } while (i < end);
  w.byte(34);
  return true;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;

/** -?[0-9]+ without a leading zero (except "0") and not "-0": the text is its own JSON. */
function isIntegerJson(data: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (data[i] === 45) i++;
  if (i === end || end - i > 20) return false;
  if (data[i] === 48 && (end - i > 1 || i > start)) return false;
  for (; i < end; i++) if (!isDigit(data[i])) return false;
  return true;
}

/** "YYYY-MM-DD" at `at`. */
function isIsoDate(data: Uint8Array, at: number): boolean {
  return isDigit(data[at]) && isDigit(data[at + 1]) && isDigit(data[at + 2]) && isDigit(data[at + 3]) && data[at + 4] === 45 &&
    isDigit(data[at + 5]) && isDigit(data[at + 6]) && data[at + 7] === 45 && isDigit(data[at + 8]) && isDigit(data[at + 9]);
}

/**
 * What the UTC session nearly always sends — "YYYY-MM-DD HH:MM:SS[.ffffff]" plus "+00" when zoned —
 * as RFC 3339 with "Z" (the fast path of formatTimestamp in types/datetime.ts).
 */
function writeTimestamp(w: LineWriter, data: Uint8Array, start: number, end: number, zoned: boolean): boolean {
  const stop = zoned ? end - 3 : end;
  if (stop - start < 19 || !isIsoDate(data, start) || data[start + 10] !== 32 ||
      !isDigit(data[start + 11]) || !isDigit(data[start + 12]) || data[start + 13] !== 58 ||
      !isDigit(data[start + 14]) || !isDigit(data[start + 15]) || data[start + 16] !== 58 ||
      !isDigit(data[start + 17]) || !isDigit(data[start + 18])) {
    return false;
  }
  if (zoned && (data[stop] !== 43 || data[stop + 1] !== 48 || data[stop + 2] !== 48)) return false;
  if (stop - start > 19) {
    if (data[start + 19] !== 46 || stop - start === 20 || data[stop - 1] === 48) return false;
    for (let i = start + 20; i < stop; i++) if (!isDigit(data[i])) return false;
  }
  w.byte(34);
  w.copy(data, start, start + 10);
  w.byte(84); // 'T'
  w.copy(data, start + 11, stop);
  w.byte(90); // 'Z'
  w.byte(34);
  return true;
}

const isJsonSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * json/jsonb text that the converter keeps verbatim (types/text-forms.ts makeJson): ASCII, no line
 * breaks, and its ends look like JSON.
 */
function isVerbatimJson(data: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = data[i]!;
    if (c >= 0x80 || c === 10 || c === 13) return false;
  }
  let first = start;
  let last = end - 1;
  while (first <= last && isJsonSpace(data[first]!)) first++;
  while (last > first && isJsonSpace(data[last]!)) last--;
  if (first > last) return false;
  const open = data[first]!;
  const close = data[last]!;
  switch (open) {
    case 123: return close === 125 && last > first;
    case 91: return close === 93 && last > first;
    case 34: return close === 34 && last > first;
    case 116:
    case 102: return close === 101;
    case 110: return close === 108;
    default: return (open === 45 || isDigit(open)) && isDigit(close);
  }
}
