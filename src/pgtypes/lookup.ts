/**
 * Learning user-defined types: the SQL the PostgreSQL source runs on an ordinary connection for
 * the OIDs `TypeRegistry.needsLookup` reports, and the parser of its rows into TypeInfo. The query
 * follows domain bases and array elements recursively, so one round trip teaches a whole chain
 * (a domain over an array of an enum). Works on PostgreSQL 10 and later.
 */
import type { TypeInfo } from './registry.ts';

const OID_LIST_PLACEHOLDER = '$1::pg_catalog.oid[]';

/**
 * The lookup query; `$1` is an oid[] parameter (e.g. `sql.unsafe(TYPE_LOOKUP_SQL, ['{16385,16390}'])`).
 * Columns: oid, name, typtype, base_oid, elem_oid, delimiter (all text).
 */
export const TYPE_LOOKUP_SQL = `WITH RECURSIVE wanted(oid) AS (
    SELECT pg_catalog.unnest(${OID_LIST_PLACEHOLDER})
  UNION
    SELECT d.oid
      FROM wanted w
      JOIN pg_catalog.pg_type t ON t.oid = w.oid
      CROSS JOIN LATERAL (VALUES (t.typbasetype), (t.typelem)) AS d(oid)
     WHERE d.oid <> 0
)
SELECT t.oid::text AS oid,
       pg_catalog.format_type(t.oid, NULL) AS name,
       t.typtype::text AS typtype,
       NULLIF(t.typbasetype, 0)::text AS base_oid,
       CASE WHEN e.typarray = t.oid THEN t.typelem::text END AS elem_oid,
       CASE WHEN e.typarray = t.oid THEN e.typdelim::text END AS delimiter
  FROM wanted w
  JOIN pg_catalog.pg_type t ON t.oid = w.oid
  LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem
 ORDER BY t.oid`;

const MAX_OID = 0xffffffff;

/** The lookup query with the OIDs written in (for a simple-query connection without parameters). */
export function typeLookupSql(oids: readonly number[]): string {
  for (const oid of oids) {
    if (!Number.isInteger(oid) || oid < 0 || oid > MAX_OID) throw new RangeError(`not a type OID: ${oid}`);
  }
  return TYPE_LOOKUP_SQL.replace(OID_LIST_PLACEHOLDER, `'{${oids.join(',')}}'::pg_catalog.oid[]`);
}

const COLUMNS = ['oid', 'name', 'typtype', 'base_oid', 'elem_oid', 'delimiter'] as const;

const KINDS: Readonly<Record<string, TypeInfo['kind']>> = {
  b: 'base',
  c: 'composite',
  d: 'domain',
  e: 'enum',
  p: 'pseudo',
  r: 'range',
  m: 'multirange',
};

function optionalOid(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || text === '' || text === '0') return undefined;
  const oid = Number(text);
  return Number.isInteger(oid) && oid > 0 ? oid : undefined;
}

/** Parses one row of the lookup query (by column name, or as an array in the query's column order). */
export function parseTypeLookupRow(row: Record<string, string | null> | readonly (string | null)[]): TypeInfo {
  const get = (i: number): string | null | undefined =>
    Array.isArray(row) ? (row as readonly (string | null)[])[i] : (row as Record<string, string | null>)[COLUMNS[i] as string];
  const oid = optionalOid(get(0));
  if (oid === undefined) throw new Error(`type lookup row without a valid oid: ${JSON.stringify(row)}`);
  const info: TypeInfo = { oid, name: get(1) ?? String(oid), kind: KINDS[get(2) ?? 'b'] ?? 'base' };
  const baseOid = optionalOid(get(3));
  if (baseOid !== undefined) info.baseOid = baseOid;
  const elemOid = optionalOid(get(4));
  if (elemOid !== undefined) info.elemOid = elemOid;
  const delimiter = get(5);
  if (delimiter) info.delimiter = delimiter;
  return info;
}
