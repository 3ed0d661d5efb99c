/**
 * One replication session of the PostgreSQL source, from open to end: open it, adopt a position
 * another instance stored, run the start check (start-check.ts; may create the slot, records the
 * cluster beside the position), stream into the dispatch, and classify how it ended: a publication
 * dropped under the slot (a refusal, docs/operations.md), an error to retry, or a stop. Holds the
 * source's "what is it doing" for /status.
 */
import { ConnectStatus } from '../../core/connect-status.ts';
import { StreamerError, describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ConnectOptions } from '../../pg/connection.ts';
import { PgError } from '../../pg/errors.ts';
import { formatLsn, type Lsn } from '../../replication/lsn.ts';
import { ReplicationSession } from '../../replication/session.ts';
import type { StateStore } from '../../state/store.ts';
import type { ChangeDispatch } from './dispatch.ts';
import type { PositionTracker } from './position-tracker.ts';
import { createSlotWithFailover, reportSlotFailover } from './slot-failover.ts';
import type { PostgresSourceMetrics } from './source-metrics.ts';
import { acceptCommand, checkStart, SourceRefusal, type Notice } from './start-check.ts';

export interface SessionDriverOptions {
  name: string;
  /** Names the source in errors, e.g. "Source-PSQL (db1)". */
  component: string;
  connection: ConnectOptions;
  slot: string;
  publications: string[];
  /** PostgreSQL 17+: create the slot with FAILOVER (slot-failover.ts). */
  failoverSlot: boolean;
  readCoalesceMs: number;
  /** `--accept-gap` for the first start that gets as far as the start check. */
  acceptGap: boolean;
  configFile?: string;
  store: StateStore;
  log: Logger;
  tracker: PositionTracker;
  dispatch: ChangeDispatch;
  metrics: PostgresSourceMetrics;
  /** True once the source is stopping: a session then ends quietly. */
  stopping(): boolean;
  /**
   * A session is about to start: read again what another instance sharing the state file may
   * have written meanwhile (a warm standby taking over; snapshot records, runner.ts adoptStored).
   */
  beforeSession?(): void;
  /** The session streams (its slot exists now, created or not): once per session. */
  onStreaming?(): void;
}

export class SessionDriver {
  /** The open session, if any. */
  session: ReplicationSession | undefined;
  /** The running session has started streaming. */
  streaming = false;
  /**
   * What holds the source up besides its connection (for /status): standing by for a slot, creating
   * the slot, a refusal; null otherwise. Connection attempts are told by `connect`.
   */
  problem: string | null = null;
  /** "connecting: ..." until a session streams, from the first attempt (core/connect-status.ts). */
  readonly connect = new ConnectStatus();
  /** Waiting for a slot another consumer holds (warm standby): logged once, until a session gets past the start check. */
  standingBy = false;
  private acceptGap: boolean;
  /** This session started with `--accept-gap`: a publication missing in the stream (PostgreSQL 18) is accepted, with one WARN. */
  private publicationGapAccepted = false;
  private publicationGapWarned = false;

  constructor(private readonly options: SessionDriverOptions) {
    this.acceptGap = options.acceptGap;
  }

  /**
   * Runs one session until it ends: resolves when the source stops, rejects with why it ended
   * otherwise (a SourceRefusal when the source must not go on).
   */
  async run(): Promise<void> {
    const { options } = this;
    const session = await ReplicationSession.open({
      connection: options.connection,
      slot: options.slot,
      publications: options.publications,
      log: options.log,
      readCoalesceMs: options.readCoalesceMs,
    });
    let start: Lsn;
    try {
      // Before the start check: it compares the slot with where this source would resume.
      this.adoptStoredPosition();
      this.options.beforeSession?.();
      start = await this.prepareStart(session);
    } catch (err) {
      await session.close().catch(() => {});
      throw err;
    }
    const dispatch = options.dispatch;
    const generation = dispatch.begin(session, session.info.protoVersion, start, { systemId: session.info.system.systemId, slot: options.slot });
    this.session = session;
    if (options.stopping()) return;
    this.standingBy = false;
    const ended = new Promise<Error | undefined>((resolve) => {
      void session.start(start, {
        onCopyData: (bytes, start, end) => {
          if (generation === dispatch.generation) dispatch.onCopyData(bytes, start, end);
        },
        onEnd: resolve,
        onNotice: (notice) => {
          if (generation === dispatch.generation) this.onNotice(new PgError(notice));
        },
      }).then(
        () => {
          this.streaming = true;
          this.problem = null;
          this.connect.succeeded();
          options.log.info(`Streaming from ${formatLsn(start)} (slot "${options.slot}", publication ${session.info.publications.join(',')}, ` +
            `pgoutput v${session.info.protoVersion}, server ${session.info.serverVersionNum})`);
          options.onStreaming?.();
        },
        resolve,
      );
    });
    const endedWith = await ended;
    const err = dispatch.failure ?? endedWith;
    if (options.stopping()) return;
    if (isPublicationMissing(err)) throw this.publicationDropped(err);
    throw err ?? new StreamerError('SOURCE', 'the server ended the replication stream', { component: options.component });
  }

  /** Forgets the session (closing it if still open): it is not streaming, its frames are not used. */
  end(): void {
    this.streaming = false;
    this.options.dispatch.end();
    const session = this.session;
    this.session = undefined;
    if (session && !session.closed) void session.close().catch(() => {});
  }

  /** A warning of the walsender: on PostgreSQL 18, a publication missing at the position it decodes. */
  private onNotice(err: PgError): void {
    if (!isPublicationMissing(err)) return;
    if (!this.publicationGapAccepted) {
      this.options.dispatch.fail(err);
    } else if (!this.publicationGapWarned) {
      // PostgreSQL 18 goes on without the changes made while the publication was missing; accepted by --accept-gap.
      this.publicationGapWarned = true;
      this.options.metrics.gapAccepted();
      this.options.log.warn(`${describeError(err)}: --accept-gap given: going on without the changes made while publication ${this.options.publications.join(',')} did not exist`);
    }
  }

  /** See PositionTracker.adoptStored. */
  private adoptStoredPosition(): void {
    const before = this.options.tracker.lastPushed;
    const adopted = this.options.tracker.adoptStored();
    if (adopted === undefined) return;
    this.options.log.info(`The state file holds ${formatLsn(adopted)}, written by another instance after this one's ${formatLsn(before)}: resuming from it`);
  }

  /**
   * The start check (start-check.ts) against what the session found: refuse (throws REFUSED), or
   * create the slot when it is due, record the cluster beside the position, and return where to
   * start streaming.
   */
  private async prepareStart(session: ReplicationSession): Promise<Lsn> {
    const { options } = this;
    const { system, slot } = session.info;
    const decision = checkStart({
      source: options.name,
      slot: options.slot,
      resumeFrom: options.tracker.lastPushed,
      fromOverride: options.tracker.fromOverride,
      savedIdentity: options.store.getServerIdentity(options.name),
      server: system,
      slotInfo: slot,
      acceptGap: this.acceptGap,
      configFile: options.configFile,
    });
    for (const notice of decision.notices) this.notice(notice);
    if (decision.kind === 'refuse') {
      throw new SourceRefusal(decision.reason, decision.message, { component: options.component });
    }
    if (decision.gapAccepted) options.metrics.gapAccepted();
    // PostgreSQL 18 reports a missing publication while streaming, and --accept-gap may accept that too.
    this.publicationGapAccepted = this.acceptGap;
    this.publicationGapWarned = false;
    this.acceptGap = false;
    let slotStart = slot?.confirmedFlush ?? 0n;
    if (decision.createSlot) {
      this.problem = `creating replication slot "${options.slot}": PostgreSQL waits until the transactions running now have finished ` +
        '(look for long-running or idle-in-transaction sessions in pg_stat_activity)';
      options.log.info(`Creating replication slot "${options.slot}" (waits for transactions in progress to finish)`);
      const created = await createSlotWithFailover(session, options.failoverSlot);
      reportSlotFailover(options.metrics.catalogue, options.name, options.slot, created, options.log);
      slotStart = created.consistentPoint;
    } else if (slot !== undefined) {
      reportSlotFailover(options.metrics.catalogue, options.name, options.slot, slot, options.log);
    }
    const saved = options.store.getServerIdentity(options.name);
    if (saved?.systemId !== system.systemId || saved.timeline !== system.timeline) {
      options.store.setServerIdentity(options.name, { systemId: system.systemId, timeline: system.timeline });
    }
    const tracker = options.tracker;
    await tracker.recordAcceptedStart(tracker.fromOverride && decision.start > slotStart ? decision.start : slotStart);
    return decision.start;
  }

  private notice(notice: Notice): void {
    if (notice.level === 'warn') this.options.log.warn(notice.message);
    else this.options.log.info(notice.message);
  }

  /** The walsender failed on a publication that does not exist at the slot's position (see publicationDropped). */
  private publicationDropped(err: unknown): SourceRefusal {
    const { slot, configFile, component } = this.options;
    const publications = this.options.publications.join(',');
    return new SourceRefusal('publication_dropped',
      `${describeError(err)}: publication ${publications} was dropped (and perhaps created again) after changes the slot "${slot}" still has to send. ` +
      'PostgreSQL decodes each change with the catalog as it was then: up to version 17 this slot can never get past that point by itself, ' +
      'from 18 on it goes on without the changes made while the publication was missing. ' +
      `Make sure the publication exists; then on PostgreSQL 18 start once with \`${acceptCommand(configFile)}\` to go on without those changes; ` +
      `before 18 either move the slot past the point it was created again (SELECT pg_replication_slot_advance('${slot}', pg_current_wal_lsn()); the changes in between are skipped) ` +
      `or drop the slot, and start once with \`${acceptCommand(configFile)}\`. Rows changed meanwhile may be missing downstream (see docs/operations.md)`,
      { component, cause: err });
  }
}

/** The walsender's error (or on 18 its warning) for a publication missing at the position it decodes. */
export function isPublicationMissing(err: unknown): boolean {
  // Up to PostgreSQL 17 the walsender fails with "publication ... does not exist" (42704); 18 only
  // warns "skipped loading publication" (55000, a notice) and goes on without the changes.
  if (!(err instanceof PgError)) return false;
  return (err.code === '42704' && /publication .* does not exist/.test(err.message)) ||
    (err.code === '55000' && /^skipped loading publication/.test(err.message));
}
