/**
 * From replication stream payloads to pipeline items, for one session at a time: the hot path (an
 * XLogData Insert/Update/Delete straight from its bytes to an event: handleRowChange), the general
 * path (every other message, decoded), transactions and the positions pushed after them, catalog
 * lookups (catalog-learner.ts) and back-pressure (output-valve.ts). The hot path allocates nothing
 * but the event and its pipeline item.
 */
import { readUint32BE } from '../../core/bytes.ts';
import type { Logger } from '../../core/logger.ts';
import type { ChangeEvent } from '../../event/event.ts';
import { EventIdentity } from '../../event/identity.ts';
import { decodePgoutput } from '../../pgoutput/decode.ts';
import { PgoutputDecodeError } from '../../pgoutput/errors.ts';
import type { PgoutputMessage } from '../../pgoutput/messages.ts';
import { RelationCache, type RelationInfo } from '../../pgoutput/relations.ts';
import { TypeRegistry } from '../../pgtypes/index.ts';
import {
  decodeCopyBothMessage, KEEPALIVE, pgMicrosToIso, pgTimeToIso, XLOGDATA, XLOGDATA_DATA_OFFSET, xlogDataStartNumber, type XLogData,
} from '../../replication/copy-both.ts';
import { formatLsn, type Lsn } from '../../replication/lsn.ts';
import type { PipelineItem } from '../source.ts';
import { CatalogLearner } from './catalog-learner.ts';
import type { DispatchOptions, StreamReader } from './dispatch-options.ts';
import { BEGIN, COMMIT, KEEPALIVE_LENGTH, KeepaliveReader, readBegin, readCommit, replyRequested, type BeginFields, type CommitFields } from './boundary-bytes.ts';
import { SourceEventMetrics } from './event-metrics.ts';
import { EventFactory, type OpenTransaction } from './events.ts';
import { OutputValve } from './output-valve.ts';
import type { PositionTracker } from './position-tracker.ts';
import { PG_EPOCH_MS, pgTimeToUnixMs } from './wal-watch.ts';
import type { ChunkMark, PgPosition } from './snapshot/mark.ts';
import { StreamJoin } from './snapshot/stream-join.ts';
import type { ChunkWindow } from './snapshot/window.ts';

export class ChangeDispatch {
  /** Increments per session, so callbacks of a dead session do nothing. */
  generation = 0;
  /** Set by stop(): nothing more is pushed. */
  private stopped = false;
  private reader: StreamReader | undefined;
  private protoVersion = 1;
  private txn: OpenTransaction | undefined;
  /** Why this session must end (see fail). */
  private failed: Error | undefined;
  private readonly relations = new RelationCache();
  private readonly types: TypeRegistry;
  private readonly events: EventFactory;
  private readonly catalog: CatalogLearner;
  /** Items go to the pipeline through it (its `output` is set by the source's start). */
  readonly valve: OutputValve;
  private readonly eventMetrics: SourceEventMetrics;
  private readonly tracker: PositionTracker;
  private readonly log: Logger;
  private readonly warnedKinds = new Set<string>();
  private received: Lsn = 0n;
  /** The highest WAL start the byte paths read (a number: no allocation per message); see receivedLsn. */
  private receivedRow = 0;
  /** The byte paths' readers of Begin, Commit and keepalives (boundary-bytes.ts), reused. */
  private readonly keepalives = new KeepaliveReader();
  private readonly beginRead: BeginFields = { walStart: 0, finalLsn: 0n, commitMicros: 0, xid: 0 };
  private readonly commitRead: CommitFields = { walStart: 0, endLsn: 0n };
  eventCount = 0;
  eventErrors = 0;
  /** Snapshot chunk marks pushed but not yet acknowledged (source.ts: settled by ack, abandoned at close). */
  readonly marksInFlight = new Set<ChunkMark>();
  /** The snapshot chunk in flight meets the stream here (snapshot/stream-join.ts). */
  private readonly join = new StreamJoin((events, mark) => this.emitChunk(events, mark));

  constructor(private readonly options: DispatchOptions) {
    this.log = options.log;
    this.tracker = options.tracker;
    this.types = new TypeRegistry({
      onProblem: (oid, text, why) => {
        this.eventErrors++;
        this.log.debug(`value of type ${oid} kept as text (${why}): ${text.slice(0, 80)}`);
      },
    });
    this.events = new EventFactory(options.name, options.eventHost, options.eventDatabase, this.types);
    this.eventMetrics = new SourceEventMetrics(options.metrics.catalogue, options.name, options.sourceType);
    this.catalog = new CatalogLearner(options.connection, this.types, this.events, this.log, {
      pause: () => this.reader?.pause(),
      resume: () => this.resumeIfFree(),
      handle: (frame) => this.handleCopyData(frame, 0, frame.length),
      fail: (err) => this.fail(err),
      lookupFailed: () => {
        this.eventErrors++;
        this.options.metrics.error();
      },
      stopped: () => this.stopped,
    });
    this.valve = new OutputValve({ pause: () => this.reader?.pause(), drained: () => this.resumeIfFree() });
  }

  /**
   * A session starts streaming from `start` (the tracker's skipBefore); returns its generation.
   * `server` names the stream its events come from (their UUIDs' namespace, event/identity.ts).
   */
  begin(reader: StreamReader, protoVersion: number, start: Lsn, server: { systemId: string; slot: string }): number {
    this.generation++;
    this.events.setIdentity(EventIdentity.of(server.systemId, server.slot), `${server.systemId}/${server.slot}`);
    this.reader = reader;
    this.protoVersion = protoVersion;
    this.tracker.skipBefore = start;
    this.txn = undefined;
    this.catalog.gate.reset();
    this.valve.reset();
    this.failed = undefined;
    return this.generation;
  }

  /** The session ended: nothing of it is used any more. */
  end(): void {
    this.generation++;
    this.join.end();
    this.catalog.gate.reset();
    this.valve.reset();
    this.reader = undefined;
  }

  /** After this nothing more is pushed (Source contract). */
  stop(): void {
    this.stopped = true;
    this.reader?.pause();
  }

  /** Why the running session must end, if the dispatch decided so. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Highest WAL position received, from either path. */
  get receivedLsn(): Lsn {
    const row = BigInt(this.receivedRow);
    return row > this.received ? row : this.received;
  }

  /** One CopyData payload, bytes[start, end), of the running session. */
  onCopyData(bytes: Uint8Array, start: number, end: number): void {
    // After fail() nothing more of this session is used (the rest of a read may follow).
    if (this.stopped || this.failed) return;
    // The payload is in the socket buffer: copied only when it must wait.
    const gate = this.catalog.gate;
    if (gate.held) {
      gate.hold(bytes, start, end);
      return;
    }
    try {
      this.handleCopyData(bytes, start, end);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * A message we cannot make sense of (malformed, or a change for a relation never described):
   * end the session and reconnect from the last pushed commit, rather than skip data.
   */
  fail(err: unknown): void {
    this.failed ??= err instanceof Error ? err : new Error(String(err));
    this.eventErrors++;
    this.options.metrics.error();
    this.options.closeSession();
  }

  private handleCopyData(bytes: Uint8Array, start: number, end: number): void {
    const type = bytes[start];
    if (type === XLOGDATA && end - start >= XLOGDATA_DATA_OFFSET + 5) {
      const tag = bytes[start + XLOGDATA_DATA_OFFSET];
      if (tag === BEGIN ? this.handleBegin(bytes, start, end) : tag === COMMIT ? this.handleCommit(bytes, start, end) : this.handleRowChange(bytes, start, end)) return;
    } else if (type === KEEPALIVE && end - start >= KEEPALIVE_LENGTH) {
      this.onKeepalive(this.keepalives.walEnd(bytes, start), replyRequested(bytes, start));
      return;
    }
    const message = decodeCopyBothMessage(bytes.subarray(start, end));
    if (message.tag === 'keepalive') {
      this.onKeepalive(message.walEnd, message.replyRequested);
      return;
    }
    if (message.walStart > this.received) this.received = message.walStart;
    this.handleXLogData(message);
  }

  private onKeepalive(walEnd: Lsn, reply: boolean): void {
    if (walEnd > this.received) this.received = walEnd;
    // Between transactions everything up to walEnd was sent, so once what was pushed before is
    // delivered, walEnd may be confirmed: an idle or filtered database does not retain WAL.
    if (this.txn === undefined) {
      this.options.wal.commits.caughtUp();
      if (walEnd > this.tracker.lastPushed) this.pushPosition(walEnd);
      this.join.idle(walEnd);
    }
    if (reply) this.options.sendStatus();
  }

  /** An XLogData holding a Begin, read in place: the transaction the general path's 'begin' makes (false: it takes it). */
  private handleBegin(bytes: Uint8Array, start: number, end: number): boolean {
    const b = this.beginRead;
    if (!readBegin(bytes, start, end, b)) return false;
    if (b.walStart > this.receivedRow) this.receivedRow = b.walStart;
    this.beginTransaction(b.xid, b.finalLsn, pgMicrosToIso(b.commitMicros), b.commitMicros / 1000 + PG_EPOCH_MS);
    return true;
  }

  /** An XLogData holding a Commit, read in place (see handleBegin). */
  private handleCommit(bytes: Uint8Array, start: number, end: number): boolean {
    const c = this.commitRead;
    if (!readCommit(bytes, start, end, c)) return false;
    if (c.walStart > this.receivedRow) this.receivedRow = c.walStart;
    this.commitTransaction(c.endLsn);
    return true;
  }

  private beginTransaction(xid: number, finalLsn: Lsn, commitTime: string, commitMs: number): void {
    this.txn = { xid, commitLsn: finalLsn, commitTime, skip: finalLsn < this.tracker.skipBefore, commitMs, changes: 0 };
    this.options.wal.commits.begin(finalLsn, commitMs, !this.txn.skip);
    // A chunk due before this transaction goes out first (only once pushed can this one follow).
    this.join.begin(xid, finalLsn);
  }

  private commitTransaction(endLsn: Lsn): void {
    const txn = this.txn;
    if (txn && !txn.skip) this.pushPosition(endLsn);
    this.txn = undefined;
    if (txn) this.join.committed(txn.xid, endLsn);
  }

  /**
   * The hot path: an XLogData holding an Insert, Update or Delete, straight from its bytes to the
   * event (events.ts rowFromBytes). False when it is something else or the byte path refuses it:
   * then the general path decodes it, and reports what is wrong with it.
   */
  private handleRowChange(payload: Uint8Array, start: number, end: number): boolean {
    const base = start + XLOGDATA_DATA_OFFSET;
    const tag = payload[base];
    if (tag !== 0x49 && tag !== 0x55 && tag !== 0x44) return false;
    const walStart = xlogDataStartNumber(payload, start);
    if (walStart < 0) return false;
    const txn = this.txn;
    if (txn === undefined) return false;
    if (txn.skip) {
      if (walStart > this.receivedRow) this.receivedRow = walStart;
      return true;
    }
    const started = performance.now();
    const relation = this.relations.get(readUint32BE(payload, base + 1));
    if (relation === undefined) return false;
    const event = this.events.rowFromBytes(payload, base, end, relation, walStart, txn, txn.changes, started);
    if (event === undefined) return false;
    txn.changes++;
    if (walStart > this.receivedRow) this.receivedRow = walStart;
    if (this.join.busy) this.join.row(event);
    this.pushEvent(event, relation.name, started);
    return true;
  }

  private handleXLogData(x: XLogData): void {
    let message: PgoutputMessage;
    try {
      message = decodePgoutput(x.data, { protoVersion: this.protoVersion });
    } catch (err) {
      if (err instanceof PgoutputDecodeError && err.unknownType) {
        this.skipped(`unknown-${err.messageType}`, `pgoutput message type '${err.messageType}' is not known; skipped`);
        return;
      }
      throw err;
    }
    switch (message.tag) {
      case 'begin':
        this.beginTransaction(message.xid, message.finalLsn, pgTimeToIso(message.commitTime), pgTimeToUnixMs(message.commitTime));
        return;
      case 'commit':
        this.commitTransaction(message.endLsn);
        return;
      case 'relation':
        this.relations.apply(message);
        this.catalog.learnFrom(message.columns.map((c) => c.typeOid), message.replicaIdentity === 'f' ? message.relationId : undefined);
        return;
      case 'type':
        this.relations.apply(message);
        this.catalog.learnFrom([message.typeOid]);
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        if (this.txn?.skip) return;
        const started = performance.now();
        const relation = this.relations.require(message.relationId);
        const event = this.events.row(message, relation, x.walStart, this.txn, this.nextTxIndex());
        if (this.join.busy) this.join.row(event);
        this.pushEvent(event, relation.name, started);
        return;
      }
      case 'truncate': {
        if (this.txn?.skip) return;
        for (const id of message.relationIds) {
          const started = performance.now();
          const relation = this.relations.require(id);
          if (this.join.busy) this.join.truncated(relation.namespace, relation.name);
          this.pushEvent(this.events.truncate(relation, x.walStart, this.txn, this.nextTxIndex()), relation.name, started);
        }
        return;
      }
      case 'message': {
        // A transactional message is a change of its transaction, emitted or not; one outside a transaction is txIndex 0.
        const txIndex = message.transactional ? this.nextTxIndex() : 0;
        if (this.options.wal.isHeartbeat(message.prefix, message.transactional)) {
          // Not an event: only its position is confirmed, so the slot of a quiet database advances.
          this.options.metrics.skipped('heartbeat');
          if (this.txn === undefined && x.walStart > this.tracker.lastPushed) this.pushPosition(x.walStart);
          return;
        }
        if (message.transactional && this.txn?.skip) return;
        this.pushEvent(this.events.message(message, x.walStart, message.transactional ? this.txn : undefined, txIndex), '', performance.now());
        return;
      }
      case 'origin':
        this.options.metrics.skipped('origin');
        return;
      default:
        // Streaming and two-phase messages: we never ask for them (no 'streaming'/'two_phase' option).
        this.skipped(message.tag, `pgoutput ${message.tag} message received although not requested; skipped`);
    }
  }

  /** The txIndex of the change being read (then counted), 0 outside a transaction. */
  private nextTxIndex(): number {
    const txn = this.txn;
    return txn === undefined ? 0 : txn.changes++;
  }

  private skipped(kind: string, warning: string): void {
    this.options.metrics.skipped(kind);
    if (!this.warnedKinds.has(kind)) {
      this.warnedKinds.add(kind);
      this.log.warn(warning);
    }
  }

  private pushEvent(event: ChangeEvent, table: string, started: number): void {
    this.eventCount++;
    if (this.log.verboseEnabled) this.log.verboseEvent(event.uuid, `Event (${event.action} ${event.schema}.${event.table} at ${formatLsn(event.lsn)})`);
    this.push({ event });
    this.eventMetrics.record(table, started);
  }

  private pushPosition(position: Lsn): void {
    this.tracker.pushed(position);
    this.push({ position });
  }

  /**
   * Opens the window of a snapshot chunk on `schema.table` (snapshot/window.ts): from now on the
   * stream's changes of that table are noted, and the chunk's rows go out once the stream reaches
   * its target. A window of a dead session is closed by end().
   */
  openWindow(schema: string, table: string): { window: ChunkWindow; mark: ChunkMark } {
    const running = this.txn !== undefined && !this.txn.skip ? this.txn.xid : undefined;
    return this.join.open(schema, table, running);
  }

  /** See StreamJoin.watch (snapshot/stream-join.ts). */
  watchMoves(schema: string, table: string, moved: (event: ChangeEvent) => void): () => void {
    return this.join.watch(schema, table, moved);
  }

  /** The Relation the stream last sent for an OID, if any. */
  relation(relationId: number): RelationInfo | undefined {
    return this.relations.get(relationId);
  }

  /** The types code and event factory of the stream, for snapshot rows converted exactly as changes are. */
  get eventFactory(): EventFactory {
    return this.events;
  }

  /** Makes sure the types of these OIDs are known (user-defined ones are looked up) before rows of them are converted. */
  learnTypes(typeOids: readonly number[]): Promise<void> {
    return this.catalog.learnTypes(typeOids);
  }

  private emitChunk(events: ChangeEvent[], mark: ChunkMark): void {
    if (this.stopped) return;
    for (const event of events) this.push({ event });
    this.marksInFlight.add(mark);
    this.push({ position: mark });
  }

  private push(item: PipelineItem<PgPosition>): void {
    this.valve.push(item);
  }

  private resumeIfFree(): void {
    if (!this.valve.waiting && this.catalog.gate.held === undefined && !this.stopped) this.reader?.resume();
  }
}
