/**
 * One chunk of a snapshot between its read and its place in the stream (docs/snapshots.md, "How a
 * chunk joins the stream"). Pure: the dispatch tells it what the stream does, the runner what the
 * chunk read, and it answers which rows may still be emitted, and when.
 *
 * The window opens before the chunk is read. From then on every transaction of the stream is
 * noted with the keys of the window's table it changed. Once the chunk is in (its rows and MVCC
 * snapshot), a change by a transaction the snapshot did not see is newer than the chunk's row of
 * that key: the row is dropped, the stream's change stands. Changes by transactions it saw are
 * older, already in the row. When the stream reaches the chunk's WAL target, every transaction the
 * snapshot saw has been streamed, and what is left of the chunk goes out, before anything later.
 */
import type { ChangeEvent } from '../../../event/event.ts';
import { inProgressIn, visibleIn, type PgSnapshot } from './pg-snapshot.ts';
import type { Lsn } from '../../../replication/lsn.ts';

/** Keys a stream transaction changed in the window's table, before the chunk was in; null: truncated. */
interface Noted {
  xid: number;
  keys: string[] | null;
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
  /** Keys changed by transactions the snapshot did not see: their chunk rows are dropped. */
  private readonly superseded = new Set<string>();
  /** Truncated by a transaction the snapshot did not see: no row of the chunk goes out. */
  private truncated = false;
  /** Chunk rows dropped because the stream changed their key after the snapshot (known once taken). */
  dropped = 0;
  /** Resolves when the window is done: true when its rows were taken, false when it was closed. */
  readonly ended: Promise<boolean>;
  private settle!: (taken: boolean) => void;

  /**
   * `schema` and `table` as events name them; `keyOf` gives a chunk row's key as the stream's
   * changes are keyed (computed only when some change has to be matched). `recentXids`:
   * transactions the stream delivered just before the window opened (see fill).
   */
  constructor(
    readonly schema: string,
    readonly table: string,
    private readonly recentXids: readonly number[],
    private readonly keyOf: (event: ChangeEvent) => string,
  ) {
    this.ended = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get filled(): boolean {
    return this.phase === 'filled';
  }

  get open(): boolean {
    return this.phase === 'reading' || this.phase === 'filled';
  }

  get target(): Lsn {
    return this.targetLsn;
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

  /** The running transaction changed these keys of the window's table. */
  change(keys: readonly string[]): void {
    const current = this.current;
    if (current === undefined || !this.open) return;
    if (this.phase === 'reading') {
      if (current.keys !== null) for (const key of keys) current.keys.push(key);
      this.notedKeys += keys.length;
      return;
    }
    // Filled: `keys` null means the snapshot saw this transaction; nothing to drop.
    if (current.keys !== null) for (const key of keys) this.drop(key);
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
   * meanwhile. 'race': a transaction the stream had already delivered before the window opened was
   * still running in the snapshot (its commit was streamed before it became visible): where its
   * changes stand relative to the chunk cannot be told, so the chunk must be read again.
   */
  fill(snapshot: PgSnapshot, target: Lsn, rows: ChangeEvent[]): FillResult {
    if (this.phase !== 'reading') return 'filled';
    for (const xid of this.recentXids) if (inProgressIn(snapshot, xid)) return 'race';
    if (this.notedKeys > MAX_NOTED_KEYS) return 'overflow';
    this.snapshot = snapshot;
    this.targetLsn = target;
    this.rows = rows;
    this.phase = 'filled';
    for (const noted of this.noted) {
      if (visibleIn(snapshot, noted.xid)) continue;
      if (noted.keys === null) this.dropAll();
      else for (const key of noted.keys) this.drop(key);
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
    else if (this.superseded.size > 0) events = events.filter((event) => !this.superseded.has(this.keyOf(event)));
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

  private drop(key: string): void {
    if (this.index !== undefined) {
      const at = this.index.get(key);
      if (at !== undefined) this.rows[at] = DROPPED;
      return;
    }
    this.superseded.add(key);
    // Bounded by the chunk, not by how much of the table the stream changes meanwhile.
    if (this.superseded.size > Math.max(4 * this.rows.length, 10_000)) {
      this.index = new Map(this.rows.map((event, i) => [this.keyOf(event), i]));
      const keys = [...this.superseded];
      this.superseded.clear();
      for (const k of keys) this.drop(k);
    }
  }

  private dropAll(): void {
    this.truncated = true;
  }
}
