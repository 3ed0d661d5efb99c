/**
 * Where the PostgreSQL source stands in the WAL, and how a delivered position becomes durable
 * (docs/delivery.md): acknowledged by every sink → persisted in the state store → confirmed to
 * PostgreSQL (minus walRetain). A state machine with no I/O of its own: it is handed the state
 * store and the timers, and says what happened through its hooks. Also keeps the positions a
 * session starts from: the highest one pushed (a new session resumes after it without duplicates),
 * the restart point of the running session, and whether walPositionOverride still applies.
 */
import { StreamerError, describeError } from '../../core/errors.ts';
import type { Timers } from '../../core/timers.ts';
import { formatLsn, type Lsn } from '../../replication/lsn.ts';
import type { StateStore } from '../../state/store.ts';

/**
 * Delivered positions are persisted at once when the last write is this old, otherwise when it
 * gets this old: at most 10 state-file commits (fsyncs) a second however small the batches, at the
 * price of replaying at most this much after a crash. Confirmation follows persistence, as ever.
 */
export const PERSIST_INTERVAL_MS = 100;

export interface PositionTrackerOptions {
  /** The source's name: its key in the state store. */
  name: string;
  store: StateStore;
  timers: Timers;
  /** Bytes of WAL kept behind the persisted position when confirming (0: confirm what is persisted). */
  walRetain: number;
  /** Names the source in errors, e.g. "Source-PSQL (db1)". */
  component: string;
  /** Every sink has everything up to `position` (before it is persisted). */
  onDelivered?(position: Lsn): void;
  /** A write finished: `persisted` moved. */
  onPersisted?(): void;
  /** A write started in the background failed (STATE_STORE); the next acknowledgement retries it. */
  onBackgroundFailure(err: unknown): void;
}

export class PositionTracker {
  /** Durable in the state store (or walPositionOverride until something newer was written). */
  private persistedLsn: Lsn = 0n;
  /** Acknowledged by every sink; persisted by persistDelivered (see PERSIST_INTERVAL_MS). */
  private deliveredLsn: Lsn = 0n;
  /** Highest position pushed to the pipeline: where a new session resumes without duplicates. */
  private lastPushedLsn: Lsn = 0n;
  /** Transactions whose commit LSN is below this were delivered before (restart point of this session). */
  skipBefore: Lsn = 0n;
  /** The resume position is walPositionOverride's until anything was pushed. */
  private override = false;
  /** The state store's value as this tracker last read or wrote it; anything else was written by another instance. */
  private storedSeen: Lsn = 0n;
  private lastPersistAt = Number.NEGATIVE_INFINITY;
  private timer: unknown;
  private timerSet = false;
  /** The last write to the state store failed: the next acknowledgement writes at once (and throws). */
  private failed = false;
  /** The write in progress (settles, never rejects), if any. */
  private persisting: Promise<void> | undefined;
  private stopped = false;
  private errors = 0;

  constructor(private readonly options: PositionTrackerOptions) {}

  get persisted(): Lsn {
    return this.persistedLsn;
  }

  get delivered(): Lsn {
    return this.deliveredLsn;
  }

  get lastPushed(): Lsn {
    return this.lastPushedLsn;
  }

  get fromOverride(): boolean {
    return this.override;
  }

  /** Failed writes so far. */
  get persistErrors(): number {
    return this.errors;
  }

  /** What may be confirmed to PostgreSQL: the persisted position minus walRetain. */
  get confirmed(): Lsn {
    const retained = this.persistedLsn - BigInt(this.options.walRetain);
    return retained > 0n ? retained : 0n;
  }

  /**
   * Reads the stored position and starts from it, or from `override` when that is set (> 0).
   * Returns the stored position; throws what the store throws when it cannot be read.
   */
  load(override: Lsn): Lsn {
    const stored = this.options.store.getPosition(this.options.name) ?? 0n;
    this.override = override > 0n;
    this.persistedLsn = override > 0n ? override : stored;
    this.storedSeen = stored;
    this.deliveredLsn = this.persistedLsn;
    this.lastPushedLsn = this.persistedLsn;
    return stored;
  }

  /**
   * Another instance sharing the state file (the active one of a warm standby pair) may have
   * delivered and persisted past everything this one pushed: resume after it, not from the slot's
   * older confirmed position, so nothing it delivered comes again and the stored position never
   * goes back. A value this tracker wrote itself, or an older one (walPositionOverride), is kept.
   * Returns the adopted position, or undefined when nothing changed.
   */
  adoptStored(): Lsn | undefined {
    const stored = this.options.store.getPosition(this.options.name) ?? 0n;
    if (stored === this.storedSeen || stored <= this.lastPushedLsn) return undefined;
    this.storedSeen = stored;
    this.override = false;
    this.persistedLsn = stored;
    this.deliveredLsn = stored;
    this.lastPushedLsn = stored;
    return stored;
  }

  /**
   * PostgreSQL streams nothing before `position` (the slot's start, or a walPositionOverride ahead
   * of it). When the state file holds an older position (a gap the operator accepted, an override
   * ahead of it), this one is recorded now, before anything is confirmed: otherwise a crash or a
   * reconnect before the first acknowledgement finds the slot ahead of the file and refuses a start
   * that was already accepted (docs/operations.md "Positions the server must agree with"). Without
   * a saved position there is nothing to refuse, and the first acknowledgement writes the first.
   */
  async recordAcceptedStart(position: Lsn): Promise<void> {
    const { store, name } = this.options;
    const stored = store.getPosition(name) ?? 0n;
    if (stored === 0n || position <= stored) return;
    await store.setPosition(name, position);
    this.storedSeen = position;
    if (position > this.persistedLsn) this.persistedLsn = position;
    if (position > this.deliveredLsn) this.deliveredLsn = position;
    if (position > this.lastPushedLsn) this.lastPushedLsn = position;
  }

  /** A position was pushed to the pipeline. */
  pushed(position: Lsn): void {
    this.lastPushedLsn = position;
    this.override = false;
  }

  /**
   * Every sink has what came before and including the last position: persist it, then confirm it.
   * The write is started here (at once, or when the last one is PERSIST_INTERVAL_MS old) and not
   * awaited: the next batch need not wait for the disk. A failed write is reported and retried; the
   * next acknowledgement that finds the last write failed awaits its own, so a lasting failure
   * fails acknowledgements as the pipeline expects (retried with backoff, never skipped).
   */
  async ack(positions: readonly Lsn[]): Promise<void> {
    const position = positions[positions.length - 1];
    if (position === undefined || position <= this.deliveredLsn) return;
    this.deliveredLsn = position;
    this.options.onDelivered?.(position);
    if (this.failed) {
      await this.persisting;
      await this.persistDelivered();
      return;
    }
    this.schedule();
  }

  /** No more writes in the background (close() still writes what was delivered). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Cancels the timer, waits for the write in progress, then writes what was delivered since.
   * Rejects with a STATE_STORE error when that last write fails.
   */
  async close(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.persisting;
    await this.persistDelivered();
  }

  private schedule(): void {
    if (this.persisting !== undefined || this.timerSet || this.deliveredLsn <= this.persistedLsn) return;
    const timers = this.options.timers;
    const wait = this.lastPersistAt + PERSIST_INTERVAL_MS - timers.now();
    if (wait > 0) {
      this.timerSet = true;
      this.timer = timers.setTimeout(() => {
        this.timerSet = false;
        this.schedule();
      }, wait);
      return;
    }
    this.persistDelivered().catch((err: unknown) => this.options.onBackgroundFailure(err));
  }

  private clearTimer(): void {
    if (!this.timerSet) return;
    this.options.timers.clearTimeout(this.timer);
    this.timerSet = false;
  }

  /** Writes the delivered position to the state store; rejects with a STATE_STORE error when it cannot. */
  private persistDelivered(): Promise<void> {
    const position = this.deliveredLsn;
    if (position <= this.persistedLsn) return Promise.resolve();
    const { store, name, timers, component } = this.options;
    this.lastPersistAt = timers.now();
    const write = store.setPosition(name, position).then(
      () => {
        this.failed = false;
        this.storedSeen = position;
        if (position > this.persistedLsn) this.persistedLsn = position;
        this.options.onPersisted?.();
      },
      (err: unknown) => {
        this.errors++;
        this.failed = true;
        throw new StreamerError('STATE_STORE', `unable to persist position ${formatLsn(position)}: ${describeError(err)}`, { cause: err, component });
      },
    );
    const settled = write.then(() => {}, () => {});
    this.persisting = settled;
    void settled.then(() => {
      if (this.persisting !== settled) return;
      this.persisting = undefined;
      if (!this.failed && !this.stopped) this.schedule();
    });
    return write;
  }
}
