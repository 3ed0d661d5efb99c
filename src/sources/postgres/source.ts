/**
 * `type = "postgres"`: logical replication → events → the pipeline, with the delivery contract of
 * docs/delivery.md. Positions are commit end LSNs: a transaction's position is pushed after its
 * last event, so it is acknowledged only when every event of it was delivered; then it is persisted
 * (SQLite), and only then confirmed to PostgreSQL (minus walRetain). Connection problems are
 * retried forever with capped exponential backoff; /status says why until streaming again.
 *
 * This class composes the parts, each with one job: the reconnect loop (../reconnect.ts), one
 * session from open to end (session-driver.ts), payloads to events and positions (dispatch.ts,
 * with the catalog gate of catalog-gate.ts), positions from ack to persist to confirm
 * (position-tracker.ts), counters and gauges (source-metrics.ts), lag and WAL budget (wal-watch.ts).
 */
import type { Component, ComponentDetails } from '../../core/component.ts';
import { describeError, type StreamerError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { realTimers } from '../../core/timers.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import type { ConnectOptions } from '../../pg/connection.ts';
import { targetOf } from '../../pg/transport.ts';
import { publicationNames } from '../../replication/commands.ts';
import { formatLsn, type Lsn } from '../../replication/lsn.ts';
import { SessionSetupError } from '../../replication/session.ts';
import type { StateStore } from '../../state/store.ts';
import { ReconnectLoop, type ReconnectDecision } from '../reconnect.ts';
import type { Source, SourceOutput } from '../source.ts';
import { ChangeDispatch } from './dispatch.ts';
import { PositionTracker } from './position-tracker.ts';
import { SessionDriver } from './session-driver.ts';
import { PostgresSourceMetrics } from './source-metrics.ts';
import { SourceRefusal } from './start-check.ts';
import { WalWatch, type WalWatchSettings } from './wal-watch.ts';
import type { ChunkMark, PgPosition } from './snapshot/mark.ts';
import { registerSnapshotMetrics } from './snapshot/metrics.ts';
import { SnapshotRunner } from './snapshot/runner.ts';
import type { SnapshotControl, SnapshotMode } from './snapshot/types.ts';

const TYPE = 'Source-PSQL';
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
  /** Snapshots (docs/snapshots.md). */
  snapshot: {
    mode: SnapshotMode;
    chunkRows: number;
    chunkBytes: number;
    maxLagBytes: number;
    /** `initial_only`: called once the initial copy is delivered (false: a table failed); the app stops. */
    finished?: (ok: boolean) => void;
  };
}

export class PostgresSource implements Source<PgPosition>, Component {
  readonly type = TYPE;
  private readonly component: string;
  private readonly metrics: PostgresSourceMetrics;
  private readonly tracker: PositionTracker;
  private readonly dispatch: ChangeDispatch;
  private readonly driver: SessionDriver;
  private readonly loop: ReconnectLoop;
  /** Lag as the server sees it, WAL budget, heartbeats (wal-watch.ts). */
  private readonly wal: WalWatch;
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  /** Set when the source refused to go on (start-check.ts); it never streams again in this process. */
  private refusal: StreamerError | undefined;
  private replicaErrors = 0;
  private readonly runner: SnapshotRunner;

  constructor(
    readonly name: string,
    private readonly settings: PostgresSourceSettings,
    store: StateStore,
    private readonly log: Logger,
    metrics: Metrics,
  ) {
    this.component = `${TYPE} (${name})`;
    this.metrics = new PostgresSourceMetrics(metrics, name, TYPE);
    this.wal = new WalWatch(name, settings.wal, {
      metrics,
      slot: settings.slot,
      connection: settings.connection,
      log,
      onSample: () => this.updateGauges(),
      onBudgetStop: (message) => this.stopForBudget(message),
    });
    this.tracker = new PositionTracker({
      name,
      store,
      timers: realTimers,
      walRetain: settings.walRetain,
      component: this.component,
      onDelivered: (position) => this.wal.delivered(position),
      onPersisted: () => this.updateGauges(),
      onBackgroundFailure: (err) => this.log.error(`${describeError(err)}; retrying with the next acknowledgement`),
    });
    this.dispatch = new ChangeDispatch({
      name,
      sourceType: TYPE,
      eventHost: settings.eventHost,
      eventDatabase: settings.eventDatabase,
      connection: settings.connection,
      log,
      tracker: this.tracker,
      wal: this.wal,
      metrics: this.metrics,
      sendStatus: () => this.sendStatus(false),
      closeSession: () => void this.driver.session?.close(),
    });
    this.driver = new SessionDriver({
      name,
      component: this.component,
      connection: settings.connection,
      slot: settings.slot,
      publications: publicationNames(settings.publication),
      failoverSlot: settings.failoverSlot ?? true,
      readCoalesceMs: settings.readCoalesceMs,
      acceptGap: settings.acceptGap ?? false,
      configFile: settings.configFile,
      store,
      log,
      tracker: this.tracker,
      dispatch: this.dispatch,
      metrics: this.metrics,
      stopping: () => this.loop.stopping,
      beforeSession: () => this.runner.adoptStored(),
      // The slot monitor starts once the slot exists: a poll before the session created it said "does not exist".
      onStreaming: () => this.wal.start(),
    });
    this.loop = new ReconnectLoop({ firstMs: settings.startRetryIntervalMs, maxMs: MAX_RECONNECT_WAIT_MS });
    const snapshot = settings.snapshot;
    this.runner = new SnapshotRunner({
      source: name,
      component: this.component,
      mode: snapshot.mode,
      connection: settings.connection,
      publications: publicationNames(settings.publication),
      chunkRows: snapshot.chunkRows,
      chunkBytes: snapshot.chunkBytes,
      maxLagBytes: snapshot.maxLagBytes,
      store,
      log,
    }, {
      openWindow: (schema, table) => this.dispatch.openWindow(schema, table),
      events: this.dispatch.eventFactory,
      learnTypes: (oids) => this.dispatch.learnTypes(oids),
      streamRelation: (relationId) => this.dispatch.relation(relationId),
      watchMoves: (schema, table, moved) => this.dispatch.watchMoves(schema, table, moved),
      streaming: () => this.driver.streaming && !this.loop.stopping && this.refusal === undefined,
      requestReply: () => this.sendStatus(true),
      lagBytes: () => {
        const behind = this.dispatch.receivedLsn - this.tracker.delivered;
        return behind > 0n ? Number(behind) : 0;
      },
      drained: () => this.dispatch.valve.output?.drained() ?? Promise.resolve(),
      finished: snapshot.finished,
    });
    registerSnapshotMetrics(metrics, name, this.runner);
  }

  /** Snapshots and backfills of this source (HTTP API, `snapshot` command; docs/snapshots.md). */
  get snapshots(): SnapshotControl {
    return this.runner;
  }

  /** walBudgetAction = "stop" past walBudgetMax: stop reading for good and refuse (the app exits with 3). */
  private stopForBudget(message: string): void {
    this.stopNow();
    this.refuse(new SourceRefusal('wal_budget', message, { component: this.component }));
  }

  async start(output: SourceOutput<PgPosition>): Promise<void> {
    this.dispatch.valve.output = output;
    const override = this.settings.walPositionOverride;
    let stored: Lsn;
    try {
      stored = this.tracker.load(override);
      // Before anything streams: the initial snapshot is recorded on a first start (docs/snapshots.md).
      await this.runner.load(stored === 0n && override === 0n);
    } catch (err) {
      // A state file we cannot read a position from: refuse rather than start over from the slot.
      this.metrics.refused('bad_state');
      throw new SourceRefusal('bad_state', describeError(err), { cause: err, component: this.component });
    }
    if (override > 0n) this.log.warn(`walPositionOverride is set: starting at ${formatLsn(override)} instead of the saved position ${formatLsn(stored)}`);
    this.statusTimer = setInterval(() => this.sendStatus(false), this.settings.statusIntervalMs);
    this.driver.connect.start(`opening a replication session to ${targetOf(this.settings.connection).label}`);
    this.loop.start({
      attempt: async (progressed) => {
        const pushedBefore = this.tracker.lastPushed;
        try {
          await this.driver.run();
        } finally {
          // A session that got somewhere starts a new series of failures (backoff from the start); one
          // that fails at once again and again (a stream error on the first change) keeps backing off.
          if (this.driver.streaming && this.tracker.lastPushed > pushedBefore) progressed();
        }
      },
      // Unhealthy during the wait, not only while reconnecting.
      ended: () => this.driver.end(),
      failed: (err, waitMs) => this.sessionFailed(err, waitMs),
    });
    this.runner.begin();
  }

  private sessionFailed(err: unknown, waitMs: number): ReconnectDecision {
    const driver = this.driver;
    if (err instanceof SourceRefusal) {
      this.refuse(err);
      return 'halt';
    }
    if (err instanceof SessionSetupError && err.slotInUse) {
      // A warm standby polls at a steady pace and says so once (docs/operations.md, "Warm standby").
      driver.problem = `standing by: ${describeError(err)}`;
      if (!driver.standingBy) this.log.info(`Standing by: ${describeError(err)}; checking every ${this.settings.startRetryIntervalMs}ms`);
      driver.standingBy = true;
      this.wal.start(); // the active instance's slot: its WAL is watched from here too
      return { steadyMs: this.settings.startRetryIntervalMs };
    }
    driver.standingBy = false;
    this.replicaErrors++;
    this.metrics.reconnect();
    driver.problem = null;
    driver.connect.failed(describeError(err), waitMs);
    this.log.error(`Replication error (walPositionPersisted: ${this.tracker.persisted}): ${describeError(err)}; retrying in ${waitMs}ms`);
    return 'backoff';
  }

  /** Stops this source for good: ERROR once, /status and /health say why, the app exits with 3. */
  private refuse(err: SourceRefusal): void {
    this.refusal = err;
    this.driver.end();
    this.metrics.refused(err.reason);
    this.driver.problem = `refused: ${err.message}`;
    this.log.error(`Refusing to stream: ${err.message}`);
    this.settings.halt?.(err);
  }

  /** See PositionTracker.ack (docs/delivery.md); a snapshot chunk's mark tells its runner the chunk was delivered. */
  async ack(positions: readonly PgPosition[]): Promise<void> {
    if (this.dispatch.marksInFlight.size === 0) return this.tracker.ack(positions as readonly Lsn[]);
    const lsns: Lsn[] = [];
    const marks: ChunkMark[] = [];
    for (const position of positions) {
      if (typeof position === 'bigint') lsns.push(position);
      else marks.push(position);
    }
    await this.tracker.ack(lsns);
    for (const mark of marks) {
      this.dispatch.marksInFlight.delete(mark);
      mark.settle();
    }
  }

  private sendStatus(replyRequested: boolean): void {
    this.updateGauges();
    // Never report more than was persisted; write = received is informational only.
    const session = this.driver.session;
    if (session && !session.closed) session.sendStatus(this.dispatch.receivedLsn, this.tracker.confirmed, replyRequested);
  }

  private updateGauges(): void {
    this.metrics.positions(this.dispatch.receivedLsn, this.tracker.persisted, this.tracker.confirmed);
    this.wal.updateGauges();
  }

  async stop(): Promise<void> {
    this.stopNow();
  }

  /** Nothing more is pushed, no session starts again, no write starts in the background. */
  private stopNow(): void {
    void this.runner.stop();
    this.loop.stop();
    this.dispatch.stop();
    this.tracker.stop();
  }

  async close(): Promise<void> {
    this.stopNow();
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.tracker.close().catch((err: unknown) => {
      this.log.error(`${describeError(err)}: after a restart, what followed the last persisted position is delivered again`);
    });
    const session = this.driver.session;
    if (session && !session.closed) {
      this.sendStatus(false);
      await session.close().catch(() => {});
    }
    await this.loop.done();
    // After the drain: a chunk's mark not acknowledged by now never will be.
    for (const mark of this.dispatch.marksInFlight) mark.abandon();
    this.dispatch.marksInFlight.clear();
    await this.runner.close();
    await this.wal.close();
  }

  stats(): string {
    return `events: ${this.dispatch.eventCount}, eventErrors: ${this.dispatch.eventErrors}, replicaErrors: ${this.replicaErrors}, ` +
      `persistErrors: ${this.tracker.persistErrors}, walPos: ${this.dispatch.receivedLsn}, walPosPersist: ${this.tracker.persisted}; ${this.wal.describe()}`;
  }

  /** Not OK until a session streams: "connecting: ..." from the start (docs/operations.md, "Status: connecting"). */
  status(): string | null {
    if (this.refusal) return this.driver.problem;
    if (this.loop.stopping) return null;
    if (this.driver.streaming) return null;
    return this.driver.problem ?? this.driver.connect.problem() ?? 'connecting';
  }

  warning(): string | null {
    return this.wal.warning() ?? this.runner.problem;
  }

  statusDetails(): string {
    const snapshots = this.runner.describe();
    return snapshots === null ? this.wal.describe() : `${this.wal.describe()}; ${snapshots}`;
  }

  /** The server, database and slot (never the password), and the position persisted after delivery. */
  details(): ComponentDetails {
    const c = this.settings.connection;
    const delivered = this.tracker.persisted;
    return {
      endpoint: `${c.user}@${c.host}:${c.port}/${c.database}, slot ${this.settings.slot}`,
      ...(delivered > 0n ? { delivered: formatLsn(delivered) } : {}),
    };
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }
}
