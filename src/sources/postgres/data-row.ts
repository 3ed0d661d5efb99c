/**
 * A snapshot row's DataRow as the pgoutput Insert message a walsender would send for it
 * (docs/snapshots.md, "How a chunk is read"). Snapshot rows are encoded from their DataRow bytes
 * directly (row-bytes.ts encodeDataRow); this conversion serves what needs the message itself: an
 * event's `columns` when asked for, and rows the byte path refuses (the general path). Pure.
 *
 * A DataRow (Int16 column count, then per column Int32 length, -1 for NULL, and the text) is nearly
 * an Insert's TupleData (per column Byte1 'n', or 't' with the same Int32 length and text).
 * Insert layout (protocol-logicalrep-message-formats): Byte1 'I', Int32 relation OID, Byte1 'N',
 * then the TupleData.
 */
import { copyBytes, readInt32BE } from '../../core/bytes.ts';
import { ProtocolError } from '../../pg/errors.ts';
import { decodeDataRow } from '../../pg/messages.ts';

const INSERT = 0x49; // 'I'
const NEW_TUPLE = 0x4e; // 'N'
const NULL_VALUE = 0x6e; // 'n'
const TEXT_VALUE = 0x74; // 't'

/**
 * The Insert message of relation `relationId` for the DataRow at data[start, end): its first
 * `columns` values (any after them are key columns the relation does not send: left out). Throws
 * on a DataRow that is cut short or has fewer columns.
 */
export function insertMessage(relationId: number, columns: number, data: Uint8Array, start: number, end: number): Uint8Array {
  if (end - start < 2) throw new Error('DataRow cut short');
  const count = (data[start]! << 8) | data[start + 1]!;
  if (count < columns) throw new Error(`DataRow of ${count} columns for a relation of ${columns}`);
  // The header, and every column as 't' + length + text at most (the DataRow has 4 length bytes each).
  const out = new Uint8Array(8 + (end - start) + columns);
  out[0] = INSERT;
  out[1] = relationId >>> 24;
  out[2] = (relationId >>> 16) & 0xff;
  out[3] = (relationId >>> 8) & 0xff;
  out[4] = relationId & 0xff;
  out[5] = NEW_TUPLE;
  out[6] = columns >>> 8;
  out[7] = columns & 0xff;
  let at = 8;
  let p = start + 2;
  for (let i = 0; i < columns; i++) {
    if (p + 4 > end) throw new Error('DataRow cut short');
    const length = readInt32BE(data, p);
    if (length < 0) {
      out[at++] = NULL_VALUE;
      p += 4;
      continue;
    }
    if (p + 4 + length > end) throw new Error('DataRow cut short');
    out[at] = TEXT_VALUE;
    // The length's 4 bytes as they are, then the value.
    copyBytes(out, at + 1, data, p, p + 4 + length);
    at += 5 + length;
    p += 4 + length;
  }
  return out.subarray(0, at);
}

/** The values of the DataRow at data[start, end) as text (null for NULL); throws when it is cut short. */
export function dataRowTexts(data: Uint8Array, start: number, end: number): (string | null)[] {
  try {
    return decodeDataRow(data.subarray(start, end));
  } catch (err) {
    if (err instanceof ProtocolError) throw new Error('DataRow cut short', { cause: err });
    throw err;
  }
}
