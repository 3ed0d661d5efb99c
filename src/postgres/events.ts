/**
 * Builds change events from decoded pgoutput messages: names and converts the columns (through
 * the TypeRegistry), stamps identity, positions and times. No I/O.
 */
import type { ChangeEvent, Columns } from '../core/event.ts';
import { processingTimestamp } from '../core/time.ts';
import type { LogicalMessage, RowMessage } from '../pgoutput/messages.ts';
import type { RelationInfo } from '../pgoutput/relations.ts';
import type { Lsn } from '../replication/lsn.ts';
import type { TypeRegistry } from '../types/index.ts';
import { hexText, relationCodecs, RowBuilder, type RelationCodecs } from './row-json.ts';

/** The transaction an event belongs to. */
export interface TransactionContext {
  xid: number;
  /** LSN of the commit record (Begin's final LSN): the event's `CommitLSN`. */
  commitLsn: Lsn;
  /** Commit time, RFC 3339 UTC. */
  commitTime: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class EventFactory {
  /** Column codecs per relation; a new Relation message brings a new RelationInfo, so stale entries just fall away. */
  private codecs = new WeakMap<RelationInfo, RelationCodecs>();
  private readonly rows = new RowBuilder();

  constructor(
    private readonly source: string,
    private readonly host: string,
    private readonly database: string,
    private readonly types: TypeRegistry,
  ) {}

  /** Key column names that replace the Relation's flags (the primary key of a REPLICA IDENTITY FULL table). */
  private readonly keyOverrides = new Map<number, readonly string[]>();

  /** Sets (or with undefined, clears) the key columns reported for a relation. */
  setKeyColumns(relationId: number, names: readonly string[] | undefined): void {
    if (names === undefined) this.keyOverrides.delete(relationId);
    else this.keyOverrides.set(relationId, names);
  }

  /** Forgets cached converters (after the registry learnt new types). */
  resetConverters(): void {
    // WeakMap has no clear(); a new one is cheap and only happens after a type lookup.
    this.codecs = new WeakMap();
  }

  /** Every event has the same shape (all fields present), which keeps property access monomorphic. */
  private event(
    action: ChangeEvent['action'],
    columns: Columns,
    relation: RelationInfo | undefined,
    lsn: Lsn,
    txn: TransactionContext | undefined,
  ): ChangeEvent {
    return {
      source: this.source,
      host: this.host,
      database: this.database,
      schema: relation === undefined ? '' : relation.namespace,
      table: relation === undefined ? '' : relation.name,
      action,
      lsn,
      commitLsn: txn?.commitLsn,
      xid: txn?.xid,
      commitTime: txn?.commitTime,
      timestamp: processingTimestamp(),
      uuid: crypto.randomUUID(),
      columns,
      columnsJson: undefined,
      old: undefined,
      key: undefined,
      unchanged: undefined,
    };
  }

  /**
   * insert / update / delete, named and converted as rowChange (src/pgoutput/rows.ts) does, with the
   * columns' JSON built in the same pass.
   */
  row(message: RowMessage, relation: RelationInfo, lsn: Lsn, txn: TransactionContext | undefined): ChangeEvent {
    let codecs = this.codecs.get(relation);
    if (codecs === undefined) {
      codecs = relationCodecs(relation, this.types);
      this.codecs.set(relation, codecs);
    }
    const rows = this.rows;
    const unchanged: string[] = [];
    let columns: Columns;
    let columnsJson: string | undefined;
    let old: Columns | undefined;
    if (message.tag === 'delete') {
      columns = rows.columns(message.oldTuple, relation, codecs, undefined);
      columnsJson = rows.json;
      old = message.oldKind === 'key' ? keyOnly(columns, relation) : columns;
    } else {
      columns = rows.columns(message.newTuple, relation, codecs, unchanged);
      columnsJson = rows.json;
      if (message.tag === 'update' && message.oldTuple !== undefined) {
        const oldColumns = rows.columns(message.oldTuple, relation, codecs, undefined);
        old = message.oldKind === 'key' ? keyOnly(oldColumns, relation) : oldColumns;
      }
    }
    const event = this.event(message.tag, columns, relation, lsn, txn);
    event.columnsJson = columnsJson;
    event.key = this.keyOverrides.get(relation.relationId) ?? relation.keyColumns;
    if (old !== undefined) event.old = old;
    if (unchanged.length > 0) event.unchanged = unchanged;
    return event;
  }

  /** One `truncate` event per truncated table. */
  truncate(relation: RelationInfo, lsn: Lsn, txn: TransactionContext | undefined): ChangeEvent {
    return this.event('truncate', {}, relation, lsn, txn);
  }

  /** A pg_logical_emit_message: prefix, content (text when valid UTF-8, else bytea hex) and whether it was transactional. */
  message(message: LogicalMessage, lsn: Lsn, txn: TransactionContext | undefined): ChangeEvent {
    let content: string;
    try {
      content = utf8.decode(message.content);
    } catch {
      content = hexText(message.content);
    }
    return this.event('message', { prefix: message.prefix, content, transactional: message.transactional }, undefined, lsn, message.transactional ? txn : undefined);
  }
}

/** A key tuple has a value for each key column and NULL for the rest: keep the key columns only. */
function keyOnly(columns: Columns, relation: RelationInfo): Columns {
  const out: Columns = Object.create(null);
  for (const name of relation.keyColumns) {
    if (name in columns) out[name] = columns[name]!;
  }
  return out;
}
