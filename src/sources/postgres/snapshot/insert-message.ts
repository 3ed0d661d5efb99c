/**
 * A snapshot row as the pgoutput Insert message a walsender would send for it (docs/snapshots.md,
 * "How a chunk is read"), so it takes the stream's own byte path to an event
 * (EventFactory.rowFromBytes) and is converted exactly as a live insert. Pure.
 *
 * Layout (PostgreSQL's "Logical Replication Message Formats"): Byte1 'I', Int32 relation OID, Byte1 'N', then
 * TupleData: Int16 column count and per column Byte1 'n' (NULL) or 't' + Int32 length + the text.
 */

import { copyBytes } from '../../../core/bytes.ts';

const INSERT = 0x49; // 'I'
const NEW_TUPLE = 0x4e; // 'N'
const NULL_VALUE = 0x6e; // 'n'
const TEXT_VALUE = 0x74; // 't'

/** Encodes one row (text-format values in the Relation's column order; null for NULL). */
export function encodeInsertMessage(relationId: number, values: readonly (Uint8Array | null)[]): Uint8Array {
  if (!Number.isInteger(relationId) || relationId < 0 || relationId > 0xffffffff) throw new RangeError(`not a relation OID: ${relationId}`);
  if (values.length > 0x7fff) throw new RangeError(`a tuple has at most 32767 columns, not ${values.length}`);
  let size = 1 + 4 + 1 + 2;
  for (const value of values) size += value === null ? 1 : 5 + value.length;
  const out = new Uint8Array(size);
  writeInsert(out, 0, relationId, values);
  return out;
}

/** Writes the message at out[at...] (room for it was counted by the caller); returns the offset after it. */
function writeInsert(out: Uint8Array, at: number, relationId: number, values: readonly (Uint8Array | null)[]): number {
  if (!Number.isInteger(relationId) || relationId < 0 || relationId > 0xffffffff) throw new RangeError(`not a relation OID: ${relationId}`);
  if (values.length > 0x7fff) throw new RangeError(`a tuple has at most 32767 columns, not ${values.length}`);
  out[at] = INSERT;
  writeUint32(out, at + 1, relationId);
  out[at + 5] = NEW_TUPLE;
  out[at + 6] = values.length >>> 8;
  out[at + 7] = values.length & 0xff;
  at += 8;
  for (const value of values) {
    if (value === null) {
      out[at++] = NULL_VALUE;
      continue;
    }
    out[at] = TEXT_VALUE;
    writeUint32(out, at + 1, value.length);
    copyBytes(out, at + 5, value, 0, value.length);
    at += 5 + value.length;
  }
  return at;
}

function writeUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** Insert messages of many rows in one buffer: message i is buffer[offsets[i], offsets[i + 1]). */
export interface InsertMessages {
  buffer: Uint8Array;
  offsets: Int32Array;
}

/**
 * Encodes every row of a chunk into one buffer (one allocation instead of one per row: the heap
 * of a snapshot stays smaller, docs/benchmarks.md "Snapshots"), each exactly as encodeInsertMessage.
 */
export function encodeInsertMessages(relationId: number, rows: readonly (readonly (Uint8Array | null)[])[]): InsertMessages {
  const offsets = new Int32Array(rows.length + 1);
  let size = 0;
  for (let r = 0; r < rows.length; r++) {
    offsets[r] = size;
    size += 8;
    for (const value of rows[r]!) size += value === null ? 1 : 5 + value.length;
  }
  offsets[rows.length] = size;
  const buffer = new Uint8Array(size);
  for (let r = 0; r < rows.length; r++) writeInsert(buffer, offsets[r]!, relationId, rows[r]!);
  return { buffer, offsets };
}
