/**
 * Snapshot rows as the pgoutput Insert messages a walsender would send for them (docs/snapshots.md,
 * "How a chunk is read"), so they take the stream's own byte path to an event
 * (EventFactory.rowFromBytes) and are converted exactly as live inserts. Pure.
 *
 * A DataRow (Int16 column count, then per column Int32 length, -1 for NULL, and the text) is nearly
 * an Insert's TupleData (per column Byte1 'n', or 't' with the same Int32 length and text): each row
 * is copied across in one pass into one buffer per chunk, with no object per value or row.
 * Insert layout (protocol-logicalrep-message-formats): Byte1 'I', Int32 relation OID, Byte1 'N',
 * then the TupleData.
 */
import { copyBytes, readInt32BE } from '../../../core/bytes.ts';

const INSERT = 0x49; // 'I'
const NEW_TUPLE = 0x4e; // 'N'
const NULL_VALUE = 0x6e; // 'n'
const TEXT_VALUE = 0x74; // 't'

/** Insert messages of many rows in one buffer: message i is buffer[offsets[i], offsets[i + 1]). */
export interface InsertMessages {
  buffer: Uint8Array;
  offsets: Int32Array;
}

const utf8 = new TextDecoder('utf-8');

/** DataRow payloads appended as Insert messages of one relation. */
export class InsertBuilder {
  buffer: Uint8Array;
  at = 0;
  offsets: number[] = [];
  /** Sum of the relation columns' value lengths. */
  bytes = 0;
  /** The last row's key columns the relation does not send (a column list without them), as text. */
  private lastPayloadKeys: (string | null)[] | undefined;
  private lastRowStart = -1;

  /**
   * Rows of `relationColumns` columns first (any after them are key columns the relation does not
   * send, read only for lastKey), their key at `keyIndexes`. `sizeHint`: bytes the previous chunk
   * took (one buffer the right size, not a series of doublings).
   */
  constructor(
    private readonly relationId: number,
    private readonly relationColumns: number,
    private readonly keyIndexes: readonly number[],
    sizeHint = 0,
  ) {
    this.buffer = new Uint8Array(Math.max(1 << 16, Math.ceil(sizeHint * 1.1)));
  }

  /** Appends the row of a DataRow payload (valid only during the call: it is copied). */
  add(payload: Uint8Array): void {
    const columns = this.relationColumns;
    // Room for the header and every column as 't' + length (the DataRow has 4 length bytes each).
    this.reserve(8 + payload.length + columns);
    const out = this.buffer;
    let at = this.at;
    this.offsets.push(at);
    this.lastRowStart = at;
    out[at] = INSERT;
    out[at + 1] = this.relationId >>> 24;
    out[at + 2] = (this.relationId >>> 16) & 0xff;
    out[at + 3] = (this.relationId >>> 8) & 0xff;
    out[at + 4] = this.relationId & 0xff;
    out[at + 5] = NEW_TUPLE;
    out[at + 6] = columns >>> 8;
    out[at + 7] = columns & 0xff;
    at += 8;
    const count = (payload[0]! << 8) | payload[1]!;
    let p = 2;
    let extra: (string | null)[] | undefined;
    for (let i = 0; i < count; i++) {
      const length = readInt32BE(payload, p);
      p += 4;
      if (i < columns) {
        if (length < 0) {
          out[at++] = NULL_VALUE;
        } else {
          out[at] = TEXT_VALUE;
          // The length's 4 bytes as they are, then the value.
          copyBytes(out, at + 1, payload, p - 4, p + length);
          at += 5 + length;
          this.bytes += length;
        }
      } else {
        // A key column the relation does not send (a column list without it): kept as text for lastKey.
        (extra ??= []).push(length < 0 ? null : utf8.decode(payload.subarray(p, p + length)));
      }
      if (length > 0) p += length;
    }
    this.at = at;
    this.lastPayloadKeys = extra;
  }

  /** The text of the key columns of the last row added. */
  lastKey(): string[] | undefined {
    if (this.lastRowStart < 0) return undefined;
    const values: (string | null)[] = [];
    let p = this.lastRowStart + 8;
    for (let i = 0; i < this.relationColumns; i++) {
      if (this.buffer[p] === NULL_VALUE) {
        values.push(null);
        p += 1;
        continue;
      }
      const length = readInt32BE(this.buffer, p + 1);
      values.push(utf8.decode(this.buffer.subarray(p + 5, p + 5 + length)));
      p += 5 + length;
    }
    if (this.lastPayloadKeys !== undefined) values.push(...this.lastPayloadKeys);
    // A key column is never NULL (primary key, replica identity index).
    return this.keyIndexes.map((i) => values[i]!);
  }

  messages(): InsertMessages {
    const offsets = new Int32Array(this.offsets.length + 1);
    offsets.set(this.offsets);
    offsets[this.offsets.length] = this.at;
    return { buffer: this.buffer.subarray(0, this.at), offsets };
  }

  private reserve(size: number): void {
    if (this.at + size <= this.buffer.length) return;
    let length = this.buffer.length * 2;
    while (length < this.at + size) length *= 2;
    const bigger = new Uint8Array(length);
    bigger.set(this.buffer.subarray(0, this.at));
    this.buffer = bigger;
  }
}
