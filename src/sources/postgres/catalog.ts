/**
 * Catalog queries of the PostgreSQL source, run on an ordinary (non-replication) connection
 * (pg/sql-client.ts), and what the stream learns from them before converting rows: user-defined
 * types for the type registry, a REPLICA IDENTITY FULL table's primary key for the event factory.
 */
import type { Logger } from '../../core/logger.ts';
import type { ConnectOptions } from '../../pg/options.ts';
import { SqlClient } from '../../pg/sql-client.ts';
import { parseTypeLookupRow, typeLookupSql, type TypeInfo, type TypeRegistry } from '../../pgtypes/index.ts';
import type { EventFactory } from './events.ts';

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
  const conn = await SqlClient.connect(connection);
  try {
    const facts: CatalogFacts = { types: [], keyColumns: undefined };
    if (typeOids.length > 0) {
      facts.types = (await conn.query(typeLookupSql(typeOids))).map((row) => parseTypeLookupRow(row));
    }
    if (fullIdentityRelation !== undefined) {
      const names = (await conn.query(primaryKeySql(fullIdentityRelation))).map((row) => row[0]).filter((name): name is string => typeof name === 'string');
      facts.keyColumns = names.length > 0 ? names : undefined;
    }
    return facts;
  } finally {
    await conn.close().catch(() => {});
  }
}

/** The OIDs (each once) of types the registry must look up before converting values of them. */
export function unknownTypes(types: TypeRegistry, typeOids: readonly number[]): number[] {
  return [...new Set(typeOids.filter((oid) => types.needsLookup(oid)))];
}

/**
 * Reads the catalog (readCatalog) and teaches what it says to `types` (user-defined types; the
 * event factory's converters are then made anew) and to `events` (the key columns of
 * `fullIdentityRelation`). Throws when the catalog cannot be read.
 */
export async function learnCatalog(
  connection: ConnectOptions, types: TypeRegistry, events: EventFactory, log: Logger, typeOids: number[], fullIdentityRelation: number | undefined,
): Promise<void> {
  const facts = await readCatalog(connection, typeOids, fullIdentityRelation);
  if (facts.types.length > 0) {
    for (const info of facts.types) types.define(info);
    events.resetConverters();
    log.debug(`learnt ${facts.types.length} user-defined type(s) for OIDs ${typeOids.join(', ')}`);
  }
  if (fullIdentityRelation !== undefined) events.setKeyColumns(fullIdentityRelation, facts.keyColumns);
}
