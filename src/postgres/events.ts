/**
 * Builds change events from decoded pgoutput messages: names and converts the columns (through
 * the TypeRegistry), stamps identity, positions and times. No I/O.
 */
import type { ChangeEvent, ColumnValue, Columns } from '../core/event.ts';
import { processingTimestamp } from '../core/time.ts';
import type { LogicalMessage, RelationColumn, RowMessage } from '../pgoutput/messages.ts';
import type { RelationInfo } from '../pgoutput/relations.ts';
import { rowChange } from '../pgoutput/rows.ts';
import type { Lsn } from '../replication/lsn.ts';
import type { Converter, TypeRegistry } from '../types/index.ts';

/** The transaction an event belongs to. */
export interface TransactionContext {
  xid: number;
  /** LSN of the commit record (Begin's final LSN): the event's `CommitLSN`. */
  commitLsn: Lsn;
  /** Commit time, RFC 3339 UTC. */
  commitTime: string;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Binary values are never requested; should one arrive, it is kept losslessly as bytea hex text. */
function hexText(bytes: Uint8Array): string {
  let out = '\\x';
  for (const byte of bytes) out += HEX[byte];
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class EventFactory {
  /** Converter per relation column; a new Relation message brings new column objects, so stale entries just fall away. */
  private converters = new WeakMap<RelationColumn, Converter>();
  private readonly convert = (_typeOid: number, raw: string | Uint8Array, column: RelationColumn): ColumnValue => {
    if (typeof raw !== 'string') return hexText(raw);
    let converter = this.converters.get(column);
    if (converter === undefined) {
      converter = this.types.converter(column.typeOid);
      this.converters.set(column, converter);
    }
    return converter(raw);
  };

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
    this.converters = new WeakMap();
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
      old: undefined,
      key: undefined,
      unchanged: undefined,
    };
  }

  /** insert / update / delete. */
  row(message: RowMessage, relation: RelationInfo, lsn: Lsn, txn: TransactionContext | undefined): ChangeEvent {
    const change = rowChange(message, relation, this.convert);
    const event = this.event(message.tag, change.columns as Columns, relation, lsn, txn);
    event.key = this.keyOverrides.get(relation.relationId) ?? change.key;
    if (change.old !== undefined) event.old = change.old as Columns;
    if (change.unchanged.length > 0) event.unchanged = change.unchanged;
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
