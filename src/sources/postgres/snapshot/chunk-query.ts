/**
 * The SQL of a snapshot chunk (docs/snapshots.md, "How a chunk is read"), pure: the statement that
 * takes the chunk's snapshot and WAL position, and the SELECT of the next rows after the last key
 * in key order, or of given keys; chunk-reader.ts runs them.
 */
import { quoteIdent, quoteLiteral } from '../../../replication/commands.ts';
import { STANDARD_STRINGS } from './request-text.ts';
import type { SnapshotTable } from './table-shape.ts';

/**
 * The chunk's snapshot and WAL position, in its first statement. On a standby (a source decoding
 * from one, PostgreSQL 16+) there is no insert position: the position replayed so far stands for
 * it, read after the snapshot was taken as on a primary. It also makes sure the chunk's SELECT is
 * parsed with standard_conforming_strings on (the default), as checkWhereShape reads `where`.
 */
export const SNAPSHOT_SQL = 'SELECT pg_current_snapshot()::text, ' +
  '(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text, ' +
  `${STANDARD_STRINGS}`;

/** The chunk's SELECT: its text and, per selected column, whether it is sent (relation column) and its key position. */
export interface ChunkQuery {
  text: string;
  /** How many leading columns are the relation's (the rest are key columns it does not send). */
  relationColumns: number;
  /** Index in the selected columns of each key column, in key order. */
  keyIndexes: number[];
}

/**
 * `SELECT <relation columns>[, key columns not among them] FROM t WHERE (k1, k2) > ('v1'::text::type1, ...)
 * [AND (rowFilter)] [AND (where)] ORDER BY k1, k2 LIMIT rows`, after the key `after` (its columns'
 * text), from the start when undefined. The key values are quoted literals, cast from text by the
 * server (so every type round-trips exactly), read with standard_conforming_strings on, which
 * SNAPSHOT_SQL sets for the chunk's transaction. `where` must have passed validateWhere
 * (tables.ts); it and the row filter stand on lines of their own, so a trailing `--` comment
 * cannot hide what follows.
 */
export function chunkQuery(table: SnapshotTable, after: readonly string[] | undefined, where: string | undefined, rows: number): ChunkQuery {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`a chunk reads at least one row, not ${rows}`);
  const keys = table.keyColumns.map(quoteIdent).join(', ');
  return selectQuery(table, after === undefined ? [] : [`(${keys}) > (${keyLiterals(table, after)})`], where, ` LIMIT ${rows}`);
}

/** `'v1'::text::type1, 'v2'::text::type2`: one key's values as literals of the key columns' types. */
function keyLiterals(table: SnapshotTable, key: readonly string[]): string {
  if (key.length !== table.keyColumns.length) throw new RangeError(`a key of ${table.qualified} has ${table.keyColumns.length} column(s), not ${key.length}`);
  return table.keyTypes.map((type, i) => `${quoteLiteral(key[i]!)}::text::${type}`).join(', ');
}

/**
 * The rows of given keys (the text of each key's columns, in key order), as chunkQuery writes
 * them: `... WHERE (k1, k2) IN (('a'::text::type1, '1'::text::type2), ...) [AND (rowFilter)] [AND (where)]`.
 * A snapshot reads rows again this way when the stream moved them to a key it had already copied
 * (table-copy.ts).
 */
export function keysQuery(table: SnapshotTable, keys: readonly (readonly string[])[], where: string | undefined): ChunkQuery {
  if (keys.length === 0) throw new RangeError('at least one key');
  const columns = table.keyColumns.map(quoteIdent).join(', ');
  return selectQuery(table, [`(${columns}) IN (${keys.map((key) => `(${keyLiterals(table, key)})`).join(', ')})`], where, '');
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
