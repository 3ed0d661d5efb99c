/**
 * Builds change events from pgoutput messages: names and converts the columns (through the
 * TypeRegistry), stamps identity (the UUID from the source's namespace and the event's commit LSN
 * and txIndex, or a snapshot row's snapshot and key: event/identity.ts), positions and times. No I/O.
 *
 * Row changes take the byte path (row-bytes.ts): the event's passthrough JSON is written straight
 * from the message, and the event keeps the message to build its `columns`/`old` objects only if
 * someone asks for them (most sinks only need the JSON). Anything the byte path refuses is decoded
 * and converted the general way (rowChange). The byte path's event is encoded-row-event.ts.
 */
import type { ChangeEvent, Columns } from '../../event/event.ts';
import { lsnHalves, type EventIdentity, type SnapshotIdentity } from '../../event/identity.ts';
import { rowKey } from '../../event/key.ts';
import { LineWriter } from '../../core/line-writer.ts';
import { epochMicros, processingTimestamp } from '../../core/time.ts';
import { decodePgoutput } from '../../pgoutput/decode.ts';
import type { LogicalMessage, RowMessage } from '../../pgoutput/messages.ts';
import type { RelationInfo } from '../../pgoutput/relations.ts';
import type { Lsn } from '../../replication/lsn.ts';
import { byteaHex } from '../../pgtypes/text-forms.ts';
import type { TypeRegistry } from '../../pgtypes/index.ts';
import { insertMessage } from './data-row.ts';
import { convertRow, EncodedRowEvent, type RowOrigin } from './encoded-row-event.ts';
import { encodeDataRow, encodeRow, SNAPSHOT_TAIL, type EncodedRow, type RowIdentity } from './row-bytes.ts';
import { rowPlan, transactionJson } from './row-plan.ts';

/** The transaction an event belongs to. */
export interface TransactionContext {
  xid: number;
  /** LSN of the commit record (Begin's final LSN): the event's `CommitLSN`. */
  commitLsn: Lsn;
  /** Commit time, RFC 3339 UTC. */
  commitTime: string;
}

/** The transaction the stream is in (dispatch.ts). */
export interface OpenTransaction extends TransactionContext {
  /** Already delivered before a restart: its events are dropped (PostgreSQL re-sends whole transactions). */
  skip: boolean;
  /** The txIndex of its next change (ChangeEvent.txIndex): change messages so far, emitted or not. */
  changes: number;
  /** Commit time, Unix ms (for the seconds-behind gauges). */
  commitMs: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export class EventFactory {
  /** Plans per relation; a new Relation message brings a new RelationInfo, so stale entries just fall away. */
  private plans = new WeakMap<RelationInfo, RowOrigin>();
  private readonly writer: LineWriter;
  private readonly encodedRow: EncodedRow = {
    line: new Uint8Array(0), keyChunk: new Uint8Array(0), keyStart: 0, keyEnd: 0, timestampStart: 0, timestampEnd: 0, unchanged: undefined,
  };
  private txnOf: TransactionContext | undefined;
  private txnJson = transactionJson(undefined);
  /** What the next byte-path event's UUID is made of (encodeRow); made by setIdentity. */
  private rowIdentity: RowIdentity | undefined;
  private stream: string | undefined;
  /** The last snapshot row's `started`, and it in epoch microseconds. */
  private snapshotStarted = Number.NaN;
  private snapshotMicros = 0;

  constructor(
    private readonly source: string,
    private readonly host: string,
    private readonly database: string,
    private readonly types: TypeRegistry,
    /** Size of the chunks the events' JSON is written into (tests make it tiny, so lines cross chunks). */
    lineChunkBytes?: number,
  ) {
    this.writer = new LineWriter(lineChunkBytes);
  }

  /**
   * The identity of the stream the events come from (event/identity.ts): set by each replication
   * session (system identifier and slot) before its first event. `stream` is ChangeEvent.stream.
   */
  setIdentity(identity: EventIdentity, stream: string): void {
    if (this.stream === stream) return;
    this.stream = stream;
    this.rowIdentity = { identity, lsnLow: 0, lsnHigh: 0, txIndex: 0, snapshot: undefined };
    this.txnOf = undefined;
    this.txnJson = transactionJson(undefined);
    // Plans hold the stream string: made again with the new one.
    this.plans = new WeakMap();
  }

  /** The identities of one snapshot's rows (docs/kafka.md, "Event identity (UUID)"). */
  snapshotIdentity(snapshotId: string, createdAt: string): SnapshotIdentity {
    return this.identity().identity.snapshot(snapshotId, createdAt);
  }

  private identity(): RowIdentity {
    if (this.rowIdentity === undefined) throw new Error('no event identity yet: events are made only once a replication session has identified the server');
    return this.rowIdentity;
  }

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

  private originOf(relation: RelationInfo): RowOrigin {
    const key = this.keyOverrides.get(relation.relationId) ?? relation.keyColumns;
    let entry = this.plans.get(relation);
    if (entry === undefined || entry.key !== key) {
      entry = {
        source: this.source,
        host: this.host,
        database: this.database,
        stream: this.stream,
        plan: rowPlan(relation, key, this.types, this.host, this.database),
        converters: relation.columns.map((column) => this.types.converter(column.typeOid)),
        columnTypes: Object.fromEntries(relation.columns.map((c) => [c.name, this.types.columnType(c.typeOid, c.typeModifier)])),
        key,
      };
      this.plans.set(relation, entry);
    }
    return entry;
  }

  /**
   * An Insert/Update/Delete from its bytes (the pgoutput message at payload[base, end), e.g. inside
   * a CopyData XLogData), or undefined when the byte path cannot take it: then decode it and call `row`.
   * `lsn` is the change's LSN as a number (below 2^53); `txIndex` its ordinal in `txn`; `started` the
   * performance.now() at which its processing began, which stamps the event's Timestamp.
   */
  rowFromBytes(
    payload: Uint8Array, base: number, end: number, relation: RelationInfo, lsn: number, txn: TransactionContext | undefined, txIndex: number,
    started = performance.now(),
  ): ChangeEvent | undefined {
    const origin = this.originOf(relation);
    const plan = origin.plan;
    // A change outside a transaction (never sent by pgoutput) takes the general path.
    if (plan === undefined || !(lsn >= 0 && lsn <= Number.MAX_SAFE_INTEGER) || txn === undefined) return undefined;
    const id = this.rowIdentity ?? this.identity();
    if (txn !== this.txnOf) {
      this.txnOf = txn;
      this.txnJson = transactionJson(txn);
      [id.lsnLow, id.lsnHigh] = lsnHalves(txn.commitLsn);
    }
    id.txIndex = txIndex;
    id.snapshot = undefined;
    const out = this.encodedRow;
    if (!encodeRow(this.writer, payload, base, end, plan, lsn, this.txnJson, epochMicros(started), out, id)) return undefined;
    const tag = payload[base];
    return new EncodedRowEvent(
      origin, relation, tag === 0x49 ? 'insert' : tag === 0x55 ? 'update' : 'delete', lsn, txn, txIndex, out.unchanged,
      out.line, out.keyChunk, out.keyStart, out.keyEnd, out.timestampStart, out.timestampEnd, payload, base, end, undefined,
    );
  }

  /**
   * A snapshot row (docs/snapshots.md) from its DataRow (text format) at data[start, end): the insert
   * the stream would make of the same row, plus `"Snapshot":true`, its UUID from `snapshot` and its
   * key. Written from the DataRow bytes by the stream's byte rules (row-bytes.ts encodeDataRow);
   * what they refuse goes the general way, through the Insert message a walsender would send.
   * `lsn` is the WAL position the row stands for; `started` as for rowFromBytes. Throws on a
   * DataRow that is cut short or has fewer columns than the relation.
   */
  snapshotRow(data: Uint8Array, start: number, end: number, relation: RelationInfo, lsn: number, started: number, snapshot: SnapshotIdentity): ChangeEvent {
    const origin = this.originOf(relation);
    const plan = origin.plan;
    if (plan !== undefined && lsn >= 0 && lsn <= Number.MAX_SAFE_INTEGER) {
      const id = this.rowIdentity ?? this.identity();
      id.snapshot = snapshot;
      const out = this.encodedRow;
      // A chunk's rows share their `started`: converted once.
      if (started !== this.snapshotStarted) {
        this.snapshotStarted = started;
        this.snapshotMicros = epochMicros(started);
      }
      if (encodeDataRow(this.writer, data, start, end, plan, lsn, this.snapshotMicros, out, id, SNAPSHOT_TAIL)) {
        return new EncodedRowEvent(
          origin, relation, 'insert', lsn, undefined, undefined, out.unchanged,
          out.line, out.keyChunk, out.keyStart, out.keyEnd, out.timestampStart, out.timestampEnd, data, start, end, true,
        );
      }
    }
    const message = decodePgoutput(insertMessage(relation.relationId, relation.columns.length, data, start, end), { protoVersion: 1 }) as RowMessage;
    return this.row(message, relation, BigInt(lsn), undefined, 0, snapshot);
  }

  /**
   * Every event of the general path has the same shape (all fields present), which keeps property
   * access monomorphic. A stream event outside a transaction (a non-transactional logical message)
   * has its own LSN as commit LSN; a snapshot row (`txIndex` undefined) none, and its UUID is set
   * by the caller.
   */
  private event(
    action: ChangeEvent['action'],
    columns: Columns,
    relation: RelationInfo | undefined,
    lsn: Lsn,
    txn: TransactionContext | undefined,
    txIndex: number | undefined,
  ): ChangeEvent {
    const identity = this.identity().identity;
    const commitLsn = txIndex === undefined ? undefined : txn?.commitLsn ?? lsn;
    return {
      source: this.source,
      host: this.host,
      database: this.database,
      schema: relation === undefined ? '' : relation.namespace,
      table: relation === undefined ? '' : relation.name,
      action,
      lsn,
      commitLsn,
      xid: txn?.xid,
      commitTime: txn?.commitTime,
      timestamp: processingTimestamp(),
      uuid: commitLsn === undefined ? '' : identity.stream(commitLsn, txIndex!),
      columns,
      old: undefined,
      columnTypes: undefined,
      key: undefined,
      unchanged: undefined,
      snapshot: undefined,
      txIndex,
      stream: this.stream,
    };
  }

  /**
   * insert / update / delete, decoded: named and converted as rowChange (src/pgoutput/rows.ts)
   * does. `txIndex`: its ordinal in `txn`; a snapshot row instead has `snapshot` and no transaction.
   */
  row(message: RowMessage, relation: RelationInfo, lsn: Lsn, txn: TransactionContext | undefined, txIndex: number, snapshot?: SnapshotIdentity): ChangeEvent {
    const { converters, key, plan, columnTypes } = this.originOf(relation);
    const change = convertRow(message, relation, converters);
    const event = this.event(message.tag, change.columns as Columns, relation, lsn, snapshot === undefined ? txn : undefined, snapshot === undefined ? txIndex : undefined);
    event.key = key;
    event.columnTypes = columnTypes;
    if (change.old !== undefined) event.old = change.old as Columns;
    if (change.unchanged.length > 0) event.unchanged = change.unchanged;
    if (snapshot !== undefined) {
      event.snapshot = true;
      // As the byte path: from the row key, or random when the row lacks a key column.
      const complete = plan?.keyComplete ?? (key.length > 0 && key.every((name) => relation.columns.some((c) => c.name === name)));
      event.uuid = complete ? snapshot.uuid(utf8Encoder.encode(rowKey(event))) : crypto.randomUUID();
    }
    return event;
  }

  /** One `truncate` event per truncated table; `txIndex` counts each table (see ChangeEvent.txIndex). */
  truncate(relation: RelationInfo, lsn: Lsn, txn: TransactionContext | undefined, txIndex: number): ChangeEvent {
    return this.event('truncate', {}, relation, lsn, txn, txIndex);
  }

  /** A pg_logical_emit_message: prefix, content (text when valid UTF-8, else bytea hex) and whether it was transactional. */
  message(message: LogicalMessage, lsn: Lsn, txn: TransactionContext | undefined, txIndex: number): ChangeEvent {
    let content: string;
    try {
      content = utf8.decode(message.content);
    } catch {
      content = byteaHex(message.content);
    }
    const inTransaction = message.transactional ? txn : undefined;
    return this.event('message', { prefix: message.prefix, content, transactional: message.transactional }, undefined, lsn, inTransaction, inTransaction === undefined ? 0 : txIndex);
  }
}
