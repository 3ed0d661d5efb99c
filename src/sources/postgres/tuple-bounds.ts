/**
 * Where a row's column values are in the bytes they arrived in, for the PostgreSQL source's hot path
 * (row-bytes.ts): a pgoutput TupleData or a snapshot's DataRow read into per-column start and end
 * offsets (no value copied), plus where each value's JSON landed in the line being written.
 */
import { readInt32BE, readUint32BE } from '../../core/bytes.ts';
import { KIND_NULL, KIND_TEXT, KIND_UNCHANGED } from '../../pgoutput/tuple.ts';

/** Value start markers for a tuple's columns without bytes. */
export const NULL_VALUE = -1;
export const UNCHANGED_VALUE = -2;

/** Tuple value bounds: start offset in the message (or a marker) and end. */
export class Tuple {
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
