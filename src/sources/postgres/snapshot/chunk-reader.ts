/**
 * Reads a snapshot chunk over our own protocol code (pg/connection.ts) instead of postgres.js, for
 * speed (docs/snapshots.md, "How a chunk is read"; docs/benchmarks.md, "Snapshots"): each DataRow
 * (Int16 count, then Int32 length and the text per column) is kept as the range of the received
 * buffer it arrived in (data-rows.ts), with no copy and no object per value or per row; the events
 * are written from those bytes. One short REPEATABLE READ READ ONLY transaction per chunk, whose
 * first statement takes the snapshot and the WAL insert position; the query is chunk-query.ts's.
 *
 * The chunk's rows come through a cursor in batches sized to fill its byte limit (by the rows seen
 * so far or the previous chunk's), so a chunk stops soon after that limit in few round trips.
 * Key values of the query are quoted literals (the simple query protocol has no parameters):
 * SNAPSHOT_SQL turns standard_conforming_strings on for the transaction first.
 */
import type { PgConnection } from '../../../pg/connection.ts';
import { parseLsn, type Lsn } from '../../../replication/lsn.ts';
import { chunkQuery, keysQuery, SNAPSHOT_SQL, type ChunkQuery } from './chunk-query.ts';
import { checkWhereShape } from './request-text.ts';
import { DataRows, type ChunkRows } from './data-rows.ts';
import type { SnapshotTable } from './table-shape.ts';

/** Rows of the first FETCH of a table's first chunk (no row size known yet). */
const FETCH_ROWS = 1000;
/** A FETCH asks for the rows expected to fill the chunk's byte limit, this much more (fewer round trips than a short guess). */
const FETCH_MARGIN = 1.25;
/** Rows per FETCH at most (FETCH takes a 32-bit count; reads by key have no row limit). */
const MAX_FETCH_ROWS = 100_000;
const CURSOR = 'psql_streamer_snapshot_chunk';
const END_SQL = `CLOSE ${CURSOR}; COMMIT`;

/** A chunk read, its rows as the server sent them. */
export interface ChunkRead {
  snapshot: string;
  walInsertLsn: Lsn;
  messages: ChunkRows;
  rows: number;
  /** Text of the key columns of the last row; undefined when no rows. */
  lastKey: string[] | undefined;
  bytes: number;
  complete: boolean;
}

/**
 * Turns a chunk's rows into events while they arrive (table-copy.ts), so that the streamer builds
 * while the server still sends (docs/snapshots.md, "How a chunk is read"): `start` once the chunk's
 * snapshot and WAL position are known, then `row` for each row the chunk keeps, in order.
 */
export interface ChunkRowBuilder {
  start(walInsertLsn: Lsn): void;
  row(data: Uint8Array, start: number, end: number): void;
}

/** What the previous chunk of a table says about the next: its values' bytes per row. */
export interface ChunkHint {
  valueBytesPerRow: number;
}

/**
 * The rows of `table` after the key `after` (from the start when undefined) matching `where`: up to
 * `limits.rows` rows, and stopping after the row that brings the values' bytes to `limits.bytes`
 * or more (always at least one row); as their DataRows.
 */
export async function readChunk(
  conn: PgConnection, table: SnapshotTable, after: readonly string[] | undefined, where: string | undefined, limits: { rows: number; bytes: number },
  hint?: ChunkHint, builder?: ChunkRowBuilder,
): Promise<ChunkRead> {
  return readInSnapshot(conn, table, chunkQuery(table, after, where, limits.rows), limits, hint, where, builder);
}

/** The rows of the given keys (the text of each key's columns, in key order), complete. */
export async function readKeys(
  conn: PgConnection, table: SnapshotTable, keys: readonly (readonly string[])[], where: string | undefined, builder?: ChunkRowBuilder,
): Promise<ChunkRead> {
  const read = await readInSnapshot(conn, table, keysQuery(table, keys, where), { rows: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER }, undefined, where, builder);
  return { ...read, complete: true };
}

/**
 * Rows the next FETCH asks for: those expected to fill what is left of the byte limit (by the
 * values' bytes per row seen so far, or the previous chunk's), with a margin, within the rows left
 * and MAX_FETCH_ROWS; FETCH_ROWS while nothing is known. Pure.
 */
export function fetchRows(limits: { rows: number; bytes: number }, rowsSoFar: number, bytesSoFar: number, hintBytesPerRow = 0): number {
  const left = limits.rows - rowsSoFar;
  const perRow = rowsSoFar > 0 ? bytesSoFar / rowsSoFar : hintBytesPerRow;
  if (!(perRow > 0)) return Math.max(1, Math.min(left, FETCH_ROWS));
  return Math.max(1, Math.min(left, MAX_FETCH_ROWS, Math.ceil(((limits.bytes - bytesSoFar) / perRow) * FETCH_MARGIN)));
}

/**
 * One chunk's transaction: its snapshot and WAL position, then `query`'s rows up to the limits.
 * The cursor and its first FETCH go in one round trip; the FETCH asks for as many rows as the
 * previous chunk's say fit (often the whole chunk), and a FETCH of all the rows the chunk has left
 * carries the CLOSE and COMMIT, so a chunk of ordinary rows takes two round trips, not eight.
 */
async function readInSnapshot(
  conn: PgConnection, table: SnapshotTable, query: ChunkQuery, limits: { rows: number; bytes: number }, hint: ChunkHint | undefined, where: string | undefined,
  builder: ChunkRowBuilder | undefined,
): Promise<ChunkRead> {
  // The simple protocol runs every statement of a string: `where` must stay one condition (again:
  // a record read back from the state file was checked when the backfill was requested).
  if (where !== undefined) checkWhereShape(where);
  const rows = new DataRows(query.relationColumns, query.keyIndexes);
  let cut = false;
  // Rows handed to the builder; -1 until its start (the rows that come before wait in `rows`).
  let built = -1;
  // Thrown once the read is over: a throw inside onRow would be the connection's parser's.
  let buildError: unknown;
  const onRow = (data: Uint8Array, start: number, end: number) => {
    if (!cut) {
      rows.add(data, start, end);
      if (built >= 0 && buildError === undefined) {
        try {
          builder!.row(data, start, end);
          built++;
        } catch (err) {
          buildError = err;
        }
      }
    }
    if (rows.bytes >= limits.bytes) cut = true;
  };
  // From here on the transaction may be open: the finally rolls back whatever did not commit.
  let open = true;
  try {
    // A FETCH of every row the chunk has left is its last: the transaction ends in the same string.
    const fetch = (asked: number) => `FETCH FORWARD ${asked} FROM ${CURSOR}` + (asked === limits.rows - rows.count ? `; ${END_SQL}` : '');
    let asked = fetchRows(limits, 0, 0, hint?.valueBytesPerRow);
    let sql = `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${query.text}; ${fetch(asked)}`;
    // The snapshot is taken at the transaction's first statement: the snapshot query itself. The
    // cursor is a second Query message, not part of that string (the server reads a whole string
    // before running it, so its SELECT would be read before SNAPSHOT_SQL turned
    // standard_conforming_strings on), sent with the first: the server starts on the rows without
    // waiting for us to read its answer (we may be busy building the previous chunk's events).
    const [begun, declared] = conn.simpleQueries(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${SNAPSHOT_SQL}`, sql, onRow);
    declared.catch(() => {}); // when the first fails, its error is the one reported
    const [, first] = await begun;
    const head = first?.rows[0];
    if (head === undefined || head[0] == null || head[1] == null) throw new Error('the snapshot query returned no row');
    const walInsertLsn = parseLsn(head[1]);
    if (builder !== undefined) {
      // The rows parsed with the snapshot's answer, before this line ran, are built first.
      builder.start(walInsertLsn);
      for (built = 0; built < rows.count; built++) builder.row(rows.data[built]!, rows.starts[built]!, rows.ends[built]!);
    }
    await declared;
    let fetched = rows.count;
    while (!cut && fetched >= asked && rows.count < limits.rows) {
      asked = fetchRows(limits, rows.count, rows.bytes);
      const before = rows.count;
      sql = fetch(asked);
      await conn.simpleQuery(sql, onRow);
      fetched = rows.count - before;
    }
    if (!sql.endsWith(END_SQL)) await conn.simpleQuery(END_SQL);
    open = false;
    if (buildError !== undefined) throw buildError;
    return {
      snapshot: head[0],
      walInsertLsn,
      messages: rows,
      rows: rows.count,
      lastKey: rows.lastKey(),
      bytes: rows.bytes,
      complete: !cut && rows.count < limits.rows,
    };
  } finally {
    if (open) await conn.simpleQuery('ROLLBACK').catch(() => {});
  }
}
