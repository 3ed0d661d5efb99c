/**
 * Copying one table of a snapshot (docs/snapshots.md, "How a chunk joins the stream"), a slice at
 * a time, for the runner (runner.ts): wait until the stream runs and is not behind (throttle),
 * open a window in the stream (window.ts), read the chunk in its own short read-only transaction
 * (chunk-reader.ts) while the previous one joins the stream, turning its rows into events exactly
 * as the stream does while they arrive, hand them to the window, and once the stream has passed
 * the chunk's WAL target, push them; each chunk's progress is persisted when its mark comes back
 * delivered. Rows the stream moves past the copy are read again by key (watchTable, refetch).
 */
import { describeSize } from '../../../config/size.ts';
import { describeError } from '../../../core/errors.ts';
import type { ChangeEvent } from '../../../event/event.ts';
import type { SqlClient } from '../../../pg/sql-client.ts';
import { RelationCache, type RelationInfo } from '../../../pgoutput/relations.ts';
import { formatLsn } from '../../../replication/lsn.ts';
import { CopyConnections } from './copy-connections.ts';
import { readChunk, readKeys, type ChunkHint, type ChunkRead, type ChunkRowBuilder } from './chunk-reader.ts';
import type { ChunkMark } from './mark.ts';
import { MovedKeys, movedKey } from './moved-keys.ts';
import { parsePgSnapshot, walTarget, type WalGeometry } from './pg-snapshot.ts';
import type { RateWindow, SnapshotRecord, TableRecord } from './record.ts';
import { parseTableName } from './request-text.ts';
import type { SnapshotHooks, SnapshotSettings } from './source-hooks.ts';
import { resolveSnapshotTables, type SnapshotTable } from './tables.ts';
import { sameColumns } from './table-shape.ts';
import type { ChunkWindow } from './window.ts';

/** How often the server is asked where its stream is while a chunk waits for its target. */
const REPLY_POLL_MS = 100;
/** Wait between checks while the stream is behind. */
export const THROTTLE_POLL_MS = 200;
/**
 * Wait between checks until the stream runs: short, as a check is one flag, and a snapshot waits
 * for it at every start (a 1M-row copy takes a few seconds, docs/benchmarks.md).
 */
export const STREAM_POLL_MS = 20;
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

/** A snapshot in progress, as the runner tracks it. */
export interface Running {
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
  /** Per table: the keys rows were moved to, to read again (moved-keys.ts). */
  moved: Map<string, MovedKeys>;
}

export type ChunkOutcome = 'next' | 'again' | 'stopped';

/** A chunk read and waiting in its window. */
interface Reading {
  window: ChunkWindow;
  mark: ChunkMark;
  read: ChunkRead;
  /** Its rows' events, built as the rows arrived (eventBuilder). */
  rows: ChangeEvent[];
}

/** What a table copy needs of its runner. */
export interface CopyContext {
  stopped(): boolean;
  /** Resolves when the runner stops. */
  readonly stopSignal: Promise<void>;
  persist(record: SnapshotRecord): Promise<void>;
  /** True when this is the only snapshot in progress (then the next chunk is read ahead). */
  soleSnapshot(): boolean;
}

export class TableCopy {
  private readonly relations = new WeakMap<SnapshotTable, RelationInfo>();
  /** Table shapes by `schema.table`, with when they were read (see SHAPE_TTL_MS). */
  private readonly shapes = new Map<string, { shape: SnapshotTable; at: number }>();
  /** The connections the chunks and the catalog are read over (the runner closes them when a read fails). */
  readonly connections: CopyConnections;
  /** Per table (relation id), its last chunk's bytes per row: the next one's FETCH sizes (chunk-reader.ts). */
  private readonly hints = new Map<number, ChunkHint>();
  /** Why the copy waits right now (for /status), or null. */
  waiting: string | null = null;
  /** Windows of chunks in flight (closed on cancel and stop). */
  private readonly windows = new Set<ChunkWindow>();

  constructor(
    private readonly settings: SnapshotSettings,
    private readonly hooks: SnapshotHooks,
    private readonly context: CopyContext,
  ) {
    this.connections = new CopyConnections(settings.connection);
  }

  private get stopped(): boolean {
    return this.context.stopped();
  }

  /** Gives up every chunk in flight (cancel, stop): nothing of them is pushed. */
  closeWindows(): void {
    for (const window of this.windows) window.close();
  }

  /**
   * Chunks of `table` for up to SLICE_MS: each is read (and built) while the one before joins the
   * stream, is delivered and persisted (the server reads the next rows meanwhile), so at most two
   * chunks are in memory. Returns after the slice, so snapshots in progress take turns.
   */
  async copySlice(s: Running, table: TableRecord): Promise<ChunkOutcome> {
    const cursor = s.cursors.get(table.table) ?? { after: table.lastKey ?? undefined, complete: false };
    s.cursors.set(table.table, cursor);
    if (cursor.complete) {
      // Every chunk is pushed: the table is done once they are delivered and its moved rows read again.
      await Promise.race([s.delivered, this.context.stopSignal]);
      if (this.stopped) return 'stopped';
      if (movedKeysOf(s, table).size === 0) {
        if (table.state === 'running') this.tableDone(s, table);
        return 'next';
      }
    }
    if (!(await this.throttle())) return 'stopped';
    const shape = await this.shapeOf(await this.connections.sql(), table.table);
    const relation = this.relationOf(shape);
    await this.hooks.learnTypes(relation.columns.map((c) => c.typeOid));
    if (shape.relation.replicaIdentity === 'f') this.hooks.events.setKeyColumns(shape.relationId, shape.keyColumns);
    const geometry = await this.connections.walGeometry();
    if (!this.hooks.streaming() || this.stopped) return 'again';
    this.watchTable(s, table, shape);
    const refetch = movedKeysOf(s, table).take(REFETCH_KEYS);
    if (refetch.length > 0) return this.refetch(s, table, shape, relation, geometry, refetch);
    if (cursor.complete) return 'next';
    const sliceEnd = performance.now() + SLICE_MS;
    let reading = this.read(s, shape, relation, geometry, cursor.after);
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
      // The next chunk is read (and built) while this one joins the stream; the pipeline bounds
      // how many wait for the sinks (its room is awaited before the read after that).
      const more = !current.read.complete && current.read.lastKey !== undefined && performance.now() < sliceEnd &&
        this.context.soleSnapshot() && this.hooks.lagBytes() <= this.settings.maxLagBytes;
      const next = more ? this.read(s, shape, relation, geometry, current.read.lastKey) : undefined;
      let outcome: ChunkOutcome;
      try {
        outcome = await this.emit(s, table, geometry, current);
        if (outcome === 'next') {
          cursor.after = current.read.lastKey ?? cursor.after;
          cursor.complete = current.read.complete;
          await Promise.race([this.hooks.drained(), this.context.stopSignal]);
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

  /**
   * Opens a window in the stream, then reads the chunk after `after` (the window notes what the
   * stream does meanwhile), building its events as its rows arrive.
   */
  private async read(s: Running, shape: SnapshotTable, relation: RelationInfo, geometry: WalGeometry, after: string[] | undefined): Promise<Reading> {
    const { window, mark } = this.hooks.openWindow(shape.schema, shape.name);
    this.windows.add(window);
    void window.ended.then(() => this.windows.delete(window));
    try {
      const limits = { rows: this.settings.chunkRows, bytes: this.settings.chunkBytes };
      const rows: ChangeEvent[] = [];
      const builder = this.eventBuilder(s, relation, geometry, rows);
      const read = await readChunk(await this.connections.chunks(), shape, after, s.record.where, limits, this.hints.get(shape.relationId), builder);
      if (read.rows > 0) this.hints.set(shape.relationId, { valueBytesPerRow: read.bytes / read.rows });
      return { window, mark, read, rows };
    } catch (err) {
      window.close();
      throw err;
    }
  }

  /**
   * Each row as the stream would have made its insert, plus "Snapshot":true, its UUID from the
   * snapshot and its key, into `rows`; built while the server still sends the chunk's later rows.
   */
  private eventBuilder(s: Running, relation: RelationInfo, geometry: WalGeometry, rows: ChangeEvent[]): ChunkRowBuilder {
    const hooks = this.hooks;
    const events = hooks.events;
    const identity = events.snapshotIdentity(s.record.id, s.record.createdAt);
    let lsn = 0;
    // One processing timestamp per chunk, taken at its start (and formatted once: events.ts).
    let started = 0;
    return {
      start(walInsertLsn) {
        lsn = Number(walTarget(walInsertLsn, geometry));
        started = performance.now();
        // Asked now, the server's answer comes while the rows arrive: the window (the stream
        // passing lsn) can end as soon as they are in, not a round trip later.
        hooks.requestReply();
      },
      row(data, start, end) {
        rows.push(events.snapshotRow(data, start, end, relation, lsn, started, identity));
      },
    };
  }

  /**
   * A chunk read: its rows become events and wait for their place in the stream; once pushed, its
   * progress is persisted when the pipeline says it was delivered (in order, after the chunks before).
   */
  private async emit(
    s: Running, table: TableRecord, geometry: WalGeometry, current: Reading, refetched?: () => void,
  ): Promise<ChunkOutcome> {
    const { window, mark, read, rows } = current;
    // The window has them now: the reading must not keep them alive once they are delivered.
    current.rows = [];
    const target = walTarget(read.walInsertLsn, geometry);
    const rowCount = read.rows;
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
    // Waited for even after a stop: the shutdown's drain still delivers the chunks pushed before it,
    // and their progress is saved; the source's close abandons the rest (their marks). Not a race
    // with a signal that settles only at close: a closure subscribed to it per chunk kept every
    // chunk's rows alive until then (≈ 300 MB more on a loaded machine).
    s.delivered = s.delivered.then(async () => {
      if (!(await mark.delivered)) return;
      if (refetched !== undefined) refetched();
      else {
        table.rowsDone += rowCount;
        table.chunks++;
        if (lastKey !== undefined) table.lastKey = lastKey;
      }
      if (refetched === undefined && complete && table.state === 'running' && movedKeysOf(s, table).size === 0) this.tableDone(s, table);
      s.rate.add(performance.now(), rowCount);
      if (!s.cancelRequested) {
        await this.context.persist(s.record).catch((err: unknown) => {
          this.settings.log.error(`Snapshot ${s.record.id}: ${describeError(err)}; after a restart the chunks since the last saved one are copied again`);
        });
      }
    });
    return 'next';
  }

  /**
   * While `table` is copied, hears of rows the stream moves to another key leaving values Unchanged:
   * if the copy had not reached the row yet and has passed its new key, no chunk would ever carry
   * those values to a consumer that never had the row. Such keys are recorded (the record is
   * written at once, so it is on disk before the stream's position past the move is) and read again
   * before the table is done.
   */
  watchTable(s: Running, table: TableRecord, shape?: SnapshotTable): void {
    if (s.unwatch.has(table.table)) return;
    const name = shape ?? parseTableName(table.table);
    const unwatch = this.hooks.watchMoves(shape?.schema ?? name.schema, shape?.name ?? name.name, (event) => {
      const key = movedKey(event);
      if (key === undefined) {
        this.settings.log.warn(`Snapshot ${s.record.id}: a row of ${table.table} moved to another key during the copy cannot be read again ` +
          '(its key has no text form); back-fill the table once the snapshot is done if a consumer misses its Unchanged values');
        return;
      }
      if (!movedKeysOf(s, table).add(key)) return;
      void this.context.persist(s.record).catch((err: unknown) => this.settings.log.error(`Snapshot ${s.record.id}: ${describeError(err)}`));
    });
    s.unwatch.set(table.table, unwatch);
  }

  /**
   * Every chunk and every moved row is delivered. Only now does the watch end: a row read again
   * can be moved again while its read is in flight (the window then leaves it to the stream).
   */
  private tableDone(s: Running, table: TableRecord): void {
    table.state = 'done';
    this.unwatchTable(s, table);
  }

  unwatchTable(s: Running, table: TableRecord): void {
    s.unwatch.get(table.table)?.();
    s.unwatch.delete(table.table);
  }

  /** Reads the given moved keys again in one chunk; on delivery they are off the table's list (moved-keys.ts). */
  private async refetch(
    s: Running, table: TableRecord, shape: SnapshotTable, relation: RelationInfo, geometry: WalGeometry, keys: string[][],
  ): Promise<ChunkOutcome> {
    const moved = movedKeysOf(s, table);
    const { window, mark } = this.hooks.openWindow(shape.schema, shape.name);
    this.windows.add(window);
    void window.ended.then(() => this.windows.delete(window));
    let outcome: ChunkOutcome;
    try {
      const rows: ChangeEvent[] = [];
      const read = await readKeys(await this.connections.chunks(), shape, keys, s.record.where, this.eventBuilder(s, relation, geometry, rows));
      outcome = await this.emit(s, table, geometry, { window, mark, read, rows }, () => moved.delivered(keys));
    } catch (err) {
      window.close();
      moved.abandoned(keys);
      throw err;
    }
    if (outcome !== 'next') moved.abandoned(keys);
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

  /** The relation of a table shape, one object per shape read (the event factory plans per object; see shapeOf). */
  private relationOf(shape: SnapshotTable): RelationInfo {
    let relation = this.relations.get(shape);
    if (relation === undefined) this.relations.set(shape, (relation = new RelationCache().setRelation(shape.relation)));
    return relation;
  }

  /** Waits until the stream runs, is not behind by more than snapshotMaxLag, and the pipeline has room. False once stopped. */
  private async throttle(): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      if (!this.hooks.streaming()) {
        await delay(STREAM_POLL_MS);
        continue;
      }
      const lag = this.hooks.lagBytes();
      if (lag > this.settings.maxLagBytes) {
        this.waiting = `snapshot paused: the stream is ${describeSize(lag)} behind (snapshotMaxLag ${describeSize(this.settings.maxLagBytes)})`;
        await delay(THROTTLE_POLL_MS);
        continue;
      }
      this.waiting = null;
      await Promise.race([this.hooks.drained(), this.context.stopSignal]);
      return !this.stopped;
    }
  }
}

function movedKeysOf(s: Running, table: TableRecord): MovedKeys {
  let moved = s.moved.get(table.table);
  if (moved === undefined) s.moved.set(table.table, (moved = new MovedKeys(table)));
  return moved;
}

/** A chunk read ahead that will not be used: its window is closed once the read settles. */
function abandon(next: Promise<Reading> | undefined): void {
  void next?.then((reading) => reading.window.close(), () => {});
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
