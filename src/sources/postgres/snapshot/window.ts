/**
 * One chunk of a snapshot between its read and its place in the stream (docs/snapshots.md, "How a
 * chunk joins the stream"). Pure: the dispatch tells it what the stream does, the runner what the
 * chunk read, and it answers which rows may still be emitted, and when.
 *
 * The window opens before the chunk is read. From then on every transaction of the stream is
 * noted with the keys of the window's table it changed. Once the chunk is in (its rows and MVCC
 * snapshot), a change by a transaction the snapshot did not see is newer than the chunk's row of
 * that key: the row is dropped, the stream's change stands. Except an update that left TOAST values
 * unchanged (its event lists them in `Unchanged`, without values): a consumer that never had the row
 * would never get them, so the update's values are merged into the chunk's row instead, which goes
 * out as the row's current version (the unchanged values are the row's at the snapshot: the first
 * change the snapshot did not see follows the version it saw). Changes by transactions it saw are
 * older, already in the row. When the stream reaches the chunk's WAL target, every transaction the
 * snapshot saw has been streamed, and what is left of the chunk goes out, before anything later.
 */
import type { ChangeEvent } from '../../../event/event.ts';
import { visibleIn, type PgSnapshot } from './pg-snapshot.ts';
import type { Lsn } from '../../../replication/lsn.ts';

/** A key a stream change touched; `patch`: the change is an update listing Unchanged columns (merged, not dropped). */
interface Touch {
  key: string;
  patch: ChangeEvent | undefined;
}

/** Keys a stream transaction changed in the window's table, before the chunk was in; null: truncated. */
interface Noted {
  xid: number;
  keys: Touch[] | null;
}

export type FillResult = 'filled' | 'race' | 'overflow';

/**
 * Keys noted while a chunk is read, at most: a bulk change of the table meanwhile makes the chunk
 * be read again later (once the stream caught up) rather than hold a key per changed row.
 */
const MAX_NOTED_KEYS = 100_000;

/** Marks a dropped row in index mode. */
const DROPPED = Object.freeze({}) as ChangeEvent;

export class ChunkWindow {
  private phase: 'reading' | 'filled' | 'taken' | 'closed' = 'reading';
  private readonly noted: Noted[] = [];
  private notedKeys = 0;
  /** Filled and more keys superseded than the chunk has rows: rows are matched by an index of the chunk's keys instead. */
  private index: Map<string, number> | undefined;
  private current: Noted | undefined;
  private snapshot: PgSnapshot | undefined;
  private targetLsn: Lsn = 0n;
  private rows: ChangeEvent[] = [];
  /**
   * Keys changed by transactions the snapshot did not see: null, their chunk rows are dropped; a
   * list, only updates with Unchanged columns so far, merged into the row in this order.
   */
  private readonly superseded = new Map<string, ChangeEvent[] | null>();
  /** Truncated by a transaction the snapshot did not see: no row of the chunk goes out. */
  private truncated = false;
  /** Chunk rows dropped because the stream changed their key after the snapshot (known once taken). */
  dropped = 0;
  /** Resolves when the window is done: true when its rows were taken, false when it was closed. */
  readonly ended: Promise<boolean>;
  private settle!: (taken: boolean) => void;

  /**
   * `schema` and `table` as events name them; `keyOf` gives a chunk row's key as the stream's
   * changes are keyed (computed only when some change has to be matched). `unseenBefore`: true
   * when a transaction the stream delivered before the window opened, or was in the middle of, is
   * not visible in the snapshot (see fill).
   */
  constructor(
    readonly schema: string,
    readonly table: string,
    private readonly unseenBefore: (snapshot: PgSnapshot) => boolean,
    private readonly keyOf: (event: ChangeEvent) => string,
  ) {
    this.ended = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get open(): boolean {
    return this.phase === 'reading' || this.phase === 'filled';
  }

  /** A transaction of the stream begins. */
  begin(xid: number): void {
    if (!this.open) return;
    if (this.phase === 'reading') {
      this.current = { xid, keys: [] };
      this.noted.push(this.current);
    } else {
      this.current = { xid, keys: visibleIn(this.snapshot!, xid) ? null : [] };
    }
  }

  /**
   * The running transaction changed these keys of the window's table; `patch`: the change is an
   * update of one key whose event lists Unchanged columns.
   */
  change(keys: readonly string[], patch?: ChangeEvent): void {
    const current = this.current;
    if (current === undefined || !this.open) return;
    if (this.phase === 'reading') {
      if (current.keys !== null) for (const key of keys) current.keys.push({ key, patch });
      this.notedKeys += keys.length;
      return;
    }
    // Filled: `keys` null means the snapshot saw this transaction; nothing to drop.
    if (current.keys !== null) for (const key of keys) this.drop(key, patch);
  }

  /** The running transaction truncated the window's table. */
  truncate(): void {
    const current = this.current;
    if (current === undefined || !this.open) return;
    if (this.phase === 'reading') current.keys = null;
    else if (current.keys !== null) this.dropAll();
  }

  /**
   * The chunk is in: its snapshot, WAL target and rows (in key order). Applies what the stream did
   * meanwhile. 'race': a transaction the stream had already delivered before the window opened (or
   * was in the middle of) is not visible in the snapshot: its commit was streamed before the server
   * showed it committed, so it is in the snapshot's running list, or at or past its xmax when it was
   * the newest (xmax is the latest completed transaction + 1). Its changes before the window opened
   * were not noted, so the chunk must be read again.
   */
  fill(snapshot: PgSnapshot, target: Lsn, rows: ChangeEvent[]): FillResult {
    if (this.phase !== 'reading') return 'filled';
    if (this.unseenBefore(snapshot)) return 'race';
    if (this.notedKeys > MAX_NOTED_KEYS) return 'overflow';
    this.snapshot = snapshot;
    this.targetLsn = target;
    this.rows = rows;
    this.phase = 'filled';
    for (const noted of this.noted) {
      if (visibleIn(snapshot, noted.xid)) continue;
      if (noted.keys === null) this.dropAll();
      else for (const touch of noted.keys) this.drop(touch.key, touch.patch);
    }
    this.noted.length = 0;
    // The transaction still running keeps collecting against the snapshot's verdict.
    if (this.current !== undefined) this.current = { xid: this.current.xid, keys: visibleIn(snapshot, this.current.xid) ? null : [] };
    return 'filled';
  }

  /** True when the stream at `position` (a commit, or a keepalive's WAL end between transactions) has passed the target. */
  due(position: Lsn): boolean {
    return this.phase === 'filled' && position >= this.targetLsn;
  }

  /** The rows left, in key order; the window is done. */
  take(): ChangeEvent[] {
    this.phase = 'taken';
    let events = this.rows;
    const read = events.length;
    this.rows = [];
    if (this.truncated) events = [];
    else if (this.index !== undefined) events = events.filter((event) => event !== DROPPED);
    else if (this.superseded.size > 0) events = this.applySuperseded(events);
    this.dropped = read - events.length;
    this.settle(true);
    return events;
  }



  /** Given up (session ended, cancelled, read failed): nothing of it is emitted. */
  close(): void {
    if (this.phase === 'taken') return;
    this.phase = 'closed';
    this.rows = [];
    this.noted.length = 0;
    this.settle(false);
  }

  private drop(key: string, patch?: ChangeEvent): void {
    if (this.index !== undefined) {
      const at = this.index.get(key);
      if (at === undefined) return;
      const row = this.rows[at]!;
      if (row !== DROPPED) this.rows[at] = patch === undefined ? DROPPED : mergedRow(row, [patch]);
      return;
    }
    const entry = this.superseded.get(key);
    if (patch === undefined) this.superseded.set(key, null);
    else if (entry === undefined) this.superseded.set(key, [patch]);
    else entry?.push(patch);
    // Bounded by the chunk, not by how much of the table the stream changes meanwhile: past this,
    // the chunk's rows are indexed by key and changes apply to them at once.
    if (this.superseded.size > Math.max(4 * this.rows.length, 10_000)) {
      this.index = new Map(this.rows.map((event, i) => [this.keyOf(event), i]));
      const entries = [...this.superseded];
      this.superseded.clear();
      for (const [k, patches] of entries) {
        if (patches === null) this.drop(k);
        else for (const p of patches) this.drop(k, p);
      }
    }
  }

  /** The chunk's rows without the superseded ones, with the Unchanged-only updates merged in. */
  private applySuperseded(events: ChangeEvent[]): ChangeEvent[] {
    const out: ChangeEvent[] = [];
    for (const event of events) {
      const entry = this.superseded.get(this.keyOf(event));
      if (entry === undefined) out.push(event);
      else if (entry !== null) out.push(mergedRow(event, entry));
    }
    return out;
  }

  private dropAll(): void {
    this.truncated = true;
  }
}

/**
 * A chunk row with later updates applied (their columns; the Unchanged ones keep the row's): the
 * row's current version, still a snapshot row at the chunk's position, encoded afresh.
 */
export function mergedRow(row: ChangeEvent, updates: readonly ChangeEvent[]): ChangeEvent {
  const columns = { ...row.columns };
  for (const update of updates) Object.assign(columns, update.columns);
  return {
    source: row.source, host: row.host, database: row.database, schema: row.schema, table: row.table,
    action: 'insert', lsn: row.lsn, timestamp: row.timestamp, uuid: row.uuid, columns, key: row.key, snapshot: true,
  };
}
