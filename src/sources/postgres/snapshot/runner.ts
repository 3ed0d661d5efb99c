/**
 * The snapshots of one PostgreSQL source (docs/snapshots.md): the initial copy (`snapshot =
 * "initial" | "initial_only"`) and ad-hoc backfills, one chunk at a time, round-robin between the
 * snapshots in progress. A chunk: wait until the stream runs and is not behind (throttle), open a
 * window in the stream (window.ts), read the chunk in its own short read-only transaction
 * (chunk-reader.ts), turn its rows into events exactly as the stream does, hand them to the
 * window, and once the stream has passed the chunk's WAL target and the pipeline acknowledged the
 * chunk's mark, persist the last key. A crash replays at most the chunks after that.
 *
 * Implements SnapshotControl for the HTTP API and the `snapshot` command.
 */
import { describeError, StreamerError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import { RawJson, type ChangeEvent, type ColumnValue } from '../../../event/event.ts';
import type { ConnectOptions } from '../../../pg/options.ts';
import { PgConnectError } from '../../../pg/errors.ts';
import { SqlClient } from '../../../pg/sql-client.ts';
import { decodePgoutput } from '../../../pgoutput/decode.ts';
import type { RowMessage } from '../../../pgoutput/messages.ts';
import { RelationCache, type RelationInfo } from '../../../pgoutput/relations.ts';
import { formatLsn } from '../../../replication/lsn.ts';
import type { StateStore } from '../../../state/store.ts';
import type { EventFactory } from '../events.ts';
import { readChunk, readKeys, type ChunkRead } from './chunk-reader.ts';
import { encodeInsertMessages, type InsertMessages } from './insert-message.ts';
import type { ChunkMark } from './mark.ts';
import { parsePgSnapshot, walTarget, type WalGeometry } from './pg-snapshot.ts';
import { progressLine, summaryLine } from './progress-text.ts';
import { decodeRecord, encodeRecord, RateWindow, snapshotInfo, type SnapshotRecord, type TableRecord } from './record.ts';
import { parseTableName } from './request-text.ts';
import { resolveSnapshotTables, validateWhere, type SnapshotTable } from './tables.ts';
import { SnapshotRequestError, type SnapshotControl, type SnapshotInfo, type SnapshotMode, type SnapshotRequest } from './types.ts';
import type { ChunkWindow } from './window.ts';

/** How often the server is asked where its stream is while a chunk waits for its target. */
const REPLY_POLL_MS = 100;
/** Wait between checks while the stream is down or behind. */
const THROTTLE_POLL_MS = 200;
/** Waits after a failed chunk grow from this to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;
/** A table fails after this many failed reads in a row that were not connection problems. */
const TABLE_ATTEMPTS = 3;
/** Progress lines while a snapshot runs. */
const PROGRESS_LOG_MS = 10_000;
/**
 * A table's shape (columns, key, publication) is read again when this old, or at once when the
 * stream's Relation for it differs or a read failed: listing the publication's tables costs a few
 * milliseconds, more than a chunk's own queries.
 */
const SHAPE_TTL_MS = 5_000;
/** Moved keys read again per chunk, at most. */
const REFETCH_KEYS = 500;
/** A snapshot works on one table this long before the next snapshot in progress takes its turn. */
const SLICE_MS = 1_000;
/** Finished backfills kept (listed, persisted) per source; older ones are pruned. */
const KEEP_FINISHED = 20;

/** What the runner needs of its source. */
export interface SnapshotHooks {
  /** Opens a chunk window in the stream (dispatch.ts openWindow). */
  openWindow(schema: string, table: string): { window: ChunkWindow; mark: ChunkMark };
  /** The stream's event factory: snapshot rows are converted by the same code. */
  readonly events: EventFactory;
  /** Looks up user-defined types before rows of them are converted. */
  learnTypes(typeOids: readonly number[]): Promise<void>;
  /** Reports key moves of a table that left values Unchanged (stream-join.ts watch); returns the unwatch. */
  watchMoves(schema: string, table: string, moved: (event: ChangeEvent) => void): () => void;
  /** The Relation the stream last sent for this OID, if any (a schema change shows there first). */
  streamRelation(relationId: number): RelationInfo | undefined;
  /** True while the replication session streams. */
  streaming(): boolean;
  /** Asks the server for a keepalive now (it says how far the stream got). */
  requestReply(): void;
  /** Bytes of WAL received but not yet delivered. */
  lagBytes(): number;
  /** Resolves when the pipeline has room. */
  drained(): Promise<void>;
  /** `initial_only`: the initial copy is done and delivered (false: some table failed); the app may stop. */
  finished?(ok: boolean): void;
}

export interface SnapshotSettings {
  source: string;
  /** e.g. "Source-PSQL (db1)". */
  component: string;
  mode: SnapshotMode;
  connection: ConnectOptions;
  publications: readonly string[];
  chunkRows: number;
  chunkBytes: number;
  maxLagBytes: number;
  store: StateStore;
  log: Logger;
}

interface Running {
  record: SnapshotRecord;
  rate: RateWindow;
  cancelRequested: boolean;
  failures: number;
  lastProgressLog: number;
  /**
   * Where the next chunk of each table starts: after the last chunk pushed into the pipeline,
   * which may not be delivered yet (its progress is persisted when it is: `delivered`).
   */
  cursors: Map<string, { after: string[] | undefined; complete: boolean }>;
  /** Chunks pushed but not yet delivered, in order: each persists its progress once delivered. */
  delivered: Promise<void>;
  /** Per table being copied: ends the watch for key moves (see watchTable). */
  unwatch: Map<string, () => void>;
  /** Keys to read again that are in flight (JSON of the key texts). */
  refetching: Set<string>;
}

type ChunkOutcome = 'next' | 'again' | 'stopped';

/** A chunk read and waiting in its window. */
interface Reading {
  window: ChunkWindow;
  mark: ChunkMark;
  read: ChunkRead;
}

export class SnapshotRunner implements SnapshotControl {
  private readonly snapshots: Running[] = [];
  private readonly relations = new RelationCache();
  /** Table shapes by `schema.table`, with when they were read (see SHAPE_TTL_MS). */
  private readonly shapes = new Map<string, { shape: SnapshotTable; at: number }>();
  private client: SqlClient | undefined;
  private geometry: WalGeometry | undefined;
  private stopped = false;
  private signalStop!: () => void;
  private readonly stopSignal = new Promise<void>((resolve) => {
    this.signalStop = resolve;
  });
  private started = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  /** Windows of this runner's chunks in flight (closed on cancel and stop). */
  private readonly windows = new Set<ChunkWindow>();
  private turn = 0;
  /** What /status says about the snapshots (null: nothing to say). */
  problem: string | null = null;

  constructor(private readonly settings: SnapshotSettings, private readonly hooks: SnapshotHooks) {}

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
      for (const table of s.record.tables) if (table.state === 'running' && table.lastKey !== null) this.watchTable(s, table);
    }
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
    for (const window of this.windows) window.close();
    this.wake?.();
    await this.loopDone;
    await this.client?.close();
    this.client = undefined;
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
    if (this.current === s) for (const window of this.windows) window.close();
    record.state = 'cancelled';
    record.finishedAt = now();
    for (const t of record.tables) {
      if (t.state === 'pending' || t.state === 'running') t.state = 'cancelled';
      this.unwatchTable(s, t);
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
    return { record, rate: new RateWindow(), cancelRequested: false, failures: 0, lastProgressLog: 0, cursors: new Map(), delivered: Promise.resolve(), unwatch: new Map(), refetching: new Set() };
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
        await this.closeClient();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
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
    if (err instanceof PgConnectError || this.client?.closed) {
      void this.closeClient();
      return false;
    }
    const table = s.record.tables.find((t) => t.state === 'running');
    if (table === undefined || ++s.failures < TABLE_ATTEMPTS) return false;
    s.failures = 0;
    table.state = 'failed';
    this.unwatchTable(s, table);
    table.error = describeError(err);
    this.settings.log.error(`Snapshot ${s.record.id}: table ${table.table} failed after ${TABLE_ATTEMPTS} attempts: ${table.error}; its rows delivered so far stay delivered`);
    void this.persist(s.record).catch((e: unknown) => this.settings.log.error(describeError(e)));
    return true;
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).then(() => {
      this.wake = undefined;
    });
  }

  /** One step of one snapshot: plan it, or one chunk of its first unfinished table, or finish it. */
  private async step(s: Running): Promise<ChunkOutcome> {
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
    const outcome = await this.chunks(s, table);
    const at = performance.now();
    if (outcome === 'next' && at - s.lastProgressLog >= PROGRESS_LOG_MS) {
      s.lastProgressLog = at;
      this.settings.log.info(progressLine(this.infoOf(s)));
    }
    return outcome;
  }

  /** The initial snapshot's tables: every table the publication(s) publish. */
  private async plan(record: SnapshotRecord): Promise<void> {
    const { tables, refused } = await resolveSnapshotTables(await this.sql(), this.settings.publications, 'all');
    record.tables = tables.map((t) => tableRecord(t));
    for (const r of refused) {
      this.settings.log.error(`Snapshot ${record.id}: table ${r.table} is not copied: ${r.reason}`);
      record.tables.push({ table: r.table, state: 'failed', rowsDone: 0, rowsEstimated: 0, chunks: 0, lastKey: null, error: r.reason });
    }
    record.planned = true;
    await this.persist(record);
  }

  private async finish(s: Running): Promise<void> {
    await Promise.race([s.delivered, this.stoppedPromise()]);
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

  /**
   * Chunks of `table` for up to SLICE_MS: each is read while the one before is built, joins the
   * stream, is delivered and persisted (the server reads the next rows meanwhile), so at most two
   * chunks are in memory. Returns after the slice, so snapshots in progress take turns.
   */
  private async chunks(s: Running, table: TableRecord): Promise<ChunkOutcome> {
    const cursor = s.cursors.get(table.table) ?? { after: table.lastKey ?? undefined, complete: false };
    s.cursors.set(table.table, cursor);
    if (cursor.complete) {
      // Every chunk is pushed: the table is done once they are delivered and its moved rows read again.
      await Promise.race([s.delivered, this.stoppedPromise()]);
      if (this.stopped) return 'stopped';
      if ((table.refetch?.length ?? 0) === 0) {
        if (table.state === 'running') table.state = 'done';
        return 'next';
      }
    }
    if (!(await this.throttle())) return 'stopped';
    const client = await this.sql();
    const shape = await this.shapeOf(client, table.table);
    const relation = this.relationOf(shape);
    await this.hooks.learnTypes(relation.columns.map((c) => c.typeOid));
    if (shape.relation.replicaIdentity === 'f') this.hooks.events.setKeyColumns(shape.relationId, shape.keyColumns);
    const geometry = await this.walGeometry(client);
    if (!this.hooks.streaming() || this.stopped) return 'again';
    if (!cursor.complete) this.watchTable(s, table, shape);
    const refetch = (table.refetch ?? []).filter((key) => !s.refetching.has(JSON.stringify(key))).slice(0, REFETCH_KEYS);
    if (refetch.length > 0) return this.refetch(s, table, client, shape, relation, geometry, refetch);
    if (cursor.complete) return 'next';
    const sliceEnd = performance.now() + SLICE_MS;
    let reading = this.read(client, shape, cursor.after, s.record.where);
    for (;;) {
      let current: Reading;
      try {
        current = await reading;
      } catch (err) {
        this.shapes.delete(table.table);
        throw err;
      }
      if (s.cancelRequested || this.stopped) {
        current.window.close();
        return this.stopped ? 'stopped' : 'next';
      }
      // The next chunk is read while this one is built and joins the stream; the pipeline bounds
      // how many wait for the sinks (its room is awaited before the read after that).
      const more = !current.read.complete && current.read.lastKey !== undefined && performance.now() < sliceEnd &&
        this.active().length === 1 && this.hooks.lagBytes() <= this.settings.maxLagBytes;
      const next = more ? this.read(client, shape, current.read.lastKey, s.record.where) : undefined;
      let outcome: ChunkOutcome;
      try {
        outcome = await this.emit(s, table, relation, geometry, current);
        if (outcome === 'next') {
          cursor.after = current.read.lastKey ?? cursor.after;
          cursor.complete = current.read.complete;
          // Every row is on its way to the consumer now: later key moves are theirs to follow.
          if (cursor.complete) this.unwatchTable(s, table);
          await Promise.race([this.hooks.drained(), this.stoppedPromise()]);
          if (this.stopped) outcome = 'stopped';
        }
      } catch (err) {
        abandon(next);
        throw err;
      }
      if (outcome !== 'next' || next === undefined) {
        abandon(next);
        return outcome;
      }
      reading = next;
    }
  }

  /** Opens a window in the stream, then reads the chunk after `after` (the window notes what the stream does meanwhile). */
  private async read(client: SqlClient, shape: SnapshotTable, after: string[] | undefined, where: string | undefined): Promise<Reading> {
    const { window, mark } = this.hooks.openWindow(shape.schema, shape.name);
    this.windows.add(window);
    void window.ended.then(() => this.windows.delete(window));
    try {
      const read = await readChunk(client, shape, after, where, { rows: this.settings.chunkRows, bytes: this.settings.chunkBytes });
      return { window, mark, read };
    } catch (err) {
      window.close();
      throw err;
    }
  }

  /**
   * A chunk read: its rows become events and wait for their place in the stream; once pushed, its
   * progress is persisted when the pipeline says it was delivered (in order, after the chunks before).
   */
  private async emit(
    s: Running, table: TableRecord, relation: RelationInfo, geometry: WalGeometry, current: Reading, refetched?: () => void,
  ): Promise<ChunkOutcome> {
    const { window, mark, read } = current;
    const target = walTarget(read.walInsertLsn, geometry);
    const messages = encodeInsertMessages(relation.relationId, read.rows);
    const rowCount = read.rows.length;
    read.rows.length = 0;
    const rows: ChangeEvent[] = [];
    for (let i = 0; i < rowCount; i++) rows.push(this.snapshotEvent(relation, messages, i, Number(target)));
    const filled = window.fill(parsePgSnapshot(read.snapshot), target, rows);
    if (filled !== 'filled') {
      window.close();
      this.settings.log.debug(`Snapshot ${s.record.id}: chunk of ${table.table} read again: ${filled === 'race'
        ? 'a transaction streamed just before it was still running in its snapshot'
        : 'the stream changed too many of its rows meanwhile (a bulk change); waiting for the stream first'}`);
      if (filled === 'overflow') await delay(THROTTLE_POLL_MS * 5);
      return 'again';
    }
    // Until the stream passes the target, ask the server where it is: an idle server says so only when asked.
    this.hooks.requestReply();
    while (!(await Promise.race([window.ended, delay(REPLY_POLL_MS).then(() => undefined)]))) {
      if (this.stopped) return 'stopped';
      if (!window.open) break;
      this.hooks.requestReply();
    }
    if (!(await window.ended)) return s.cancelRequested ? 'next' : this.stopped ? 'stopped' : 'again';
    s.failures = 0;
    if (window.dropped > 0) this.settings.log.debug(`Snapshot ${s.record.id}: ${window.dropped} row(s) of ${table.table} left to the stream's newer changes (chunk at ${formatLsn(target)})`);
    const { lastKey, complete } = read;
    s.delivered = s.delivered.then(async () => {
      await Promise.race([mark.delivered, this.stoppedPromise()]);
      if (this.stopped) return;
      if (refetched !== undefined) refetched();
      else {
        table.rowsDone += rowCount;
        table.chunks++;
        if (lastKey !== undefined) table.lastKey = lastKey;
      }
      if (refetched === undefined && complete && table.state === 'running' && (table.refetch?.length ?? 0) === 0) table.state = 'done';
      s.rate.add(performance.now(), rowCount);
      if (!s.cancelRequested) {
        await this.persist(s.record).catch((err: unknown) => {
          this.settings.log.error(`Snapshot ${s.record.id}: ${describeError(err)}; after a restart the chunks since the last saved one are copied again`);
        });
      }
    });
    return 'next';
  }

  /** A chunk row as the stream would have made its insert, plus `"Snapshot":true`. */
  private snapshotEvent(relation: RelationInfo, messages: InsertMessages, index: number, lsn: number): ChangeEvent {
    const { buffer, offsets } = messages;
    const start = offsets[index]!;
    const end = offsets[index + 1]!;
    const events = this.hooks.events;
    const fast = events.rowFromBytes(buffer, start, end, relation, lsn, undefined, performance.now(), true);
    if (fast !== undefined) return fast;
    const event = events.row(decodePgoutput(buffer.subarray(start, end), { protoVersion: 1 }) as RowMessage, relation, BigInt(lsn), undefined);
    event.snapshot = true;
    return event;
  }

  /**
   * While `table` is copied, hears of rows the stream moves to another key leaving values Unchanged:
   * if the copy had not reached the row yet and has passed its new key, no chunk would ever carry
   * those values to a consumer that never had the row. Such keys are recorded (the record is
   * written at once, so it is on disk before the stream's position past the move is) and read again
   * before the table is done.
   */
  private watchTable(s: Running, table: TableRecord, shape?: SnapshotTable): void {
    if (s.unwatch.has(table.table)) return;
    const name = shape ?? parseTableName(table.table);
    const unwatch = this.hooks.watchMoves(shape?.schema ?? name.schema, shape?.name ?? name.name, (event) => {
      const key = (event.key ?? []).map((column) => keyText(event.columns[column]));
      if (key.length === 0 || key.some((text) => text === undefined)) {
        this.settings.log.warn(`Snapshot ${s.record.id}: a row of ${table.table} moved to another key during the copy cannot be read again ` +
          '(its key has no text form); back-fill the table once the snapshot is done if a consumer misses its Unchanged values');
        return;
      }
      const list = (table.refetch ??= []);
      if (list.some((k) => k.length === key.length && k.every((v, i) => v === key[i]))) return;
      list.push(key as string[]);
      void this.persist(s.record).catch((err: unknown) => this.settings.log.error(`Snapshot ${s.record.id}: ${describeError(err)}`));
    });
    s.unwatch.set(table.table, unwatch);
  }

  private unwatchTable(s: Running, table: TableRecord): void {
    s.unwatch.get(table.table)?.();
    s.unwatch.delete(table.table);
  }

  /** Reads the given moved keys again in one chunk; on delivery they are off the table's list. */
  private async refetch(
    s: Running, table: TableRecord, client: SqlClient, shape: SnapshotTable, relation: RelationInfo, geometry: WalGeometry, keys: string[][],
  ): Promise<ChunkOutcome> {
    const ids = keys.map((key) => JSON.stringify(key));
    for (const id of ids) s.refetching.add(id);
    const { window, mark } = this.hooks.openWindow(shape.schema, shape.name);
    this.windows.add(window);
    void window.ended.then(() => this.windows.delete(window));
    let outcome: ChunkOutcome;
    try {
      const read = await readKeys(client, shape, keys, s.record.where);
      outcome = await this.emit(s, table, relation, geometry, { window, mark, read }, () => {
        const done = new Set(ids);
        table.refetch = (table.refetch ?? []).filter((key) => !done.has(JSON.stringify(key)));
        for (const id of ids) s.refetching.delete(id);
      });
    } catch (err) {
      window.close();
      for (const id of ids) s.refetching.delete(id);
      throw err;
    }
    if (outcome !== 'next') for (const id of ids) s.refetching.delete(id);
    else this.settings.log.debug(`Snapshot ${s.record.id}: ${keys.length} row(s) of ${table.table} moved during the copy read again`);
    return outcome;
  }

  /** A table's shape, read again when old or when the stream's Relation for it says something else. */
  private async shapeOf(client: SqlClient, name: string): Promise<SnapshotTable> {
    const cached = this.shapes.get(name);
    if (cached !== undefined && performance.now() - cached.at < SHAPE_TTL_MS) {
      const streamed = this.hooks.streamRelation(cached.shape.relationId);
      if (streamed === undefined || sameColumns(streamed, cached.shape)) return cached.shape;
    }
    const { tables } = await resolveSnapshotTables(client, this.settings.publications, [name]);
    const shape = tables[0]!;
    this.shapes.set(name, { shape, at: performance.now() });
    return shape;
  }

  /** The relation of a table, the same object while its shape is unchanged (the event factory plans per object). */
  private relationOf(shape: SnapshotTable): RelationInfo {
    const known = this.relations.get(shape.relationId);
    if (known !== undefined && JSON.stringify(known.columns) === JSON.stringify(shape.relation.columns) &&
      known.replicaIdentity === shape.relation.replicaIdentity && known.name === shape.relation.name && known.namespace === shape.relation.namespace) {
      return known;
    }
    return this.relations.setRelation(shape.relation);
  }

  /** Waits until the stream runs, is not behind by more than snapshotMaxLag, and the pipeline has room. False once stopped. */
  private async throttle(): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      if (!this.hooks.streaming()) {
        await delay(THROTTLE_POLL_MS);
        continue;
      }
      if (this.hooks.lagBytes() > this.settings.maxLagBytes) {
        this.problem = null;
        await delay(THROTTLE_POLL_MS);
        continue;
      }
      await Promise.race([this.hooks.drained(), this.stoppedPromise()]);
      return !this.stopped;
    }
  }

  /** Resolves when stop() is called (one promise for every wait). */
  private stoppedPromise(): Promise<void> {
    return this.stopSignal;
  }

  private async sql(): Promise<SqlClient> {
    if (this.client === undefined || this.client.closed) {
      this.client = await SqlClient.connect(this.settings.connection);
      this.geometry = undefined;
    }
    return this.client;
  }

  private async closeClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }

  private async walGeometry(client: SqlClient): Promise<WalGeometry> {
    if (this.geometry !== undefined) return this.geometry;
    const rows = await client.query("SELECT name, setting FROM pg_catalog.pg_settings WHERE name IN ('wal_block_size', 'wal_segment_size')");
    const setting = (name: string) => Number(rows.find((r) => r[0] === name)?.[1]);
    const geometry = { blockSize: setting('wal_block_size'), segmentSize: setting('wal_segment_size') };
    if (!(geometry.blockSize > 0 && geometry.segmentSize > 0)) throw new Error(`cannot read wal_block_size and wal_segment_size (got ${JSON.stringify(rows)})`);
    this.geometry = geometry;
    return geometry;
  }
}

function sameColumns(relation: RelationInfo, shape: SnapshotTable): boolean {
  const columns = shape.relation.columns;
  return relation.columns.length === columns.length &&
    relation.columns.every((c, i) => c.name === columns[i]!.name && c.typeOid === columns[i]!.typeOid && c.typeModifier === columns[i]!.typeModifier);
}

/** A chunk read ahead that will not be used: its window is closed once the read settles. */
function abandon(next: Promise<Reading> | undefined): void {
  void next?.then((reading) => reading.window.close(), () => {});
}

/** A key column's value as text the server casts back to the column's type, or undefined when it has none (arrays, composites). */
function keyText(value: ColumnValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof RawJson) return value.json;
  return undefined;
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
