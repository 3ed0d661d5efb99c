/** Catalog queries of the PostgreSQL source, run on an ordinary (non-replication) connection. */

/** Primary key column names of a table, in key order (none when it has no primary key). */
export function primaryKeySql(relationId: number): string {
  if (!Number.isInteger(relationId) || relationId <= 0 || relationId > 0xffffffff) throw new RangeError(`not a relation OID: ${relationId}`);
  return 'SELECT a.attname FROM pg_catalog.pg_index i ' +
    'JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) ' +
    `WHERE i.indrelid = ${relationId} AND i.indisprimary ` +
    'ORDER BY array_position(i.indkey::int2[], a.attnum)';
}
