/**
 * Reads one chunk of a table for a snapshot (docs/snapshots.md, "How a chunk is read"): one short
 * REPEATABLE READ READ ONLY transaction whose first statement takes the snapshot and the WAL
 * insert position, then the next rows after the last key in key order, as the server's text
 * bytes (the types code converts them exactly as the stream's), up to a row and a byte limit.
 */
import type { SqlClient, SqlParam } from '../../../pg/sql-client.ts';
import { quoteIdent, quoteLiteral } from '../../../replication/commands.ts';
import { parseLsn, type Lsn } from '../../../replication/lsn.ts';
import { STANDARD_STRINGS } from './request-text.ts';
import type { SnapshotTable } from './table-shape.ts';

export interface ChunkRead {
  /** pg_current_snapshot()::text of the chunk's transaction, e.g. "748:752:748,750". */
  snapshot: string;
  /**
   * pg_current_wal_insert_lsn(), read in the same first statement (after the snapshot was taken);
   * on a standby pg_last_wal_replay_lsn().
   */
  walInsertLsn: Lsn;
  /** Raw text-format values, in relation.columns order. */
  rows: (Uint8Array | null)[][];
  /** Text of the key columns of the last row; undefined when no rows. */
  lastKey: string[] | undefined;
  /** Sum of the values' byte lengths. */
  bytes: number;
  /** True when no row follows lastKey (fewer rows than limits.rows and not cut by bytes). */
  complete: boolean;
}

/**
 * The chunk's snapshot and WAL position, in its first statement. On a standby (a source decoding
 * from one, PostgreSQL 16+) there is no insert position: the position replayed so far stands for
 * it, read after the snapshot was taken as on a primary. It also makes sure the chunk's SELECT is
 * parsed with standard_conforming_strings on (the default), as checkWhereShape reads `where`.
 */
export const SNAPSHOT_SQL = 'SELECT pg_current_snapshot()::text, ' +
  '(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text, ' +
  `${STANDARD_STRINGS}`;

/** Rows fetched per round trip: the byte limit is checked per row, so at most one batch is read past it. */
export const BATCH_ROWS = 2048;

/** The chunk's SELECT: its text and, per selected column, whether it is sent (relation column) and its key position. */
export interface ChunkQuery {
  text: string;
  /** How many leading columns are the relation's (the rest are key columns it does not send). */
  relationColumns: number;
  /** Index in the selected columns of each key column, in key order. */
  keyIndexes: number[];
}

/**
 * `SELECT <relation columns>[, key columns not among them] FROM t WHERE (k1, k2) > ($1::text::type1, ...)
 * [AND (rowFilter)] [AND (where)] ORDER BY k1, k2 LIMIT rows`. `where` must have passed
 * validateWhere (tables.ts); it and the row filter stand on lines of their own, so a trailing
 * `--` comment cannot hide what follows.
 */
export function chunkQuery(table: SnapshotTable, afterKey: boolean, where: string | undefined, rows: number, literals?: readonly string[]): ChunkQuery {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`a chunk reads at least one row, not ${rows}`);
  const keys = table.keyColumns.map(quoteIdent);
  // Bound as text, then cast: postgres.js would otherwise run its own serializer for a parameter
  // the server types as a date, timestamp, bytea or json (through a JavaScript Date: precision and
  // infinity lost) instead of sending the server's own text back.
  return selectQuery(table, afterKey ? [`(${keys.join(', ')}) > (${keyParams(table, 0, literals)})`] : [], where, ` LIMIT ${rows}`);
}

/**
 * `$1::text::type1, $2::text::type2`: one key's parameters, numbered after `before` others; or,
 * with `literals` (every key's values, in order), the values as quoted literals (for the simple
 * query protocol; the chunk's transaction turns standard_conforming_strings on first).
 */
function keyParams(table: SnapshotTable, before: number, literals?: readonly string[]): string {
  return table.keyTypes.map((type, i) => `${literals === undefined ? `$${before + i + 1}` : quoteLiteral(literals[before + i]!)}::text::${type}`).join(', ');
}

/**
 * The rows of given keys (`count` of them, their values bound key after key, in key order):
 * `... WHERE (k1, k2) IN (($1::text::type1, $2::text::type2), ...) [AND (rowFilter)] [AND (where)]`.
 * A snapshot reads rows again this way when the stream moved them to a key it had already copied
 * (runner.ts).
 */
export function keysQuery(table: SnapshotTable, count: number, where: string | undefined, literals?: readonly string[]): ChunkQuery {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`at least one key, not ${count}`);
  const width = table.keyColumns.length;
  const keys = table.keyColumns.map(quoteIdent).join(', ');
  const list = Array.from({ length: count }, (_, k) => `(${keyParams(table, k * width, literals)})`).join(', ');
  return selectQuery(table, [`(${keys}) IN (${list})`], where, '');
}

/** A chunk's SELECT: the relation's columns (and key columns it does not send), the conditions, key order. */
function selectQuery(table: SnapshotTable, conditions: string[], where: string | undefined, tail: string): ChunkQuery {
  const selected = table.relation.columns.map((c) => c.name);
  const relationColumns = selected.length;
  const keyIndexes = table.keyColumns.map((name) => {
    const at = selected.indexOf(name);
    if (at >= 0) return at;
    selected.push(name);
    return selected.length - 1;
  });
  if (table.rowFilter !== undefined) conditions.push(`(\n${table.rowFilter}\n)`);
  if (where !== undefined) conditions.push(`(\n${where}\n)`);
  const text = `SELECT ${selected.length === 0 ? 'NULL' : selected.map(quoteIdent).join(', ')} FROM ${quoteIdent(table.schema)}.${quoteIdent(table.name)}` +
    (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
    ` ORDER BY ${table.keyColumns.map(quoteIdent).join(', ')}${tail}`;
  return { text, relationColumns, keyIndexes };
}

const utf8 = new TextDecoder('utf-8');

/**
 * Reads the rows of `table` after the key `after` (from the start when undefined) matching `where`:
 * up to `limits.rows` rows, and stopping after the row that brings the values' bytes to
 * `limits.bytes` or more (always at least one row). The SqlClient must be idle (no transaction).
 */
export async function readChunk(
  client: SqlClient, table: SnapshotTable, after: readonly string[] | undefined, where: string | undefined, limits: { rows: number; bytes: number },
): Promise<ChunkRead> {
  if (after !== undefined && after.length !== table.keyColumns.length) {
    throw new RangeError(`the last key of ${table.qualified} has ${table.keyColumns.length} column(s), not ${after.length}`);
  }
  return readInSnapshot(client, chunkQuery(table, after !== undefined, where, limits.rows), (after ?? []) as SqlParam[], limits);
}

/** Reads the rows of the given keys (the text of each key's columns, in key order) in one short snapshot. */
export async function readKeys(client: SqlClient, table: SnapshotTable, keys: readonly (readonly string[])[], where: string | undefined): Promise<ChunkRead> {
  for (const key of keys) {
    if (key.length !== table.keyColumns.length) throw new RangeError(`a key of ${table.qualified} has ${table.keyColumns.length} column(s), not ${key.length}`);
  }
  const all = { rows: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER };
  return { ...(await readInSnapshot(client, keysQuery(table, keys.length, where), keys.flat() as SqlParam[], all)), complete: true };
}

/** One REPEATABLE READ READ ONLY transaction: its snapshot and WAL position, then the query's rows up to the limits. */
async function readInSnapshot(client: SqlClient, query: ChunkQuery, params: SqlParam[], limits: { rows: number; bytes: number }): Promise<ChunkRead> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const [first] = await client.query(SNAPSHOT_SQL);
    const rows: (Uint8Array | null)[][] = [];
    let bytes = 0;
    let cut = false;
    let last: (Uint8Array | null)[] | undefined;
    await client.queryRawBatches(query.text, params, Math.min(limits.rows, BATCH_ROWS), (batch) => {
      for (const row of batch) {
        for (let i = 0; i < query.relationColumns; i++) bytes += row[i]?.length ?? 0;
        rows.push(row.length === query.relationColumns ? row : row.slice(0, query.relationColumns));
        last = row;
        if (bytes >= limits.bytes) {
          cut = true;
          return false;
        }
      }
      return true;
    });
    await client.query('COMMIT');
    return {
      snapshot: first![0]!,
      walInsertLsn: parseLsn(first![1]!),
      rows,
      // A key column is never NULL (primary key, replica identity index).
      lastKey: last === undefined ? undefined : query.keyIndexes.map((i) => utf8.decode(last![i]!)),
      bytes,
      complete: !cut && rows.length < limits.rows,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
