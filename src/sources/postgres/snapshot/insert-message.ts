/**
 * A snapshot row as the pgoutput Insert message a walsender would send for it (docs/snapshots.md,
 * "How a chunk is read"), so it takes the stream's own byte path to an event
 * (EventFactory.rowFromBytes) and is converted exactly as a live insert. Pure.
 *
 * Layout (protocol-logicalrep-message-formats): Byte1 'I', Int32 relation OID, Byte1 'N', then
 * TupleData: Int16 column count and per column Byte1 'n' (NULL) or 't' + Int32 length + the text.
 */

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
  const view = new DataView(out.buffer);
  out[0] = INSERT;
  view.setUint32(1, relationId);
  out[5] = NEW_TUPLE;
  view.setInt16(6, values.length);
  let at = 8;
  for (const value of values) {
    if (value === null) {
      out[at++] = NULL_VALUE;
      continue;
    }
    out[at] = TEXT_VALUE;
    view.setInt32(at + 1, value.length);
    out.set(value, at + 5);
    at += 5 + value.length;
  }
  return out;
}
