/**
 * `type = "postgres"`: logical replication → events → the pipeline, with the delivery contract of
 * docs/delivery.md. Positions are commit end LSNs: a transaction's position is pushed after its last
 * event, so it is acknowledged only when every event of it was delivered; then it is persisted
 * (SQLite), and only then confirmed to PostgreSQL (minus walRetain). Connection problems are
 * retried forever with capped exponential backoff; /status says why until streaming again.
 */
import { readUint32BE } from '../../core/bytes.ts';
import type { Component } from '../../core/component.ts';
import { StreamerError, describeError } from '../../core/errors.ts';
import type { ChangeEvent } from '../../event/event.ts';
import type { Logger } from '../../core/logger.ts';
import {
  pgoutputSkipped,
  replicationReconnects,
  sourceErrors,
  sourceGapsAccepted,
  sourceRefused,
  walConfirmedLsn,
  walLagBytes,
  walPersistedLsn,
  walReceivedLsn,
} from '../../metrics/catalogue.ts';
import type { ConnectOptions } from '../../pg/connection.ts';
import { PgError } from '../../pg/errors.ts';
import { decodePgoutput } from '../../pgoutput/decode.ts';
import { PgoutputDecodeError } from '../../pgoutput/errors.ts';
import type { PgoutputMessage } from '../../pgoutput/messages.ts';
import { RelationCache } from '../../pgoutput/relations.ts';
import { retryDelay } from '../../core/backoff.ts';
import { publicationNames } from '../../replication/commands.ts';
import { decodeCopyBothMessage, pgTimeToIso, XLOGDATA_DATA_OFFSET, xlogDataStartNumber, type XLogData } from '../../replication/copy-both.ts';
import { formatLsn, type Lsn } from '../../replication/lsn.ts';
import { ReplicationSession, SessionSetupError } from '../../replication/session.ts';
import type { PipelineItem, Source, SourceOutput } from '../source.ts';
import type { StateStore } from '../../state/store.ts';
import { TypeRegistry } from '../../pgtypes/index.ts';
import { readCatalog } from './catalog.ts';
import { SourceEventMetrics } from './event-metrics.ts';
import { EventFactory, type TransactionContext } from './events.ts';
import { createSlotWithFailover, reportSlotFailover } from './slot-failover.ts';
import { acceptCommand, checkStart, SourceRefusal, type Notice } from './start-check.ts';
import { pgTimeToUnixMs, WalWatch, type WalWatchSettings } from './wal-watch.ts';
import { realTimers, sleep, type Sleep } from '../../core/timers.ts';

const TYPE = 'Source-PSQL';
/** CopyData type of XLogData ('w'). */
const XLOGDATA = 0x77;
/**
 * Delivered positions are persisted at once when the last write is this old, otherwise when it
 * gets this old: at most 10 state-file commits (fsyncs) a second however small the batches, at the
 * price of replaying at most this much after a crash. Confirmation follows persistence, as ever.
 */
const PERSIST_INTERVAL_MS = 100;
/** Reconnect waits grow from startRetryInterval up to this (or startRetryInterval when larger). */
const MAX_RECONNECT_WAIT_MS = 60_000;

/**
 * Session settings that fix the text form of values, so type conversion sees one format whatever
 * the server's defaults are (the original inherited them and broke on non-ISO DateStyle).
 */
export const SESSION_PARAMS: Readonly<Record<string, string>> = {
  DateStyle: 'ISO, MDY',
  TimeZone: 'UTC',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  bytea_output: 'hex',
  client_encoding: 'UTF8',
};

export interface PostgresSourceSettings {
  connection: ConnectOptions;
  /** The event's Host and Database (the original's rules: DSN host text or "unknown"; dbname or ""). */
  eventHost: string;
  eventDatabase: string;
  publication: string;
  slot: string;
  /** PostgreSQL 17+: create the slot with FAILOVER (default true; slot-failover.ts). */
  failoverSlot?: boolean;
  startRetryIntervalMs: number;
  statusIntervalMs: number;
  /** Wait after each read of the replication stream before the next (0: read at once). */
  readCoalesceMs: number;
  walRetain: number;
  /** Start here instead of the persisted position (0 = off). */
  walPositionOverride: Lsn;
  /** `--accept-gap`: at its first start, a missing slot is created again / a slot ahead is followed instead of refused. */
  acceptGap?: boolean;
  /** The config file, named in the commands refusals suggest. */
  configFile?: string;
  /** Called once when the source refuses to go on (StreamerError REFUSED): the app stops and exits with 3. */
  halt?: (err: StreamerError) => void;
  /** Slot monitor, WAL budget and heartbeats (wal-watch.ts). */
  wal: WalWatchSettings;
}

interface Transaction extends TransactionContext {
  /** Already delivered before a restart: its events are dropped (PostgreSQL re-sends whole transactions). */
  skip: boolean;
  /** Commit time, Unix ms (for the seconds-behind gauges). */
  commitMs: number;
}

export class PostgresSource implements Source<Lsn>, Component {
  readonly type = TYPE;
  private readonly relations = new RelationCache();
  private readonly types: TypeRegistry;
  private readonly events: EventFactory;
  private readonly publications: string[];
  private output: SourceOutput<Lsn> | undefined;
  private session: ReplicationSession | undefined;
  /** Increments per session, so callbacks of a dead session do nothing. */
  private generation = 0;
  private protoVersion = 1;
  private running: Promise<void> | undefined;
  private stopping = false;
  private backoff: Sleep | undefined;
  private statusTimer: ReturnType<typeof setInterval> | undefined;

  private txn: Transaction | undefined;
  /** Transactions whose commit LSN is below this were delivered before (restart point of this session). */
  private skipBefore: Lsn = 0n;
  /** Highest position pushed to the pipeline: where a new session resumes without duplicates. */
  private lastPushed: Lsn = 0n;
  /** Frames held back while an async lookup (user-defined types) runs; undefined when not holding. */
  private held: Uint8Array[] | undefined;
  private waitingForRoom = false;
  /** Why this source ended the current session itself (see failSession). */
  private sessionError: Error | undefined;
  /** Set when the source refused to go on (start-check.ts); it never streams again in this process. */
  private refusal: StreamerError | undefined;
  /** The resume position is walPositionOverride's until anything was pushed. */
  private fromOverride = false;
  /** `--accept-gap` still applies: only to the first start that gets as far as the start check. */
  private acceptGap: boolean;
  /** This session started with `--accept-gap`: a publication missing in the stream (PostgreSQL 18) is accepted, with one WARN. */
  private publicationGapAccepted = false;
  private publicationGapWarned = false;

  private received: Lsn = 0n;
  /** The highest WAL start the hot path read (a number: no allocation per event); see receivedLsn. */
  private receivedRow = 0;
  private persisted: Lsn = 0n;
  /** The state store's value as this source last read or wrote it; anything else was written by another instance. */
  private storedSeen: Lsn = 0n;
  /** Waiting for a slot another consumer holds (warm standby): logged once, retried at startRetryInterval. */
  private standingBy = false;
  /** Acknowledged by every sink; persisted by persistDelivered (see PERSIST_INTERVAL_MS). */
  private delivered: Lsn = 0n;
  private lastPersistAt = Number.NEGATIVE_INFINITY;
  private persistTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last write to the state store failed: the next acknowledgement writes at once (and throws). */
  private persistFailed = false;
  /** The write in progress (settles, never rejects), if any. */
  private persisting: Promise<void> | undefined;
  private streaming = false;
  private problem: string | null = 'not started';
  private eventCount = 0;
  private eventErrors = 0;
  private replicaErrors = 0;
  private persistErrors = 0;
  private readonly warnedKinds = new Set<string>();
  private readonly eventMetrics: SourceEventMetrics;
  /** Lag as the server sees it, WAL budget, heartbeats (wal-watch.ts). */
  private readonly wal: WalWatch;

  constructor(
    readonly name: string,
    private readonly settings: PostgresSourceSettings,
    private readonly store: StateStore,
    private readonly log: Logger,
  ) {
    this.types = new TypeRegistry({
      onProblem: (oid, text, why) => {
        this.eventErrors++;
        this.log.debug(`value of type ${oid} kept as text (${why}): ${text.slice(0, 80)}`);
      },
    });
    this.events = new EventFactory(name, settings.eventHost, settings.eventDatabase, this.types);
    this.eventMetrics = new SourceEventMetrics(name, TYPE);
    this.publications = publicationNames(settings.publication);
    this.acceptGap = settings.acceptGap ?? false;
    this.wal = new WalWatch(name, settings.wal, {
      slot: settings.slot,
      connection: settings.connection,
      log,
      onSample: () => this.updateGauges(),
      onBudgetStop: (message) => this.stopForBudget(message),
    });
  }

  /** walBudgetAction = "stop" past walBudgetMax: stop reading for good and refuse (the app exits with 3). */
  private stopForBudget(message: string): void {
    void this.stop();
    this.refuse(new SourceRefusal('wal_budget', message, { component: `${TYPE} (${this.name})` }));
  }

  async start(output: SourceOutput<Lsn>): Promise<void> {
    this.output = output;
    let stored: Lsn;
    try {
      stored = this.store.getPosition(this.name) ?? 0n;
    } catch (err) {
      // A state file we cannot read a position from: refuse rather than start over from the slot.
      sourceRefused.set({ sourceName: this.name, reason: 'bad_state' }, 1);
      throw new SourceRefusal('bad_state', describeError(err), { cause: err, component: `${TYPE} (${this.name})` });
    }
    const override = this.settings.walPositionOverride;
    this.fromOverride = override > 0n;
    if (override > 0n) this.log.warn(`walPositionOverride is set: starting at ${formatLsn(override)} instead of the saved position ${formatLsn(stored)}`);
    this.persisted = override > 0n ? override : stored;
    this.storedSeen = stored;
    this.delivered = this.persisted;
    this.lastPushed = this.persisted;
    this.statusTimer = setInterval(() => this.sendStatus(false), this.settings.statusIntervalMs);
    this.running = this.run();
    this.wal.start();
  }

  /** Reconnect loop: one session at a time until stopped. */
  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const pushedBefore = this.lastPushed;
      try {
        await this.runSession();
        failures = 0;
      } catch (err) {
        if (err instanceof SourceRefusal) {
          this.refuse(err);
          break;
        }
        if (this.stopping) break;
        // A session that got somewhere starts a new series of failures (backoff from the start); one
        // that fails at once again and again (a stream error on the first change) keeps backing off.
        if (this.streaming && this.lastPushed > pushedBefore) failures = 0;
        // Unhealthy during the wait, not only while reconnecting.
        this.endSession();
        if (err instanceof SessionSetupError && err.slotInUse) {
          // A warm standby polls at a steady pace and says so once (docs/operations.md, "Warm standby").
          this.problem = `standing by: ${describeError(err)}`;
          if (!this.standingBy) this.log.info(`Standing by: ${describeError(err)}; checking every ${this.settings.startRetryIntervalMs}ms`);
          this.standingBy = true;
          failures = 0;
          await this.pause(this.settings.startRetryIntervalMs);
          continue;
        }
        this.standingBy = false;
        failures++;
        this.replicaErrors++;
        replicationReconnects.inc({ sourceName: this.name });
        const wait = retryDelay(failures, this.settings.startRetryIntervalMs, Math.max(MAX_RECONNECT_WAIT_MS, this.settings.startRetryIntervalMs));
        this.problem = `replication error: ${describeError(err)}`;
        this.log.error(`Replication error (walPositionPersisted: ${this.persisted}): ${describeError(err)}; retrying in ${wait}ms`);
        await this.pause(wait);
      } finally {
        this.endSession();
      }
    }
  }

  private async runSession(): Promise<void> {
    const session = await ReplicationSession.open({
      connection: this.settings.connection,
      slot: this.settings.slot,
      publications: this.publications,
      log: this.log,
      readCoalesceMs: this.settings.readCoalesceMs,
    });
    let start: Lsn;
    try {
      // Before the start check: it compares the slot with where this source would resume.
      this.adoptStoredPosition();
      start = await this.prepareStart(session);
    } catch (err) {
      await session.close().catch(() => {});
      throw err;
    }
    const generation = ++this.generation;
    this.session = session;
    if (this.stopping) return;
    this.standingBy = false;
    this.protoVersion = session.info.protoVersion;
    this.skipBefore = start;
    this.txn = undefined;
    this.held = undefined;
    this.sessionError = undefined;
    const ended = new Promise<Error | undefined>((resolve) => {
      void session.start(start, {
        onCopyData: (bytes, start, end) => {
          if (generation === this.generation) this.onCopyData(bytes, start, end);
        },
        onEnd: resolve,
        onNotice: (notice) => {
          const err = new PgError(notice);
          if (generation !== this.generation || !isPublicationMissing(err)) return;
          if (!this.publicationGapAccepted) {
            this.failSession(err);
          } else if (!this.publicationGapWarned) {
            // PostgreSQL 18 goes on without the changes made while the publication was missing; accepted by --accept-gap.
            this.publicationGapWarned = true;
            sourceGapsAccepted.inc({ sourceName: this.name });
            this.log.warn(`${describeError(err)}: --accept-gap given: going on without the changes made while publication ${this.publications.join(',')} did not exist`);
          }
        },
      }).then(
        () => {
          this.streaming = true;
          this.problem = null;
          this.log.info(`Streaming from ${formatLsn(start)} (slot "${this.settings.slot}", publication ${session.info.publications.join(',')}, pgoutput v${this.protoVersion}, server ${session.info.serverVersionNum})`);
        },
        resolve,
      );
    });
    const endedWith = await ended;
    const err = this.sessionError ?? endedWith;
    if (this.stopping) return;
    if (isPublicationMissing(err)) throw this.publicationDropped(err);
    throw err ?? new StreamerError('SOURCE', 'the server ended the replication stream', { component: `${TYPE} (${this.name})` });
  }

  /**
   * Another instance sharing the state file (the active one of a warm standby pair) may have
   * delivered and persisted past everything this one pushed: resume after it, not from the slot's
   * older confirmed position, so nothing it delivered comes again and the stored position never
   * goes back. A value this source wrote itself, or an older one (walPositionOverride), is kept.
   */
  private adoptStoredPosition(): void {
    const stored = this.store.getPosition(this.name) ?? 0n;
    if (stored === this.storedSeen || stored <= this.lastPushed) return;
    this.log.info(`The state file holds ${formatLsn(stored)}, written by another instance after this one's ${formatLsn(this.lastPushed)}: resuming from it`);
    this.storedSeen = stored;
    this.fromOverride = false;
    this.persisted = stored;
    this.delivered = stored;
    this.lastPushed = stored;
  }

  private endSession(): void {
    this.streaming = false;
    this.generation++;
    this.held = undefined;
    this.waitingForRoom = false;
    const session = this.session;
    this.session = undefined;
    if (session && !session.closed) void session.close().catch(() => {});
  }

  /**
   * The start check (start-check.ts) against what the session found: refuse (throws REFUSED), or
   * create the slot when it is due, record the cluster beside the position, and return where to
   * start streaming.
   */
  private async prepareStart(session: ReplicationSession): Promise<Lsn> {
    const { system, slot } = session.info;
    const decision = checkStart({
      source: this.name,
      slot: this.settings.slot,
      resumeFrom: this.lastPushed,
      fromOverride: this.fromOverride,
      savedIdentity: this.store.getServerIdentity(this.name),
      server: system,
      slotInfo: slot,
      acceptGap: this.acceptGap,
      configFile: this.settings.configFile,
    });
    for (const notice of decision.notices) this.notice(notice);
    if (decision.kind === 'refuse') {
      throw new SourceRefusal(decision.reason, decision.message, { component: `${TYPE} (${this.name})` });
    }
    if (decision.gapAccepted) sourceGapsAccepted.inc({ sourceName: this.name });
    // PostgreSQL 18 reports a missing publication while streaming, and --accept-gap may accept that too.
    this.publicationGapAccepted = this.acceptGap;
    this.publicationGapWarned = false;
    this.acceptGap = false;
    let slotStart = slot?.confirmedFlush ?? 0n;
    if (decision.createSlot) {
      this.problem = `creating replication slot "${this.settings.slot}": PostgreSQL waits until the transactions running now have finished ` +
        '(look for long-running or idle-in-transaction sessions in pg_stat_activity)';
      this.log.info(`Creating replication slot "${this.settings.slot}" (waits for transactions in progress to finish)`);
      const created = await createSlotWithFailover(session, this.settings.failoverSlot ?? true);
      reportSlotFailover(this.name, this.settings.slot, created, this.log);
      slotStart = created.consistentPoint;
    } else if (slot !== undefined) {
      reportSlotFailover(this.name, this.settings.slot, slot, this.log);
    }
    const saved = this.store.getServerIdentity(this.name);
    if (saved?.systemId !== system.systemId || saved.timeline !== system.timeline) {
      this.store.setServerIdentity(this.name, { systemId: system.systemId, timeline: system.timeline });
    }
    await this.recordAcceptedStart(this.fromOverride && decision.start > slotStart ? decision.start : slotStart);
    return decision.start;
  }

  /**
   * PostgreSQL streams nothing before `position` (the slot's start, or a walPositionOverride ahead
   * of it). When the state file holds an older position (a gap the operator accepted, an override
   * ahead of it), this one is recorded now, before anything is confirmed: otherwise a crash or a
   * reconnect before the first acknowledgement finds the slot ahead of the file and refuses a start
   * that was already accepted (docs/operations.md "Positions the server must agree with"). Without
   * a saved position there is nothing to refuse, and the first acknowledgement writes the first.
   */
  private async recordAcceptedStart(position: Lsn): Promise<void> {
    const stored = this.store.getPosition(this.name) ?? 0n;
    if (stored === 0n || position <= stored) return;
    await this.store.setPosition(this.name, position);
    this.storedSeen = position;
    if (position > this.persisted) this.persisted = position;
    if (position > this.delivered) this.delivered = position;
    if (position > this.lastPushed) this.lastPushed = position;
  }

  private notice(notice: Notice): void {
    if (notice.level === 'warn') this.log.warn(notice.message);
    else this.log.info(notice.message);
  }

  /** The walsender failed on a publication that does not exist at the slot's position (see publicationDropped). */
  private publicationDropped(err: unknown): SourceRefusal {
    const publications = this.publications.join(',');
    return new SourceRefusal('publication_dropped',
      `${describeError(err)}: publication ${publications} was dropped (and perhaps created again) after changes the slot "${this.settings.slot}" still has to send. ` +
      'PostgreSQL decodes each change with the catalog as it was then: up to version 17 this slot can never get past that point by itself, ' +
      'from 18 on it goes on without the changes made while the publication was missing. ' +
      `Make sure the publication exists; then on PostgreSQL 18 start once with \`${acceptCommand(this.settings.configFile)}\` to go on without those changes; ` +
      `before 18 either move the slot past the point it was created again (SELECT pg_replication_slot_advance('${this.settings.slot}', pg_current_wal_lsn()); the changes in between are skipped) ` +
      `or drop the slot, and start once with \`${acceptCommand(this.settings.configFile)}\`. Rows changed meanwhile may be missing downstream (see docs/operations.md)`,
      { component: `${TYPE} (${this.name})`, cause: err });
  }

  /** Stops this source for good: ERROR once, /status and /health say why, the app exits with 3. */
  private refuse(err: SourceRefusal): void {
    this.refusal = err;
    this.endSession();
    sourceRefused.set({ sourceName: this.name, reason: err.reason }, 1);
    this.problem = `refused: ${err.message}`;
    this.log.error(`Refusing to stream: ${err.message}`);
    this.settings.halt?.(err);
  }

  /** Waits `ms` unless stop()/close() cuts the wait short. */
  private async pause(ms: number): Promise<void> {
    this.backoff = sleep(realTimers, ms);
    await this.backoff.done;
    this.backoff = undefined;
  }


  private onCopyData(bytes: Uint8Array, start: number, end: number): void {
    // After failSession nothing more of this session is used (the rest of a read may follow).
    if (this.stopping || this.sessionError) return;
    // The payload is in the socket buffer: copy it only when it must wait.
    if (this.held) {
      this.held.push(bytes.slice(start, end));
      return;
    }
    try {
      this.handleCopyData(bytes, start, end);
    } catch (err) {
      this.failSession(err);
    }
  }

  /**
   * A message we cannot make sense of (malformed, or a change for a relation never described):
   * end the session and reconnect from the last pushed commit, rather than skip data.
   */
  private failSession(err: unknown): void {
    this.sessionError ??= err instanceof Error ? err : new Error(String(err));
    this.eventErrors++;
    sourceErrors.inc({ sourceName: this.name, sourceType: TYPE, table: '' });
    void this.session?.close();
  }

  /** One CopyData payload, bytes[start, end). */
  private handleCopyData(bytes: Uint8Array, start: number, end: number): void {
    if (bytes[start] === XLOGDATA && end - start >= XLOGDATA_DATA_OFFSET + 5 && this.handleRowChange(bytes, start, end)) return;
    const message = decodeCopyBothMessage(bytes.subarray(start, end));
    if (message.tag === 'keepalive') {
      if (message.walEnd > this.received) this.received = message.walEnd;
      // Between transactions everything up to walEnd was sent, so once what was pushed before is
      // delivered, walEnd may be confirmed: an idle or filtered database does not retain WAL.
      if (this.txn === undefined) {
        this.wal.commits.caughtUp();
        if (message.walEnd > this.lastPushed) this.pushPosition(message.walEnd);
      }
      if (message.replyRequested) this.sendStatus(false);
      return;
    }
    if (message.walStart > this.received) this.received = message.walStart;
    this.handleXLogData(message);
  }

  /** Highest WAL position received, from either path. */
  private get receivedLsn(): Lsn {
    const row = BigInt(this.receivedRow);
    return row > this.received ? row : this.received;
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
    if (this.txn?.skip) {
      if (walStart > this.receivedRow) this.receivedRow = walStart;
      return true;
    }
    const started = performance.now();
    const relation = this.relations.get(readUint32BE(payload, base + 1));
    if (relation === undefined) return false;
    const event = this.events.rowFromBytes(payload, base, end, relation, walStart, this.txn, started);
    if (event === undefined) return false;
    if (walStart > this.receivedRow) this.receivedRow = walStart;
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
        this.txn = {
          xid: message.xid,
          commitLsn: message.finalLsn,
          commitTime: pgTimeToIso(message.commitTime),
          skip: message.finalLsn < this.skipBefore,
          commitMs: pgTimeToUnixMs(message.commitTime),
        };
        this.wal.commits.begin(message.finalLsn, this.txn.commitMs, !this.txn.skip);
        return;
      case 'commit':
        if (this.txn && !this.txn.skip) this.pushPosition(message.endLsn);
        this.txn = undefined;
        return;
      case 'relation':
        this.relations.apply(message);
        this.learnFromCatalog(message.columns.map((c) => c.typeOid), message.replicaIdentity === 'f' ? message.relationId : undefined);
        return;
      case 'type':
        this.relations.apply(message);
        this.learnFromCatalog([message.typeOid]);
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        if (this.txn?.skip) return;
        const started = performance.now();
        const relation = this.relations.require(message.relationId);
        this.pushEvent(this.events.row(message, relation, x.walStart, this.txn), relation.name, started);
        return;
      }
      case 'truncate': {
        if (this.txn?.skip) return;
        for (const id of message.relationIds) {
          const started = performance.now();
          const relation = this.relations.require(id);
          this.pushEvent(this.events.truncate(relation, x.walStart, this.txn), relation.name, started);
        }
        return;
      }
      case 'message': {
        if (this.wal.isHeartbeat(message.prefix, message.transactional)) {
          // Not an event: only its position is confirmed, so the slot of a quiet database advances.
          pgoutputSkipped.inc({ sourceName: this.name, kind: 'heartbeat' });
          if (this.txn === undefined && x.walStart > this.lastPushed) this.pushPosition(x.walStart);
          return;
        }
        if (message.transactional && this.txn?.skip) return;
        this.pushEvent(this.events.message(message, x.walStart, message.transactional ? this.txn : undefined), '', performance.now());
        return;
      }
      case 'origin':
        pgoutputSkipped.inc({ sourceName: this.name, kind: 'origin' });
        return;
      default:
        // Streaming and two-phase messages: we never ask for them (no 'streaming'/'two_phase' option).
        this.skipped(message.tag, `pgoutput ${message.tag} message received although not requested; skipped`);
    }
  }

  private skipped(kind: string, warning: string): void {
    pgoutputSkipped.inc({ sourceName: this.name, kind });
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
    this.lastPushed = position;
    this.fromOverride = false;
    this.push({ position });
  }

  private push(item: PipelineItem<Lsn>): void {
    const output = this.output;
    if (!output) return;
    if (!output.push(item) && !this.waitingForRoom) {
      // Back-pressure: stop reading the socket, so the walsender waits instead of our memory growing.
      this.waitingForRoom = true;
      this.session?.pause();
      const generation = this.generation;
      void output.drained().then(() => {
        if (generation !== this.generation) return;
        this.waitingForRoom = false;
        this.resumeIfFree();
      });
    }
  }

  private resumeIfFree(): void {
    if (!this.waitingForRoom && this.held === undefined && !this.stopping) this.session?.resume();
  }

  /**
   * Before any row of a relation is converted, learn from the catalog what the Relation message
   * does not say: user-defined types (domains, enums, ...) and, for REPLICA IDENTITY FULL, the
   * primary key (pgoutput then flags every column as key, which would make a poor event key).
   * Later frames are held, in order, until the lookup finished.
   */
  private learnFromCatalog(typeOids: readonly number[], fullIdentityRelation?: number): void {
    const unknownTypes = [...new Set(typeOids.filter((oid) => this.types.needsLookup(oid)))];
    if (unknownTypes.length === 0 && fullIdentityRelation === undefined) return;
    const generation = this.generation;
    this.held = [];
    this.session?.pause();
    void this.queryCatalog(unknownTypes, fullIdentityRelation).then(() => {
      // After stop() nothing more is pushed (Source contract): the held frames are re-read on the next start.
      if (generation !== this.generation || this.stopping) return;
      const frames = this.held ?? [];
      this.held = undefined;
      try {
        for (let i = 0; i < frames.length; i++) {
          const frame = frames[i] as Uint8Array;
          this.handleCopyData(frame, 0, frame.length);
          if (this.held !== undefined) {
            // Another lookup started: the rest waits behind it, in order.
            (this.held as Uint8Array[]).push(...frames.slice(i + 1));
            return;
          }
        }
      } catch (err) {
        this.failSession(err);
        return;
      }
      this.resumeIfFree();
    });
  }

  private async queryCatalog(typeOids: number[], fullIdentityRelation: number | undefined): Promise<void> {
    try {
      const facts = await readCatalog(this.settings.connection, typeOids, fullIdentityRelation);
      if (facts.types.length > 0) {
        for (const info of facts.types) this.types.define(info);
        this.events.resetConverters();
        this.log.debug(`learnt ${facts.types.length} user-defined type(s) for OIDs ${typeOids.join(', ')}`);
      }
      if (fullIdentityRelation !== undefined) this.events.setKeyColumns(fullIdentityRelation, facts.keyColumns);
    } catch (err) {
      this.eventErrors++;
      sourceErrors.inc({ sourceName: this.name, sourceType: TYPE, table: '' });
      this.log.warn(`Unable to read the catalog (user-defined types ${typeOids.join(', ') || 'none'} stay text; key columns as PostgreSQL flags them): ${describeError(err)}`);
    }
  }

  /**
   * Every sink has what came before and including the last position: persist it, then confirm it.
   * The write is started here (at once, or when the last one is PERSIST_INTERVAL_MS old) and not
   * awaited: the next batch need not wait for the disk. A failed write is logged and retried; the
   * next acknowledgement that finds the last write failed awaits its own, so a lasting failure
   * fails acknowledgements as the pipeline expects (retried with backoff, never skipped).
   */
  async ack(positions: readonly Lsn[]): Promise<void> {
    const position = positions[positions.length - 1];
    if (position === undefined || position <= this.delivered) return;
    this.delivered = position;
    this.wal.commits.delivered(position);
    if (this.persistFailed) {
      await this.persisting;
      await this.persistDelivered();
      return;
    }
    this.schedulePersist();
  }

  private schedulePersist(): void {
    if (this.persisting !== undefined || this.persistTimer !== undefined || this.delivered <= this.persisted) return;
    const wait = this.lastPersistAt + PERSIST_INTERVAL_MS - performance.now();
    if (wait > 0) {
      this.persistTimer = setTimeout(() => {
        this.persistTimer = undefined;
        this.schedulePersist();
      }, wait);
      return;
    }
    this.persistDelivered().catch((err: unknown) => this.log.error(`${describeError(err)}; retrying with the next acknowledgement`));
  }

  /** Writes the delivered position to the state store; rejects with a STATE_STORE error when it cannot. */
  private persistDelivered(): Promise<void> {
    const position = this.delivered;
    if (position <= this.persisted) return Promise.resolve();
    this.lastPersistAt = performance.now();
    const write = this.store.setPosition(this.name, position).then(
      () => {
        this.persistFailed = false;
        this.storedSeen = position;
        if (position > this.persisted) this.persisted = position;
        this.updateGauges();
      },
      (err: unknown) => {
        this.persistErrors++;
        this.persistFailed = true;
        throw new StreamerError('STATE_STORE', `unable to persist position ${formatLsn(position)}: ${describeError(err)}`, { cause: err, component: `${TYPE} (${this.name})` });
      },
    );
    const settled = write.then(() => {}, () => {});
    this.persisting = settled;
    void settled.then(() => {
      if (this.persisting !== settled) return;
      this.persisting = undefined;
      if (!this.persistFailed && !this.stopping) this.schedulePersist();
    });
    return write;
  }

  private get confirmed(): Lsn {
    const retained = this.persisted - BigInt(this.settings.walRetain);
    return retained > 0n ? retained : 0n;
  }

  private sendStatus(replyRequested: boolean): void {
    this.updateGauges();
    // Never report more than was persisted; write = received is informational only.
    if (this.session && !this.session.closed) this.session.sendStatus(this.receivedLsn, this.confirmed, replyRequested);
  }

  private updateGauges(): void {
    const labels = { sourceName: this.name };
    const received = this.receivedLsn;
    walReceivedLsn.set(labels, Number(received));
    walPersistedLsn.set(labels, Number(this.persisted));
    walConfirmedLsn.set(labels, Number(this.confirmed));
    walLagBytes.set(labels, received > this.persisted ? Number(received - this.persisted) : 0);
    this.wal.updateGauges();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.session?.pause();
    this.backoff?.cancel();
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.backoff?.cancel();
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.persistTimer !== undefined) {
      clearTimeout(this.persistTimer);
      this.persistTimer = undefined;
    }
    await this.persisting;
    await this.persistDelivered().catch((err: unknown) => {
      this.log.error(`${describeError(err)}: after a restart, what followed the last persisted position is delivered again`);
    });
    const session = this.session;
    if (session && !session.closed) {
      this.sendStatus(false);
      await session.close().catch(() => {});
    }
    await this.running;
    await this.wal.close();
  }

  stats(): string {
    return `events: ${this.eventCount}, eventErrors: ${this.eventErrors}, replicaErrors: ${this.replicaErrors}, ` +
      `persistErrors: ${this.persistErrors}, walPos: ${this.receivedLsn}, walPosPersist: ${this.persisted}; ${this.wal.describe()}`;
  }

  status(): string | null {
    if (this.refusal) return this.problem;
    if (this.stopping) return null;
    return this.streaming ? null : this.problem ?? 'connecting';
  }

  warning(): string | null {
    return this.wal.warning();
  }

  statusDetails(): string {
    return this.wal.describe();
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }
}

/** The walsender's error (or on 18 its warning) for a publication missing at the position it decodes. */
function isPublicationMissing(err: unknown): boolean {
  // Up to PostgreSQL 17 the walsender fails with "publication ... does not exist" (42704); 18 only
  // warns "skipped loading publication" (55000, a notice) and goes on without the changes.
  if (!(err instanceof PgError)) return false;
  return (err.code === '42704' && /publication .* does not exist/.test(err.message)) ||
    (err.code === '55000' && /^skipped loading publication/.test(err.message));
}
