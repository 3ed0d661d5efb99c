/**
 * Reads a snapshot chunk over our own protocol code (pg/connection.ts) instead of postgres.js, for
 * speed (docs/snapshots.md, "How a chunk is read"; docs/benchmarks.md, "Snapshots"): each DataRow's
 * bytes (Int16 count, then Int32 length and the text per column) become a pgoutput Insert message
 * (Byte1 't' or 'n' instead of the length -1, otherwise the same bytes) in one pass into one buffer,
 * with no object per value or per row. Same transaction, snapshot, WAL position, query and limits
 * as chunk-reader.ts (which the tests compare this with, byte for byte).
 *
 * The chunk's rows come through a cursor in batches, so a chunk stops soon after its byte limit.
 * Key values of the query are quoted literals (the simple query protocol has no parameters):
 * SNAPSHOT_SQL turns standard_conforming_strings on for the transaction first.
 */
import { copyBytes, readInt32BE } from '../../../core/bytes.ts';
import type { PgConnection } from '../../../pg/connection.ts';
import { parseLsn, type Lsn } from '../../../replication/lsn.ts';
import { chunkQuery, keysQuery, SNAPSHOT_SQL, type ChunkQuery } from './chunk-reader.ts';
import { checkWhereShape } from './request-text.ts';
import type { InsertMessages } from './insert-message.ts';
import type { SnapshotTable } from './table-shape.ts';

/** Rows per FETCH. */
const FETCH_ROWS = 1000;
const CURSOR = 'psql_streamer_snapshot_chunk';

const INSERT = 0x49; // 'I'
const NEW_TUPLE = 0x4e; // 'N'
const NULL_VALUE = 0x6e; // 'n'
const TEXT_VALUE = 0x74; // 't'

/** A chunk read, its rows already as Insert messages. */
export interface DirectRead {
  snapshot: string;
  walInsertLsn: Lsn;
  messages: InsertMessages;
  rows: number;
  /** Text of the key columns of the last row; undefined when no rows. */
  lastKey: string[] | undefined;
  bytes: number;
  complete: boolean;
}

const utf8 = new TextDecoder('utf-8');

/** DataRow payloads appended as Insert messages of one relation. */
class InsertBuilder {
  buffer: Uint8Array;
  at = 0;
  offsets: number[] = [];
  /** Sum of the relation columns' value lengths. */
  bytes = 0;
  /** The last row's key column texts (decoded once the chunk ends, see lastKey). */
  private lastPayloadKeys: (string | null)[] | undefined;
  private lastRowStart = -1;

  /** `sizeHint`: bytes the previous chunk took (one buffer the right size, not a series of doublings). */
  constructor(private readonly relationId: number, private readonly query: ChunkQuery, sizeHint: number) {
    this.buffer = new Uint8Array(Math.max(1 << 16, Math.ceil(sizeHint * 1.1)));
  }

  add(payload: Uint8Array): void {
    const columns = this.query.relationColumns;
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
    for (let i = 0; i < this.query.relationColumns; i++) {
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
    return this.query.keyIndexes.map((i) => values[i]!);
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

/** readChunk (chunk-reader.ts) over `conn`, the rows as Insert messages of `table.relationId`. */
export function readChunkDirect(
  conn: PgConnection, table: SnapshotTable, after: readonly string[] | undefined, where: string | undefined, limits: { rows: number; bytes: number },
  sizeHint = 0,
): Promise<DirectRead> {
  if (after !== undefined && after.length !== table.keyColumns.length) {
    throw new RangeError(`the last key of ${table.qualified} has ${table.keyColumns.length} column(s), not ${after.length}`);
  }
  return readDirect(conn, table, chunkQuery(table, after !== undefined, where, limits.rows, after ?? []), limits, sizeHint, where);
}

/** readKeys (chunk-reader.ts) over `conn`. */
export async function readKeysDirect(conn: PgConnection, table: SnapshotTable, keys: readonly (readonly string[])[], where: string | undefined): Promise<DirectRead> {
  for (const key of keys) {
    if (key.length !== table.keyColumns.length) throw new RangeError(`a key of ${table.qualified} has ${table.keyColumns.length} column(s), not ${key.length}`);
  }
  const read = await readDirect(conn, table, keysQuery(table, keys.length, where, keys.flat()), { rows: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER }, 0, where);
  return { ...read, complete: true };
}

async function readDirect(conn: PgConnection, table: SnapshotTable, query: ChunkQuery, limits: { rows: number; bytes: number }, sizeHint: number, where: string | undefined): Promise<DirectRead> {
  // The simple protocol runs every statement of a string: `where` must stay one condition (again:
  // a record read back from the state file was checked when the backfill was requested).
  if (where !== undefined) checkWhereShape(where);
  const rows = new InsertBuilder(table.relationId, query, sizeHint);
  let cut = false;
  let open = false;
  try {
    // The snapshot is taken at the transaction's first statement: the snapshot query itself.
    const [, first] = await conn.simpleQuery(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${SNAPSHOT_SQL}`);
    open = true;
    const head = first?.rows[0];
    if (head === undefined || head[0] == null || head[1] == null) throw new Error('the snapshot query returned no row');
    await conn.simpleQuery(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${query.text}`);
    for (;;) {
      const before = rows.offsets.length;
      await conn.simpleQuery(`FETCH FORWARD ${FETCH_ROWS} FROM ${CURSOR}`, (payload) => {
        if (!cut) rows.add(payload);
        if (rows.bytes >= limits.bytes) cut = true;
      });
      const fetched = rows.offsets.length - before;
      if (cut || fetched < FETCH_ROWS || rows.offsets.length >= limits.rows) break;
    }
    await conn.simpleQuery(`CLOSE ${CURSOR}; COMMIT`);
    open = false;
    return {
      snapshot: head[0],
      walInsertLsn: parseLsn(head[1]),
      messages: rows.messages(),
      rows: rows.offsets.length,
      lastKey: rows.lastKey(),
      bytes: rows.bytes,
      complete: !cut && rows.offsets.length < limits.rows,
    };
  } finally {
    if (open) await conn.simpleQuery('ROLLBACK').catch(() => {});
  }
}
