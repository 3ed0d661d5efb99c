/**
 * RelationCache: the schemas PostgreSQL sent as Relation (and Type) messages, by OID. Change
 * messages carry only a relation OID and positional values, so this is what names the table and
 * its columns. A plain object with no I/O: it outlives reconnects (PostgreSQL re-sends a Relation
 * before the first change of each table in a new session, and after a schema change).
 */
import { UnknownRelationError } from './errors.ts';
import type { PgoutputMessage, Relation, RelationColumn, ReplicaIdentity, TypeMessage } from './messages.ts';

/** A cached relation: the Relation message's fields plus derived lookups. */
export interface RelationInfo {
  readonly relationId: number;
  /** Schema name ('' means pg_catalog, as PostgreSQL sends it). */
  readonly namespace: string;
  readonly name: string;
  readonly replicaIdentity: ReplicaIdentity;
  readonly columns: readonly RelationColumn[];
  /**
   * Names of the replica identity columns, in column order: the primary key (DEFAULT), the index's
   * columns (USING INDEX), every column (FULL), none (NOTHING).
   */
  readonly keyColumns: readonly string[];
  /**
   * Column indexes in name order (code point order, as JSON encoding sorts them): rows are built in
   * this order so the encoder finds their keys already sorted.
   */
  readonly nameOrder: readonly number[];
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Relation and Type messages by OID; a re-sent message replaces the previous one. */
export class RelationCache {
  private readonly relations = new Map<number, RelationInfo>();
  private readonly types = new Map<number, TypeMessage>();

  /** Stores Relation and Type messages; returns true when the message was one of them. */
  apply(message: PgoutputMessage): boolean {
    if (message.tag === 'relation') {
      this.setRelation(message);
      return true;
    }
    if (message.tag === 'type') {
      this.setType(message);
      return true;
    }
    return false;
  }

  /** Stores a relation, replacing any earlier version (a schema change); returns the entry. */
  setRelation(relation: Relation): RelationInfo {
    const columns = Object.freeze(relation.columns.map((column) => Object.freeze({ ...column })));
    const info: RelationInfo = Object.freeze({
      relationId: relation.relationId,
      namespace: relation.namespace,
      name: relation.name,
      replicaIdentity: relation.replicaIdentity,
      columns,
      keyColumns: Object.freeze(columns.filter((column) => column.isKey).map((column) => column.name)),
      nameOrder: Object.freeze(columns.map((_, i) => i).sort((a, b) => byCodePoint(columns[a]!.name, columns[b]!.name))),
    });
    this.relations.set(relation.relationId, info);
    return info;
  }

  /** Stores a type's name, replacing any earlier version. */
  setType(type: TypeMessage): void {
    this.types.set(type.typeOid, type);
  }

  /** The relation with this OID, or undefined when no Relation message was seen for it. */
  get(relationId: number): RelationInfo | undefined {
    return this.relations.get(relationId);
  }

  /** The relation with this OID; throws UnknownRelationError when none was seen. */
  require(relationId: number): RelationInfo {
    const info = this.relations.get(relationId);
    if (info === undefined) throw new UnknownRelationError(relationId);
    return info;
  }

  /** Key (replica identity) column names of a relation; throws UnknownRelationError when unknown. */
  keyColumns(relationId: number): readonly string[] {
    return this.require(relationId).keyColumns;
  }

  /** The Type message seen for a type OID (custom types only), or undefined. */
  getType(typeOid: number): TypeMessage | undefined {
    return this.types.get(typeOid);
  }

  /** Number of cached relations. */
  get size(): number {
    return this.relations.size;
  }

  /** Forgets everything (e.g. when switching to another database or slot). */
  clear(): void {
    this.relations.clear();
    this.types.clear();
  }
}
