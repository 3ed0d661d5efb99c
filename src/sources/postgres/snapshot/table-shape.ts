/**
 * From what the catalog says about a published table to the table a snapshot reads (tables.ts):
 * the Relation message pgoutput would send for it (which columns, which flagged as key) and the
 * key a snapshot reads it in order of (docs/snapshots.md, "How a chunk is read"). Pure.
 *
 * pgoutput's rules (logicalrep_write_attrs): dropped columns are never sent; generated columns not
 * before PostgreSQL 18 (18: stored ones per publish_generated_columns, or when in a column list);
 * with a column list (15+) only its columns. A column is flagged as key when the replica identity
 * covers it: DEFAULT the primary key, USING INDEX that index, FULL every column, NOTHING none.
 */
import type { Relation, ReplicaIdentity } from '../../../pgoutput/messages.ts';
import type { RelationInfo } from '../../../pgoutput/relations.ts';
import { requestName } from './request-text.ts';

/** A table a snapshot can read: its Relation as the stream names it, and its key. */
export interface SnapshotTable {
  /** As pgoutput names it (the Relation message's namespace and name). */
  schema: string;
  name: string;
  /**
   * `schema.table` in the request syntax (request-text.ts): a part holding a dot or a quote is in
   * double quotes, so resolveSnapshotTables reads it back as this table (what a record keeps).
   */
  qualified: string;
  /** pg_class OID, as pgoutput's Relation carries it. */
  relationId: number;
  /** Exactly the Relation message pgoutput sends for this table under the source's publication(s). */
  relation: Relation;
  /** Keyset order and the event key: the primary key (DEFAULT, FULL, NOTHING), the index's columns (USING INDEX). */
  keyColumns: string[];
  /** format_type(atttypid, atttypmod) per key column: the casts of the last key. */
  keyTypes: string[];
  /** pg_class.reltuples (summed over the partitions of a partitioned table); 0 when unknown. */
  estimatedRows: number;
  /**
   * The publications' row filter (PostgreSQL 15+; several are ORed, as pgoutput does), or undefined
   * when every row is published: every chunk applies it, so a snapshot sends the rows the stream would.
   */
  rowFilter: string | undefined;
}

/** One column of a table, not dropped. */
export interface CatalogColumn {
  attnum: number;
  name: string;
  typeOid: number;
  typeModifier: number;
  /** pg_attribute.attgenerated: '' (not generated), 's' stored, 'v' virtual (18+). */
  generated: string;
  /** format_type(atttypid, atttypmod). */
  typeName: string;
}

/** What the catalog says about one published table. */
export interface CatalogTable {
  relationId: number;
  schema: string;
  name: string;
  replicaIdentity: ReplicaIdentity;
  /** Every column that is not dropped, in attnum order. */
  columns: CatalogColumn[];
  /**
   * The published columns' names when the server says (pg_publication_tables.attnames, 15+; the
   * union over the publications), undefined otherwise: then every column not generated.
   */
  published: readonly string[] | undefined;
  /**
   * Whether `published` decides about generated columns too (PostgreSQL 18+). Before 18 pgoutput
   * never sends them, although pg_publication_tables.attnames may list them (15-17, no column list).
   */
  generatedByList: boolean;
  /** attnums of the primary key, in key order (empty when none). */
  primaryKey: readonly number[];
  /** attnums of the REPLICA IDENTITY USING INDEX index, in index order (empty when none). */
  identityIndex: readonly number[];
  estimatedRows: number;
  rowFilter: string | undefined;
}

/** Why a table without a usable key cannot be read. */
export function keylessReason(schema: string, name: string): string {
  return `${requestName(schema, name)} has no primary key or replica identity index: snapshots read in key order; ` +
    'add one (ALTER TABLE ... ADD PRIMARY KEY (...)) or leave it out';
}

/** The table a snapshot reads, or why it cannot. */
export function shapeTable(t: CatalogTable): { table: SnapshotTable } | { refused: { table: string; reason: string } } {
  const published = t.published === undefined ? undefined : new Set(t.published);
  const sent = t.columns.filter((c) =>
    published === undefined || (!t.generatedByList && c.generated !== '') ? c.generated === '' : published.has(c.name));
  const identity = t.replicaIdentity === 'd' ? t.primaryKey : t.replicaIdentity === 'i' ? t.identityIndex : [];
  const flagged = new Set(identity);
  const byAttnum = new Map(t.columns.map((c) => [c.attnum, c]));
  const keyAttnums = t.replicaIdentity === 'i' ? t.identityIndex : t.primaryKey;
  const key = keyAttnums.map((attnum) => byAttnum.get(attnum));
  if (key.length === 0 || key.some((c) => c === undefined)) return { refused: { table: requestName(t.schema, t.name), reason: keylessReason(t.schema, t.name) } };
  const relation: Relation = {
    tag: 'relation',
    xid: undefined,
    relationId: t.relationId,
    namespace: t.schema,
    name: t.name,
    replicaIdentity: t.replicaIdentity,
    columns: sent.map((c) => {
      const isKey = t.replicaIdentity === 'f' || flagged.has(c.attnum);
      return { flags: isKey ? 1 : 0, isKey, name: c.name, typeOid: c.typeOid, typeModifier: c.typeModifier };
    }),
  };
  return {
    table: {
      schema: t.schema,
      name: t.name,
      qualified: requestName(t.schema, t.name),
      relationId: t.relationId,
      relation,
      keyColumns: key.map((c) => c!.name),
      keyTypes: key.map((c) => c!.typeName),
      estimatedRows: t.estimatedRows > 0 ? Math.round(t.estimatedRows) : 0,
      rowFilter: t.rowFilter,
    },
  };
}

/** Whether the stream's Relation has the shape's columns (names, types, modifiers, in order). */
export function sameColumns(relation: RelationInfo, shape: SnapshotTable): boolean {
  const columns = shape.relation.columns;
  return relation.columns.length === columns.length &&
    relation.columns.every((c, i) => c.name === columns[i]!.name && c.typeOid === columns[i]!.typeOid && c.typeModifier === columns[i]!.typeModifier);
}
