/**
 * A snapshot chunk's rows as the server sent them (docs/snapshots.md, "How a chunk is read"): each
 * row is its DataRow payload, a range of the received buffer it arrived in (pg/frames.ts never
 * writes a buffer again), kept without a copy and without an object per value or row. The events
 * are written from these bytes directly (EventFactory.snapshotRow), as the stream writes a live
 * insert from its pgoutput message, with the same byte rules. Pure.
 */
import { readInt32BE } from '../../../core/bytes.ts';
import { dataRowTexts } from '../data-row.ts';

/** Rows of a chunk: row i is the DataRow payload data[i][starts[i], ends[i]). */
export interface ChunkRows {
  data: readonly Uint8Array[];
  starts: readonly number[];
  ends: readonly number[];
}

/** DataRow payloads collected for a chunk. */
export class DataRows implements ChunkRows {
  data: Uint8Array[] = [];
  starts: number[] = [];
  ends: number[] = [];
  /** Sum of the relation columns' value lengths. */
  bytes = 0;

  /**
   * Rows of `relationColumns` columns first (any after them are key columns the relation does not
   * send, read only for lastKey), their key at `keyIndexes`.
   */
  constructor(
    private readonly relationColumns: number,
    private readonly keyIndexes: readonly number[],
  ) {}

  get count(): number {
    return this.starts.length;
  }

  /** Keeps the DataRow payload at data[start, end) (a buffer never written again: not copied). */
  add(data: Uint8Array, start: number, end: number): void {
    this.data.push(data);
    this.starts.push(start);
    this.ends.push(end);
    this.bytes += valueBytes(data, start, end, this.relationColumns);
  }

  /** The text of the key columns of the last row added. */
  lastKey(): string[] | undefined {
    const last = this.starts.length - 1;
    if (last < 0) return undefined;
    const values = dataRowTexts(this.data[last]!, this.starts[last]!, this.ends[last]!);
    // A key column is never NULL (primary key, replica identity index).
    return this.keyIndexes.map((i) => values[i]!);
  }
}

/**
 * The bytes of the first `columns` values of a DataRow: its length less the count and the lengths
 * (a NULL has no bytes) when it has just those columns; else counted column by column.
 */
function valueBytes(data: Uint8Array, start: number, end: number, columns: number): number {
  const count = end - start >= 2 ? (data[start]! << 8) | data[start + 1]! : 0;
  if (count === columns) return end - start - 2 - 4 * count;
  let bytes = 0;
  let p = start + 2;
  for (let i = 0; i < Math.min(count, columns) && p + 4 <= end; i++) {
    const length = readInt32BE(data, p);
    p += 4;
    if (length > 0) {
      bytes += length;
      p += length;
    }
  }
  return bytes;
}
