/**
 * The reconnect loop every source runs (docs/operations.md): one attempt at a time (connect, then
 * stream until it fails), a failed attempt is retried after a capped exponential backoff
 * (core/backoff.ts), an attempt that got somewhere starts the series over, and stop() ends the
 * loop at once, cutting a wait short. The source says what an attempt is and what a failure means
 * (retry with backoff, wait a steady interval, or give up); the loop owns the counting and the waits.
 */
import { retryDelay } from '../core/backoff.ts';
import { realTimers, sleep, type Sleep, type Timers } from '../core/timers.ts';

/** What to do after a failed attempt. */
export type ReconnectDecision =
  /** Wait the backoff's delay (the `waitMs` handed to `failed`), then try again. */
  | 'backoff'
  /** Wait this long, then try again, and start the backoff series over (e.g. standing by for a slot). */
  | { steadyMs: number }
  /** End the loop. */
  | 'halt';

export interface ReconnectAttempts {
  /**
   * One attempt: resolves when it ended without an error (the loop then goes on at once unless
   * stopped), rejects with why it failed. Calling `progressed()` says it got somewhere (data came):
   * a failure after that waits the first delay again.
   */
  attempt(progressed: () => void): Promise<void>;
  /** An attempt failed while the loop was not stopped; `waitMs` is the backoff's delay for it. */
  failed(err: unknown, waitMs: number): ReconnectDecision;
  /** After each attempt, failed or not. */
  ended?(): void;
}

export interface ReconnectOptions {
  /** The first delay; doubled per failure in a row. */
  firstMs: number;
  /** The longest delay (a value below firstMs counts as firstMs). */
  maxMs: number;
  timers?: Timers;
}

export class ReconnectLoop {
  private stopped = false;
  private wait: Sleep | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: ReconnectOptions) {}

  /** True once stop() was called. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Starts the loop (once). */
  start(attempts: ReconnectAttempts): void {
    this.running ??= this.run(attempts);
  }

  /** Ends the loop: no new attempt starts, a wait in progress is cut short. */
  stop(): void {
    this.stopped = true;
    this.wait?.cancel();
  }

  /** Resolves when the loop has ended (at once if it never started). */
  done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async run(attempts: ReconnectAttempts): Promise<void> {
    const { firstMs, maxMs } = this.options;
    let failures = 0;
    while (!this.stopped) {
      let progressed = false;
      let failure: { err: unknown } | undefined;
      try {
        await attempts.attempt(() => {
          progressed = true;
        });
      } catch (err) {
        failure = { err };
      }
      // Before the wait: a source is not connected while it waits.
      attempts.ended?.();
      if (failure === undefined) {
        failures = 0;
        continue;
      }
      if (this.stopped) break;
      failures = progressed ? 1 : failures + 1;
      const backoffMs = retryDelay(failures, firstMs, maxMs);
      const decision = attempts.failed(failure.err, backoffMs);
      if (decision === 'halt') break;
      if (decision === 'backoff') {
        await this.pause(backoffMs);
      } else {
        failures = 0;
        await this.pause(decision.steadyMs);
      }
    }
  }

  /** Waits `ms` unless stop() cuts the wait short. */
  private async pause(ms: number): Promise<void> {
    if (this.stopped) return;
    this.wait = sleep(this.options.timers ?? realTimers, ms);
    await this.wait.done;
    this.wait = undefined;
  }
}
