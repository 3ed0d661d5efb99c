/**
 * Commit times of the transactions a PostgreSQL source received, for the seconds-behind gauges
 * (docs/operations.md "WAL retention, lag and budget"). One ring entry per transaction (its commit
 * LSN and commit time, both known from its Begin), added at its Begin — so a transaction the source
 * is still reading counts too — and dropped once a position past its commit LSN is acknowledged
 * (the position pushed for it is its commit's end LSN): no cost per event. Dropping it observes
 * its commit → acknowledgement time (source_commit_to_ack_seconds).
 *
 * - delivered lag: 0 when every transaction received was acknowledged by every sink; otherwise
 *   now − commit time of the oldest transaction not yet acknowledged (how long the oldest change
 *   still waiting for the sinks has been committed).
 * - received lag: 0 once the server said there is nothing more to send (a keepalive between
 *   transactions); otherwise now − commit time of the last transaction whose Begin was read.
 *
 * Commit times come from the server's clock: a skew between the two hosts shows in both gauges
 * (never below 0).
 */
import type { Lsn } from '../../replication/lsn.ts';

const INITIAL_CAPACITY = 64;

export class CommitTimes {
  /** Commit LSNs as numbers: exact below 2^53 bytes of WAL, as the LSN gauges (a gauge needs no more). */
  private positions = new Float64Array(INITIAL_CAPACITY);
  private times = new Float64Array(INITIAL_CAPACITY);
  /** Index of the oldest entry and number of entries. */
  private head = 0;
  private size = 0;
  private lastBegin = Number.NaN;
  private caughtUpNow = true;

  /** Transactions received (Begin read) and not yet acknowledged. */
  get pending(): number {
    return this.size;
  }

  /**
   * The Begin of a transaction whose commit record is at `commitLsn`, committed at `commitMs`
   * (Unix ms): what has been received is that old. `pending` is false for a transaction already
   * delivered before a restart (its events are dropped, nothing of it waits for the sinks).
   */
  begin(commitLsn: Lsn, commitMs: number, pending: boolean): void {
    this.lastBegin = commitMs;
    this.caughtUpNow = false;
    if (!pending) return;
    if (this.size === this.positions.length) this.grow();
    const at = (this.head + this.size) & (this.positions.length - 1);
    this.positions[at] = Number(commitLsn);
    this.times[at] = commitMs;
    this.size++;
  }

  /** The server has nothing more to send for now (a keepalive between transactions). */
  caughtUp(): void {
    this.caughtUpNow = true;
  }

  /**
   * Everything up to and including `position` was acknowledged at `nowMs`: the transactions whose
   * commit record starts before it. (A keepalive's position, pushed between transactions, is at
   * most the next transaction's commit LSN, so it never drops that one.) `observe` gets each such
   * transaction's commit → acknowledgement time in seconds (never below 0).
   */
  delivered(position: Lsn, nowMs = Date.now(), observe?: (seconds: number) => void): void {
    const mask = this.positions.length - 1;
    const upTo = Number(position);
    while (this.size > 0 && (this.positions[this.head] as number) < upTo) {
      observe?.(Math.max(0, (nowMs - (this.times[this.head] as number)) / 1000));
      this.head = (this.head + 1) & mask;
      this.size--;
    }
  }

  /** Seconds the delivered position is behind (see the module comment). */
  deliveredLagSeconds(nowMs: number): number {
    if (this.size === 0) return 0;
    return Math.max(0, (nowMs - (this.times[this.head] as number)) / 1000);
  }

  /** Seconds the received position is behind (see the module comment). */
  receivedLagSeconds(nowMs: number): number {
    if (this.caughtUpNow || Number.isNaN(this.lastBegin)) return 0;
    return Math.max(0, (nowMs - this.lastBegin) / 1000);
  }

  private grow(): void {
    const capacity = this.positions.length * 2;
    const positions = new Float64Array(capacity);
    const times = new Float64Array(capacity);
    const mask = this.positions.length - 1;
    for (let i = 0; i < this.size; i++) {
      positions[i] = this.positions[(this.head + i) & mask] as number;
      times[i] = this.times[(this.head + i) & mask] as number;
    }
    this.positions = positions;
    this.times = times;
    this.head = 0;
  }
}
