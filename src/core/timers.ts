/** The clock and timers the pipeline uses; injectable so tests can drive time by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Milliseconds, monotonic. */
  now(): number;
}

/** The process's real timers and monotonic clock. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
};

/** A wait that can be cut short: `cancel()` settles `done` at once (with `false`). */
export interface Sleep {
  /** Resolves `true` when the time elapsed, `false` when cancelled. */
  done: Promise<boolean>;
  cancel(): void;
}

/** Starts a cancellable wait of `ms` on `timers`. */
export function sleep(timers: Timers, ms: number): Sleep {
  let settle!: (elapsed: boolean) => void;
  const done = new Promise<boolean>((resolve) => { settle = resolve; });
  const handle = timers.setTimeout(() => settle(true), ms);
  return {
    done,
    cancel: () => {
      timers.clearTimeout(handle);
      settle(false);
    },
  };
}
