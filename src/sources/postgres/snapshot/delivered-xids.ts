/**
 * The transactions the stream delivered lately, for a chunk window's race check (window.ts fill;
 * docs/snapshots.md, "How a chunk joins the stream"). Pure.
 *
 * A transaction's commit is streamed once its WAL record is flushed, a moment before the server
 * shows it committed to new snapshots; on a loaded machine that moment can last while many other
 * transactions are streamed. A window notes only what the stream does after it opened, so a
 * transaction delivered before, yet not visible in the chunk's snapshot, means the chunk must be read
 * again. The check asks the snapshot's own lists (its in-progress xids, its xmax) against the last
 * HISTORY deliveries, so how many transactions streamed in that moment does not matter up to there.
 */
import { visibleIn, widenXid, type PgSnapshot } from './pg-snapshot.ts';

/** Deliveries remembered: far more than can stream while one committed transaction still shows as running. */
const HISTORY = 65_536;

/** What had been delivered when a window opened. */
export interface DeliveredMark {
  /** Deliveries before the window opened. */
  count: number;
  /** The newest xid (in xid order) delivered before it; undefined: none yet. */
  newest: number | undefined;
}

export class DeliveredXids {
  private readonly ring = new Uint32Array(HISTORY);
  /** xid → its delivery number, for the xids in the ring. */
  private readonly numbers = new Map<number, number>();
  private count = 0;
  private newest: number | undefined;

  /** The stream delivered transaction `xid` whole. */
  add(xid: number): void {
    const slot = this.count % HISTORY;
    if (this.count >= HISTORY) {
      const old = this.ring[slot]!;
      if (this.numbers.get(old) === this.count - HISTORY) this.numbers.delete(old);
    }
    this.ring[slot] = xid;
    this.numbers.set(xid, this.count++);
    if (this.newest === undefined || xidFollows(xid, this.newest)) this.newest = xid;
  }

  mark(): DeliveredMark {
    return { count: this.count, newest: this.newest };
  }

  /** True when a transaction delivered before `mark` was taken had not ended for `snapshot`. */
  unseenBefore(mark: DeliveredMark, snapshot: PgSnapshot): boolean {
    // At or past xmax: only the newest can be, if any is.
    if (mark.newest !== undefined && widenXid(mark.newest, snapshot.xmax) >= snapshot.xmax) return true;
    for (const full of snapshot.xip) {
      const xid = Number(full & 0xffff_ffffn);
      const delivered = this.numbers.get(xid);
      if (delivered !== undefined && delivered < mark.count && !visibleIn(snapshot, xid)) return true;
    }
    return false;
  }
}

/** True when `a` comes after `b` in PostgreSQL's circular 32-bit xid order. */
function xidFollows(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
