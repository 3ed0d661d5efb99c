/**
 * Reads a snapshot chunk over our own protocol code (pg/connection.ts) instead of postgres.js, for
 * speed (docs/snapshots.md, "How a chunk is read"; docs/benchmarks.md, "Snapshots"): each DataRow's
 * bytes (Int16 count, then Int32 length and the text per column) become a pgoutput Insert message
 * (Byte1 't' or 'n' instead of the length -1, otherwise the same bytes) in one pass into one buffer,
 * with no object per value or per row (insert-message.ts). One short REPEATABLE READ READ ONLY
 * transaction per chunk, whose first statement takes the snapshot and the WAL insert position; the
 * query is chunk-query.ts's.
 *
 * The chunk's rows come through a cursor in batches, so a chunk stops soon after its byte limit.
 * Key values of the query are quoted literals (the simple query protocol has no parameters):
 * SNAPSHOT_SQL turns standard_conforming_strings on for the transaction first.
 */
import type { PgConnection } from '../../../pg/connection.ts';
import { parseLsn, type Lsn } from '../../../replication/lsn.ts';
import { chunkQuery, keysQuery, SNAPSHOT_SQL, type ChunkQuery } from './chunk-query.ts';
import { checkWhereShape } from './request-text.ts';
import { InsertBuilder, type InsertMessages } from './insert-message.ts';
import type { SnapshotTable } from './table-shape.ts';

/** Rows per FETCH. */
const FETCH_ROWS = 1000;
const CURSOR = 'psql_streamer_snapshot_chunk';

/** A chunk read, its rows already as Insert messages. */
export interface ChunkRead {
  snapshot: string;
  walInsertLsn: Lsn;
  messages: InsertMessages;
  rows: number;
  /** Text of the key columns of the last row; undefined when no rows. */
  lastKey: string[] | undefined;
  bytes: number;
  complete: boolean;
}

/**
 * The rows of `table` after the key `after` (from the start when undefined) matching `where`: up to
 * `limits.rows` rows, and stopping after the row that brings the values' bytes to `limits.bytes`
 * or more (always at least one row); as Insert messages of `table.relationId`.
 */
export async function readChunk(
  conn: PgConnection, table: SnapshotTable, after: readonly string[] | undefined, where: string | undefined, limits: { rows: number; bytes: number },
  sizeHint = 0,
): Promise<ChunkRead> {
  return readInSnapshot(conn, table, chunkQuery(table, after, where, limits.rows), limits, sizeHint, where);
}

/** The rows of the given keys (the text of each key's columns, in key order), complete. */
export async function readKeys(conn: PgConnection, table: SnapshotTable, keys: readonly (readonly string[])[], where: string | undefined): Promise<ChunkRead> {
  const read = await readInSnapshot(conn, table, keysQuery(table, keys, where), { rows: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER }, 0, where);
  return { ...read, complete: true };
}

/** One chunk's transaction: its snapshot and WAL position, then `query`'s rows up to the limits. */
async function readInSnapshot(conn: PgConnection, table: SnapshotTable, query: ChunkQuery, limits: { rows: number; bytes: number }, sizeHint: number, where: string | undefined): Promise<ChunkRead> {
  // The simple protocol runs every statement of a string: `where` must stay one condition (again:
  // a record read back from the state file was checked when the backfill was requested).
  if (where !== undefined) checkWhereShape(where);
  const rows = new InsertBuilder(table.relationId, query.relationColumns, query.keyIndexes, sizeHint);
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
