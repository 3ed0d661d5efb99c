/**
 * The snapshots of one PostgreSQL source (docs/snapshots.md): the initial copy (`snapshot =
 * "initial" | "initial_only"`) and ad-hoc backfills, their records in the state store, and the
 * order of work: a slice of one table at a time (table-copy.ts reads and pushes its chunks),
 * round-robin between the snapshots in progress, retries and failed tables, progress lines and
 * the final summary. A crash replays at most the chunks after the last persisted one.
 *
 * Implements SnapshotControl for the HTTP API and the `snapshot` command.
 */
import { describeError, StreamerError } from '../../../core/errors.ts';
import { PgConnectError } from '../../../pg/errors.ts';
import { SqlClient } from '../../../pg/sql-client.ts';
import { progressLine, summaryLine } from './progress-text.ts';
import { decodeRecord, encodeRecord, RateWindow, snapshotInfo, type SnapshotRecord, type TableRecord } from './record.ts';
import { resolveSnapshotTables, validateWhere, type SnapshotTable } from './tables.ts';
import { SnapshotRequestError, type SnapshotControl, type SnapshotInfo, type SnapshotRequest } from './types.ts';
import type { SnapshotHooks, SnapshotSettings } from './source-hooks.ts';
import { STREAM_POLL_MS, TableCopy, type ChunkOutcome, type Running } from './table-copy.ts';

/** Waits after a failed chunk grow from this to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;
/** A table fails after this many failed reads in a row that were not connection problems. */
const TABLE_ATTEMPTS = 3;
/** Progress lines while a snapshot runs. */
const PROGRESS_LOG_MS = 10_000;
/** Finished backfills kept (listed, persisted) per source; older ones are pruned. */
const KEEP_FINISHED = 20;

export class SnapshotRunner implements SnapshotControl {
  private readonly snapshots: Running[] = [];
  /** Reads and pushes the chunks of one table at a time (table-copy.ts). */
  private readonly copy: TableCopy;
  private stopped = false;
  private signalStop!: () => void;
  private readonly stopSignal = new Promise<void>((resolve) => {
    this.signalStop = resolve;
  });
  private started = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private turn = 0;
  /** What /status says about the snapshots (null: nothing to say). */
  problem: string | null = null;

  constructor(private readonly settings: SnapshotSettings, private readonly hooks: SnapshotHooks) {
    this.copy = new TableCopy(settings, hooks, {
      stopped: () => this.stopped,
      stopSignal: this.stopSignal,
      persist: (record) => this.persist(record),
      soleSnapshot: () => this.active().length === 1,
    });
  }

  /**
   * Loads the persisted snapshots; on a first start (no saved position) with `snapshot` set,
   * records the initial snapshot before anything streams, so a crash before its first chunk
   * still copies on the next start.
   */
  async load(firstStart: boolean): Promise<void> {
    const { store, source, component, mode, log } = this.settings;
    for (const { id, body } of store.getSnapshots(source)) {
      let record: SnapshotRecord;
      try {
        record = decodeRecord(id, body);
      } catch (err) {
        throw new StreamerError('STATE_STORE', `the state file's ${describeError(err)} (source '${source}')`, { retryable: false, component });
      }
      this.snapshots.push(this.track(record));
    }
    if (mode !== 'never' && firstStart && this.find('initial') === undefined) {
      const record: SnapshotRecord = { id: 'initial', kind: 'initial', state: 'pending', createdAt: now(), planned: false, tables: [] };
      await this.persist(record);
      this.snapshots.push(this.track(record));
      log.info('Initial snapshot: every published table is copied while the changes stream (docs/snapshots.md)');
    }
    for (const s of this.active()) {
      if (s.record.state === 'running') log.info(`Snapshot ${s.record.id}: resuming (${progressLine(this.infoOf(s))})`);
      // Before the stream resumes: a key move it replays must be heard (see watchTable).
      for (const table of s.record.tables) if (table.state === 'running' && table.lastKey !== null) this.copy.watchTable(s, table);
    }
  }

  /**
   * Before each session: another instance sharing the state file (a warm standby pair,
   * docs/operations.md) may have worked on the snapshots meanwhile. Its records replace the ones
   * this instance loaded and never worked on (it would otherwise copy again what the other one
   * copied), and new ones are added. Records this instance works on are its own.
   */
  adoptStored(): void {
    for (const { id, body } of this.settings.store.getSnapshots(this.settings.source)) {
      let record: SnapshotRecord;
      try {
        record = decodeRecord(id, body);
      } catch (err) {
        this.settings.log.warn(`Snapshot records of the other instance not adopted: ${describeError(err)}`);
        return;
      }
      const known = this.find(id);
      if (known === undefined) this.snapshots.push(this.track(record));
      else if (known.cursors.size === 0 && body !== encodeRecord(known.record)) known.record = record;
      else continue;
      this.settings.log.info(`Snapshot ${id}: adopted the progress the other instance saved (${progressLine(this.infoOf(this.find(id)!))})`);
      for (const table of record.tables) if (table.state === 'running' && table.lastKey !== null) this.copy.watchTable(this.find(id)!, table);
    }
    this.wake?.();
  }

  /** Starts working through the snapshots in the background. */
  begin(): void {
    if (this.started) return;
    this.started = true;
    this.loopDone = this.loop().catch((err: unknown) => {
      this.problem = `snapshots stopped: ${describeError(err)}`;
      this.settings.log.error(`Snapshots stopped: ${describeError(err)}`);
    });
    this.finishIfDone();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    this.copy.closeWindows();
    this.wake?.();
    await this.loopDone;
    await this.copy.connections.close();
  }

  /**
   * After the pipeline's last acknowledgement (the source's close, which has abandoned the marks
   * never acknowledged): the progress of every chunk acknowledged during the shutdown's drain is
   * saved before this resolves; the others are read again on the next start.
   */
  async close(): Promise<void> {
    await this.stop();
    await Promise.all(this.snapshots.map((s) => s.delivered.catch(() => {})));
  }

  /** What /status adds about snapshots in progress: each one's progress, and why the copy waits. */
  describe(): string | null {
    const lines = this.active().map((s) => progressLine(this.infoOf(s)));
    if (lines.length > 0 && this.copy.waiting !== null) lines.push(this.copy.waiting);
    return lines.length === 0 ? null : lines.join('; ');
  }

  // --- SnapshotControl ---

  list(): SnapshotInfo[] {
    return this.snapshots.map((s) => this.infoOf(s));
  }

  get(id: string): SnapshotInfo | undefined {
    const s = this.find(id);
    return s === undefined ? undefined : this.infoOf(s);
  }

  start(request: SnapshotRequest): Promise<SnapshotInfo> {
    return this.startBackfill(request);
  }

  async cancel(id: string): Promise<SnapshotInfo | undefined> {
    const s = this.find(id);
    if (s === undefined) return undefined;
    const record = s.record;
    if (record.state !== 'pending' && record.state !== 'running') return this.infoOf(s);
    s.cancelRequested = true;
    if (this.current === s) this.copy.closeWindows();
    record.state = 'cancelled';
    record.finishedAt = now();
    for (const t of record.tables) {
      if (t.state === 'pending' || t.state === 'running') t.state = 'cancelled';
      this.copy.unwatchTable(s, t);
    }
    await this.persist(record);
    this.settings.log.info(summaryLine(this.infoOf(s)));
    this.finishIfDone();
    return this.infoOf(s);
  }

  // --- internals ---

  private current: Running | undefined;

  private async startBackfill(request: SnapshotRequest): Promise<SnapshotInfo> {
    if (this.stopped) throw new SnapshotRequestError('the source is stopping', 409);
    const names = request.tables;
    if (!Array.isArray(names) || names.length === 0) throw new SnapshotRequestError('"tables" must name at least one table', 400);
    const where = request.where?.trim() === '' ? undefined : request.where;
    // A connection of its own: the runner's may be inside a chunk's transaction right now.
    const client = await SqlClient.connect(this.settings.connection);
    let tables: SnapshotTable[];
    try {
      ({ tables } = await resolveSnapshotTables(client, this.settings.publications, names));
      if (where !== undefined) for (const table of tables) await validateWhere(client, table, where);
    } finally {
      await client.close();
    }
    const record: SnapshotRecord = {
      id: newId(),
      kind: 'backfill',
      state: 'pending',
      ...(where === undefined ? {} : { where }),
      createdAt: now(),
      planned: true,
      tables: tables.map((t) => tableRecord(t)),
    };
    await this.persist(record);
    const s = this.track(record);
    this.snapshots.push(s);
    await this.prune();
    this.settings.log.info(`Snapshot ${record.id} queued: ${record.tables.map((t) => t.table).join(', ')}${where === undefined ? '' : ` where ${where}`}`);
    this.wake?.();
    return this.infoOf(s);
  }

  private track(record: SnapshotRecord): Running {
    return { record, rate: new RateWindow(), cancelRequested: false, failures: 0, lastProgressLog: 0, cursors: new Map(), delivered: Promise.resolve(), unwatch: new Map(), moved: new Map() };
  }

  private find(id: string): Running | undefined {
    return this.snapshots.find((s) => s.record.id === id);
  }

  private active(): Running[] {
    return this.snapshots.filter((s) => s.record.state === 'pending' || s.record.state === 'running');
  }

  private infoOf(s: Running): SnapshotInfo {
    return snapshotInfo(this.settings.source, s.record, s.rate.perSecond(performance.now()));
  }

  private async persist(record: SnapshotRecord): Promise<void> {
    await this.settings.store.saveSnapshot(this.settings.source, record.id, encodeRecord(record));
  }

  /** Keeps the newest KEEP_FINISHED finished backfills. */
  private async prune(): Promise<void> {
    const finished = this.snapshots.filter((s) => s.record.kind === 'backfill' && !(s.record.state === 'pending' || s.record.state === 'running'));
    for (const s of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.settings.store.deleteSnapshot(this.settings.source, s.record.id);
      this.snapshots.splice(this.snapshots.indexOf(s), 1);
    }
  }

  /** initial_only: once the initial snapshot is done (or was done before), the source is finished. */
  private finishIfDone(): void {
    if (this.settings.mode !== 'initial_only' || this.hooks.finished === undefined) return;
    const initial = this.find('initial');
    if (initial !== undefined && (initial.record.state === 'pending' || initial.record.state === 'running')) return;
    if (initial === undefined) this.settings.log.info('snapshot = "initial_only": no initial snapshot to take (the source has a saved position); stopping');
    else if (initial.record.state === 'done') this.settings.log.info(`snapshot = "initial_only": the initial snapshot is done (finished ${initial.record.finishedAt}); stopping`);
    this.hooks.finished(initial === undefined || initial.record.state === 'done');
  }

  private async loop(): Promise<void> {
    let retryMs = RETRY_FIRST_MS;
    while (!this.stopped) {
      const active = this.active();
      if (active.length === 0) {
        await this.copy.connections.close();
        // Raced with the stop signal: stop() may have come while the connections were closing.
        await Promise.race([new Promise<void>((resolve) => {
          this.wake = resolve;
        }), this.stopSignal]);
        this.wake = undefined;
        continue;
      }
      const s = active[this.turn++ % active.length]!;
      this.current = s;
      let outcome: ChunkOutcome;
      try {
        outcome = await this.step(s);
        retryMs = RETRY_FIRST_MS;
        this.problem = null;
      } catch (err) {
        outcome = 'again';
        if (this.stopped) break;
        if (!this.failed(s, err)) {
          this.problem = `snapshot ${s.record.id}: ${describeError(err)}; retrying in ${retryMs}ms`;
          this.settings.log.warn(`Snapshot ${s.record.id}: ${describeError(err)}; retrying in ${retryMs}ms`);
          await this.pause(retryMs);
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        }
      } finally {
        this.current = undefined;
      }
      if (outcome === 'stopped') break;
    }
  }

  /**
   * A failed chunk: a lost connection is retried for ever (the client is opened again); anything
   * else fails the table after TABLE_ATTEMPTS in a row. Returns true when the table failed.
   */
  private failed(s: Running, err: unknown): boolean {
    if (err instanceof PgConnectError || this.copy.connections.closed) {
      void this.copy.connections.close();
      return false;
    }
    const table = s.record.tables.find((t) => t.state === 'running');
    if (table === undefined || ++s.failures < TABLE_ATTEMPTS) return false;
    s.failures = 0;
    table.state = 'failed';
    this.copy.unwatchTable(s, table);
    table.error = describeError(err);
    this.settings.log.error(`Snapshot ${s.record.id}: table ${table.table} failed after ${TABLE_ATTEMPTS} attempts: ${table.error}; its rows delivered so far stay delivered`);
    void this.persist(s.record).catch((e: unknown) => this.settings.log.error(describeError(e)));
    return true;
  }

  private pause(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      this.wake = resolve;
    });
    return Promise.race([waited, this.stopSignal]).then(() => {
      clearTimeout(timer);
      this.wake = undefined;
    });
  }

  /** One step of one snapshot: plan it, or one chunk of its first unfinished table, or finish it. */
  private async step(s: Running): Promise<ChunkOutcome> {
    // Nothing is planned, changed or written while the source does not stream (a warm standby
    // waiting for the slot must not touch the records the active instance writes).
    if (!this.hooks.streaming()) {
      await Promise.race([delay(STREAM_POLL_MS), this.stopSignal]);
      return 'next';
    }
    const record = s.record;
    if (record.state === 'pending') {
      record.state = 'running';
      record.startedAt ??= now();
      this.settings.log.info(`Snapshot ${record.id} started: ${record.planned ? record.tables.map((t) => t.table).join(', ') : 'every published table'}`);
    }
    if (!record.planned) {
      await this.plan(record);
      return 'next';
    }
    const table = record.tables.find((t) => t.state === 'pending' || t.state === 'running');
    if (table === undefined) {
      await this.finish(s);
      return 'next';
    }
    table.state = 'running';
    const outcome = await this.copy.copySlice(s, table);
    const at = performance.now();
    if (outcome === 'next' && at - s.lastProgressLog >= PROGRESS_LOG_MS) {
      s.lastProgressLog = at;
      this.settings.log.info(progressLine(this.infoOf(s)));
    }
    return outcome;
  }

  /** The initial snapshot's tables: every table the publication(s) publish. */
  private async plan(record: SnapshotRecord): Promise<void> {
    const { tables, refused } = await resolveSnapshotTables(await this.copy.connections.sql(), this.settings.publications, 'all');
    record.tables = tables.map((t) => tableRecord(t));
    for (const r of refused) {
      this.settings.log.error(`Snapshot ${record.id}: table ${r.table} is not copied: ${r.reason}`);
      record.tables.push({ table: r.table, state: 'failed', rowsDone: 0, rowsEstimated: 0, chunks: 0, lastKey: null, error: r.reason });
    }
    record.planned = true;
    await this.persist(record);
  }

  private async finish(s: Running): Promise<void> {
    await Promise.race([s.delivered, this.stopSignal]);
    if (this.stopped) return;
    const record = s.record;
    const failed = record.tables.filter((t) => t.state === 'failed');
    record.state = failed.length > 0 ? 'failed' : 'done';
    if (failed.length > 0) record.error = `${failed.length} table(s) failed: ${failed.map((t) => t.table).join(', ')}`;
    record.finishedAt = now();
    await this.persist(record);
    const line = summaryLine(this.infoOf(s));
    if (failed.length > 0) this.settings.log.error(line);
    else this.settings.log.info(line);
    if (record.kind === 'initial') this.finishIfDone();
    await this.prune();
  }

}

function tableRecord(t: SnapshotTable): TableRecord {
  return { table: t.qualified, state: 'pending', rowsDone: 0, rowsEstimated: t.estimatedRows, chunks: 0, lastKey: null };
}

function now(): string {
  return new Date().toISOString();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `b-20261207-021700-3f2a`: sortable, unique enough within a source. */
function newId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const random = crypto.getRandomValues(new Uint16Array(1))[0]!.toString(16).padStart(4, '0');
  return `b-${stamp}-${random}`;
}
