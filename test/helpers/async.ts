/**
 * Time and promises in tests: timers driven by hand, waiting for a condition or for pending
 * callbacks, a promise settled from outside, the error a promise rejects with.
 */
import type { StreamerError } from '../../src/core/errors.ts';
import type { Timers } from '../../src/core/timers.ts';

/** Timers driven by hand: nothing fires until `advance`. */
export class ManualTimers implements Timers {
  private time = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.time + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  now(): number {
    return this.time;
  }

  /** Number of timers waiting to fire. */
  get size(): number {
    return this.pending.size;
  }

  /** Moves the clock and fires every timer that is due, earliest first. */
  advance(ms: number): void {
    this.time += ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= this.time).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) return;
      this.pending.delete(due[0]);
      due[1].fn();
    }
  }
}

/** Waits until `cond()` holds, checking after each macrotask; fails after a generous deadline. */
export async function until(cond: () => boolean, what = 'condition', deadlineMs = 4_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Lets pending promise callbacks run (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function rejection<E = StreamerError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected a rejection');
}
