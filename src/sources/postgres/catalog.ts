/** Catalog queries of the PostgreSQL source, run on an ordinary (non-replication) connection. */
import { PgConnection, type ConnectOptions } from '../../pg/connection.ts';
import { parseTypeLookupRow, typeLookupSql, type TypeInfo } from '../../pgtypes/index.ts';

/** Primary key column names of a table, in key order (none when it has no primary key). */
export function primaryKeySql(relationId: number): string {
  if (!Number.isInteger(relationId) || relationId <= 0 || relationId > 0xffffffff) throw new RangeError(`not a relation OID: ${relationId}`);
  return 'SELECT a.attname FROM pg_catalog.pg_index i ' +
    'JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) ' +
    `WHERE i.indrelid = ${relationId} AND i.indisprimary ` +
    'ORDER BY array_position(i.indkey::int2[], a.attnum)';
}

/** What the catalog told about a relation's types and key. */
export interface CatalogFacts {
  types: TypeInfo[];
  /** Primary key columns (asked only for REPLICA IDENTITY FULL tables); undefined when none or not asked. */
  keyColumns: string[] | undefined;
}

/**
 * Reads, on a short-lived ordinary connection, the definitions of user-defined types and (for a
 * REPLICA IDENTITY FULL relation) its primary key: what a Relation message does not say.
 */
export async function readCatalog(connection: ConnectOptions, typeOids: readonly number[], fullIdentityRelation: number | undefined): Promise<CatalogFacts> {
  const conn = await PgConnection.connect({ ...connection, replication: undefined });
  try {
    const facts: CatalogFacts = { types: [], keyColumns: undefined };
    if (typeOids.length > 0) {
      const [result] = await conn.simpleQuery(typeLookupSql(typeOids));
      facts.types = (result?.rows ?? []).map((row) => parseTypeLookupRow(row));
    }
    if (fullIdentityRelation !== undefined) {
      const [result] = await conn.simpleQuery(primaryKeySql(fullIdentityRelation));
      const names = (result?.rows ?? []).map((row) => row[0]).filter((name): name is string => typeof name === 'string');
      facts.keyColumns = names.length > 0 ? names : undefined;
    }
    return facts;
  } finally {
    await conn.close().catch(() => {});
  }
}
