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
 * This module writes the line around the values: head, Columns, Old, Key, Unchanged, the row key
 * and a snapshot row's UUID. The per-relation plan is row-plan.ts, where a tuple's values are is
 * tuple-bounds.ts, and the per-kind value writers are value-bytes.ts.
 */
import { goJsonString } from '../../event/go-json.ts';
import { utf8Bytes } from '../../core/bytes.ts';
import { LineWriter } from '../../core/line-writer.ts';
import { writeLocalTimestamp } from '../../core/time.ts';
import { UUID_TEXT_LENGTH, type EventIdentity, type SnapshotIdentity } from '../../event/identity.ts';
import { writeUuidV4 } from '../../event/uuid-bytes.ts';
import { utf8Slice } from '../../pgoutput/text.ts';
import { TUPLE_KEY, TUPLE_NEW, TUPLE_OLD } from '../../pgoutput/tuple.ts';
import { SNAPSHOT_TAIL_TEXT, type RowPlan } from './row-plan.ts';
import { NULL_VALUE, Tuple, UNCHANGED_VALUE } from './tuple-bounds.ts';
import { valueJson, writeValue } from './value-bytes.ts';

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

const TIMESTAMP_KEY = utf8Bytes(',"Timestamp":"');
const UUID_KEY = utf8Bytes('","UUID":"');
/** From the end of the Timestamp text to the start of the UUID text. */
export const UUID_OFFSET = UUID_KEY.length;
const COLUMNS_KEY = utf8Bytes('","Columns":');
const TX_INDEX_KEY = utf8Bytes(',"TxIndex":');
const OLD_KEY = utf8Bytes(',"Old":');
const UNCHANGED_KEY = utf8Bytes(',"Unchanged":[');
const NULL = utf8Bytes('null');
const NO_TAIL = new Uint8Array(0);
/** A snapshot row's transaction JSON: none. */
const NO_TRANSACTION = new Uint8Array(0);
/** What a snapshot row adds after every other key (docs/snapshots.md). */
export const SNAPSHOT_TAIL = utf8Bytes(SNAPSHOT_TAIL_TEXT);

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

