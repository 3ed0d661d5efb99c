/**
 * Builds change events from pgoutput messages: names and converts the columns (through the
 * TypeRegistry), stamps identity, positions and times. No I/O.
 *
 * Row changes take the byte path (row-bytes.ts): the event's passthrough JSON is written straight
 * from the message, and the event keeps the message to build its `columns`/`old` objects only if
 * someone asks for them (most sinks only need the JSON). Anything the byte path refuses is decoded
 * and converted the general way (rowChange).
 */
import type { ChangeEvent, ColumnValue, Columns } from '../core/event.ts';
import { LineWriter } from '../core/line-writer.ts';
import { nowMicros, processingTimestamp } from '../core/time.ts';
import { decodePgoutput } from '../pgoutput/decode.ts';
import type { LogicalMessage, RowMessage } from '../pgoutput/messages.ts';
import type { RelationInfo } from '../pgoutput/relations.ts';
import { rowChange } from '../pgoutput/rows.ts';
import type { Lsn } from '../replication/lsn.ts';
import type { Converter } from '../types/converter.ts';
import type { TypeRegistry } from '../types/index.ts';
import { encodeRow, rowPlan, transactionJson, type EncodedRow, type RowPlan } from './row-bytes.ts';

/** The transaction an event belongs to. */
export interface TransactionContext {
  xid: number;
  /** LSN of the commit record (Begin's final LSN): the event's `CommitLSN`. */
  commitLsn: Lsn;
  /** Commit time, RFC 3339 UTC. */
  commitTime: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const MAX_SAFE_LSN = BigInt(Number.MAX_SAFE_INTEGER);

/** Binary values are never requested; should one arrive, it is kept losslessly as bytea hex text. */
export function hexText(bytes: Uint8Array): string {
  let out = '\\x';
  for (const byte of bytes) out += HEX[byte];
  return out;
}

/** Names and converts a row message the general way, with the given converter per tuple position. */
function convertRow(message: RowMessage, relation: RelationInfo, converters: readonly Converter[]) {
  return rowChange<ColumnValue>(message, relation, (_oid, raw, column) => {
    if (typeof raw !== 'string') return hexText(raw);
    return converters[relation.columns.indexOf(column)]!(raw);
  });
}

/**
 * A row change built by the byte path. Its JSON (`encoded`) is complete; `columns` and `old` are
 * built from the kept message on first use, with the converters its JSON was made with.
 */
class EncodedRowEvent implements ChangeEvent {
  private row: { columns: Columns; old: Columns | undefined } | undefined = undefined;

  constructor(
    readonly source: string,
    readonly host: string,
    readonly database: string,
    readonly schema: string,
    readonly table: string,
    readonly action: 'insert' | 'update' | 'delete',
    readonly lsn: bigint,
    readonly commitLsn: bigint | undefined,
    readonly xid: number | undefined,
    readonly commitTime: string | undefined,
    readonly key: readonly string[],
    readonly unchanged: readonly string[] | undefined,
    readonly encoded: Uint8Array,
    readonly keyValuesJson: Uint8Array,
    private readonly timestampStart: number,
    private readonly timestampEnd: number,
    private readonly uuidStart: number,
    /** The XLogData's pgoutput message: a view that stays intact (FrameDecoder never rewrites a chunk). */
    private readonly message: Uint8Array,
    private readonly plan: RowPlan,
    private readonly converters: readonly Converter[],
  ) {}

  get timestamp(): string {
    return latin1.decode(this.encoded.subarray(this.timestampStart, this.timestampEnd));
  }

  get uuid(): string {
    return latin1.decode(this.encoded.subarray(this.uuidStart, this.uuidStart + 36));
  }

  get columns(): Columns {
    return this.materialize().columns;
  }

  get old(): Columns | undefined {
    return this.materialize().old;
  }

  private materialize(): { columns: Columns; old: Columns | undefined } {
    if (this.row === undefined) {
      const message = decodePgoutput(this.message, { protoVersion: 1 }) as RowMessage;
      const { columns, old } = convertRow(message, this.plan.relation, this.converters);
      this.row = { columns: columns as Columns, old: old as Columns | undefined };
    }
    return this.row;
  }
}

export class EventFactory {
  /** Plans per relation; a new Relation message brings a new RelationInfo, so stale entries just fall away. */
  private plans = new WeakMap<RelationInfo, { plan: RowPlan | undefined; converters: readonly Converter[]; key: readonly string[] }>();
  private readonly writer = new LineWriter();
  private readonly encodedRow: EncodedRow = {
    line: new Uint8Array(0), keyValues: new Uint8Array(0), timestampStart: 0, timestampEnd: 0, uuidStart: 0, unchanged: undefined, oldKind: undefined,
  };
  private txnOf: TransactionContext | undefined;
  private txnJson = transactionJson(undefined);

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
    this.plans = new WeakMap();
  }

  private planOf(relation: RelationInfo) {
    const key = this.keyOverrides.get(relation.relationId) ?? relation.keyColumns;
    let entry = this.plans.get(relation);
    if (entry === undefined || entry.key !== key) {
      entry = {
        plan: rowPlan(relation, key, this.types, this.host, this.database),
        converters: relation.columns.map((column) => this.types.converter(column.typeOid)),
        key,
      };
      this.plans.set(relation, entry);
    }
    return entry;
  }

  /**
   * An Insert/Update/Delete from its message bytes (the XLogData's data), or undefined when the
   * byte path cannot take it: then decode it and call `row`.
   */
  rowFromBytes(data: Uint8Array, relation: RelationInfo, lsn: Lsn, txn: TransactionContext | undefined): ChangeEvent | undefined {
    const { plan, converters, key } = this.planOf(relation);
    if (plan === undefined || lsn > MAX_SAFE_LSN) return undefined;
    if (txn !== this.txnOf) {
      this.txnOf = txn;
      this.txnJson = transactionJson(txn);
    }
    const out = this.encodedRow;
    if (!encodeRow(this.writer, data, plan, lsn, this.txnJson, nowMicros(), out)) return undefined;
    const action = data[0] === 0x49 ? 'insert' : data[0] === 0x55 ? 'update' : 'delete';
    return new EncodedRowEvent(
      this.source, this.host, this.database, relation.namespace, relation.name, action, lsn, txn?.commitLsn, txn?.xid, txn?.commitTime, key, out.unchanged,
      out.line, out.keyValues, out.timestampStart, out.timestampEnd, out.uuidStart, data, plan, converters,
    );
  }

  /** Every event of the general path has the same shape (all fields present), which keeps property access monomorphic. */
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

  /** insert / update / delete, decoded: named and converted as rowChange (src/pgoutput/rows.ts) does. */
  row(message: RowMessage, relation: RelationInfo, lsn: Lsn, txn: TransactionContext | undefined): ChangeEvent {
    const { converters, key } = this.planOf(relation);
    const change = convertRow(message, relation, converters);
    const event = this.event(message.tag, change.columns as Columns, relation, lsn, txn);
    event.key = key;
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
