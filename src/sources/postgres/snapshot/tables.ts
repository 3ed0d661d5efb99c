/**
 * Which tables a snapshot reads, from the catalog (docs/snapshots.md, "How a chunk is read"): the
 * tables the source's publications publish (pg_publication_tables, so a partitioned table is read
 * as the publication publishes it: the root with publish_via_partition_root, else its partitions),
 * each with the Relation pgoutput would send and its key (table-shape.ts); and the check of an
 * ad-hoc `where` against the server. Requests that cannot be served throw SnapshotRequestError.
 */
import { PgError } from '../../../pg/errors.ts';
import type { SqlClient, SqlRow } from '../../../pg/sql-client.ts';
import type { ReplicaIdentity } from '../../../pgoutput/messages.ts';
import { quoteIdent } from '../../../replication/commands.ts';
import { checkWhereShape, parseTableName, requestName, STANDARD_STRINGS, type TableName } from './request-text.ts';
import { type CatalogColumn, type CatalogTable, shapeTable, type SnapshotTable } from './table-shape.ts';
import { SnapshotRequestError } from './types.ts';

export type { SnapshotTable } from './table-shape.ts';

export interface ResolvedTables {
  tables: SnapshotTable[];
  /** Tables left out of an 'all' request, and why (no usable key). */
  refused: { table: string; reason: string }[];
}

/** The array literal of `names` for a `$n::text[]` parameter. */
function textArray(names: readonly string[]): string {
  return '{' + names.map((n) => '"' + n.replace(/[\\"]/g, '\\$&') + '"').join(',') + '}';
}

const PUBLISHED_SQL = (withLists: boolean) => `
SELECT c.oid::text, pt.schemaname::text, pt.tablename::text, c.relreplident::text,
  ${withLists ? 'array_to_json(pt.attnames)::text, pt.rowfilter' : 'NULL::text, NULL::text'},
  round(CASE WHEN c.relkind = 'p' THEN
    (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0) FROM pg_catalog.pg_partition_tree(c.oid) t
       JOIN pg_catalog.pg_class l ON l.oid = t.relid WHERE t.isleaf)
    ELSE greatest(c.reltuples, 0) END)::text
FROM pg_catalog.pg_publication_tables pt
JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
WHERE pt.pubname = ANY ($1::text[])`;

const COLUMNS_SQL = `
SELECT a.attrelid::text, a.attnum::text, a.attname::text, a.atttypid::text, a.atttypmod::text, a.attgenerated::text,
  pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;

const KEYS_SQL = `
SELECT i.indrelid::text, i.indisprimary::text, i.indisreplident::text, i.indkey::text
FROM pg_catalog.pg_index i
WHERE i.indrelid = ANY ($1::oid[]) AND (i.indisprimary OR i.indisreplident)`;

const text = (row: SqlRow, i: number): string => row[i] ?? '';

/** A published table before its columns and key are read. */
type Published = CatalogTable & { everyRow: boolean; filters: string[]; lists: Set<string> | undefined };

/** Every table the publications publish, by `schema\0name` (one query; columns and keys come later). */
async function publishedTables(client: SqlClient, publications: readonly string[]): Promise<Map<string, Published>> {
  const [versionRow] = await client.query("SELECT current_setting('server_version_num')");
  const version = Number(versionRow?.[0]);
  const withLists = version >= 150000;
  const rows = await client.query(PUBLISHED_SQL(withLists), [textArray(publications)]);
  const tables = new Map<string, Published>();
  for (const row of rows) {
    const key = `${text(row, 1)}\0${text(row, 2)}`;
    let t = tables.get(key);
    if (t === undefined) {
      t = {
        relationId: Number(row[0]), schema: text(row, 1), name: text(row, 2), replicaIdentity: text(row, 3) as ReplicaIdentity, columns: [],
        published: undefined, generatedByList: version >= 180000, primaryKey: [], identityIndex: [], estimatedRows: Number(row[6]), rowFilter: undefined,
        everyRow: false, filters: [], lists: withLists ? new Set() : undefined,
      };
      tables.set(key, t);
    }
    // Several publications: the union of their columns; a publication without a row filter sends every row.
    const [, , , , columns, filter] = row;
    if (columns === null || columns === undefined) t.lists = undefined;
    else for (const name of JSON.parse(columns) as string[]) t.lists?.add(name);
    if (filter === null || filter === undefined) t.everyRow = true;
    else t.filters.push(filter);
  }
  return tables;
}

/** Reads the columns and keys of `tables` and shapes them for a snapshot (or refuses them). */
async function shapeTables(client: SqlClient, tables: readonly Published[]): Promise<ReturnType<typeof shapeTable>[]> {
  if (tables.length === 0) return [];
  const byOid = new Map(tables.map((t) => [t.relationId, t]));
  const oids = textArray([...byOid.keys()].map(String));
  for (const t of tables) {
    t.columns = [];
    t.primaryKey = [];
    t.identityIndex = [];
  }
  for (const row of await client.query(COLUMNS_SQL, [oids])) {
    const column: CatalogColumn = {
      attnum: Number(row[1]), name: text(row, 2), typeOid: Number(row[3]), typeModifier: Number(row[4]), generated: text(row, 5), typeName: text(row, 6),
    };
    byOid.get(Number(row[0]))?.columns.push(column);
  }
  for (const row of await client.query(KEYS_SQL, [oids])) {
    const t = byOid.get(Number(row[0]));
    if (t === undefined) continue;
    const attnums = text(row, 3).split(' ').map(Number);
    if (row[1] === 'true') t.primaryKey = attnums;
    if (row[2] === 'true') t.identityIndex = attnums;
  }
  return tables.map((t) => {
    t.published = t.lists === undefined ? undefined : [...t.lists];
    t.rowFilter = t.everyRow || t.filters.length === 0 ? undefined : t.filters.length === 1 ? t.filters[0] : t.filters.map((f) => `(${f})`).join(' OR ');
    return shapeTable(t);
  });
}

/** Names in error messages: `"a", "b"`. */
const listOf = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(', ');

/** Refuses publications that do not exist (every table would look unpublished otherwise). */
async function checkPublications(client: SqlClient, publications: readonly string[]): Promise<void> {
  if (publications.length === 0) throw new SnapshotRequestError('the source names no publication', 404);
  const found = new Set((await client.query('SELECT pubname::text FROM pg_catalog.pg_publication WHERE pubname = ANY ($1::text[])', [textArray(publications)])).map((r) => r[0]));
  const missing = publications.filter((p) => !found.has(p));
  if (missing.length > 0) throw new SnapshotRequestError(`publication ${listOf(missing)} does not exist`, 404);
}

/** Why a requested table is not published, or the published partitions that stand for it. */
async function explainUnpublished(client: SqlClient, wanted: TableName, publications: readonly string[], published: ReadonlyMap<string, Published>): Promise<string[]> {
  const asked = requestName(wanted.schema, wanted.name);
  const [found] = await client.query(
    'SELECT c.oid::text, c.relkind::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
    [wanted.schema, wanted.name],
  );
  if (found === undefined) throw new SnapshotRequestError(`table ${asked} does not exist`, 404);
  const named = 'SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = r.relid';
  // A partitioned table whose partitions are published: those.
  if (found[1] === 'p') {
    const leaves = await client.query(`SELECT x.* FROM pg_catalog.pg_partition_tree($1::oid) r, LATERAL (${named}) x WHERE r.isleaf`, [found[0]!]);
    const keys = leaves.map((l) => `${l[0]}\0${l[1]}`).filter((k) => published.has(k));
    if (keys.length > 0) return keys;
  }
  // A partition of a table published as a whole (publish_via_partition_root).
  const ancestors = await client.query(`SELECT x.* FROM pg_catalog.pg_partition_ancestors($1::oid) r, LATERAL (${named}) x WHERE r.relid <> $1::oid`, [found[0]!]);
  const root = ancestors.find((a) => published.has(`${a[0]}\0${a[1]}`));
  if (root !== undefined) {
    const rootName = requestName(root[0]!, root[1]!);
    throw new SnapshotRequestError(
      `${asked} is a partition of ${rootName}, which publication ${listOf(publications)} publishes as a whole (publish_via_partition_root): ask for ${rootName}`, 404);
  }
  throw new SnapshotRequestError(`${asked} is not in publication ${listOf(publications)}`, 404);
}

/**
 * The tables to read: every published one ('all': tables without a usable key go to `refused`)
 * or the requested ones (`schema.table` or `table`, see request-text.ts), each once, in request
 * order. A requested partitioned table whose partitions are published stands for its partitions.
 * Throws SnapshotRequestError: 400 for an unparseable name or a table without a usable key, 404
 * for a table that does not exist or is not published, or a publication that does not exist.
 */
export async function resolveSnapshotTables(client: SqlClient, publications: readonly string[], requested: readonly string[] | 'all'): Promise<ResolvedTables> {
  const names = requested === 'all' ? [] : requested.map(parseTableName);
  if (requested !== 'all' && names.length === 0) throw new SnapshotRequestError('no table requested', 400);
  await checkPublications(client, publications);
  const published = await publishedTables(client, publications);
  const result: ResolvedTables = { tables: [], refused: [] };
  if (requested === 'all') {
    for (const shaped of await shapeTables(client, [...published.values()])) {
      if ('table' in shaped) result.tables.push(shaped.table);
      else result.refused.push(shaped.refused);
    }
    const byName = (a: { qualified?: string; table?: string }, b: { qualified?: string; table?: string }) => {
      const x = a.qualified ?? a.table ?? '';
      const y = b.qualified ?? b.table ?? '';
      return x < y ? -1 : x > y ? 1 : 0;
    };
    result.tables.sort(byName);
    result.refused.sort(byName);
    return result;
  }
  // Which published tables, in request order, each once; then only those are read.
  const wantedTables = new Map<string, Published>();
  for (const wanted of names) {
    const key = `${wanted.schema}\0${wanted.name}`;
    const keys = published.has(key) ? [key] : await explainUnpublished(client, wanted, publications, published);
    for (const k of keys) wantedTables.set(k, published.get(k)!);
  }
  for (const shaped of await shapeTables(client, [...wantedTables.values()])) {
    if (!('table' in shaped)) throw new SnapshotRequestError(shaped.refused.reason, 400);
    result.tables.push(shaped.table);
  }
  return result;
}

/**
 * Checks an ad-hoc `where` against `table`: its shape (request-text.ts), then the server plans
 * `SELECT 1 FROM table WHERE (where) LIMIT 0` in a READ ONLY transaction that is rolled back.
 * Throws SnapshotRequestError 400 with the server's message when it refuses; connection errors
 * are thrown as they are.
 */
export async function validateWhere(client: SqlClient, table: SnapshotTable, where: string): Promise<void> {
  checkWhereShape(where);
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SELECT ${STANDARD_STRINGS}`);
    await client.query(`SELECT 1 FROM ${quoteIdent(table.schema)}.${quoteIdent(table.name)} WHERE (\n${where}\n) LIMIT 0`);
  } catch (err) {
    if (err instanceof PgError) throw new SnapshotRequestError(`where: ${err.serverMessage}`, 400);
    throw err;
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
}
