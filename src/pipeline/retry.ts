/**
 * The pipeline's one retry loop, shared by delivery to a sink and acknowledgement to the source
 * (docs/delivery.md): try until the step succeeds; a retryable error is reported and waited out,
 * a permanent one (or any error once the pipeline stopped) ends the loop by throwing STOP.
 * No timers or logging of its own: the caller hands in how to report and how to wait.
 */
import { isRetryable } from '../core/errors.ts';

/** Thrown when the pipeline was halted or closed: unwinds the delivery loop without acking. */
export const STOP = Symbol('pipeline stopped');

/** What the loop asks of its caller. */
export interface RetryHooks {
  /** True once the pipeline is halted or closed: a failure then is not looked at, STOP is thrown. */
  stopped(): boolean;
  /** A non-retryable error: the caller halts the pipeline; STOP is thrown after. */
  permanent(err: unknown): void;
  /** Attempt number `retry` (1 for the first failure) failed with a retryable error. */
  retrying(retry: number, err: unknown): void;
  /** Waits before retry number `retry`, after `err`; throws STOP when the pipeline stops meanwhile. */
  wait(retry: number, err: unknown): Promise<void>;
}

/** Runs `attempt` until it resolves; returns how many retries that took. Throws STOP (see RetryHooks). */
export async function retryUntilDone(attempt: () => Promise<unknown>, hooks: RetryHooks): Promise<number> {
  for (let retry = 1; ; retry++) {
    let failure: unknown;
    try {
      await attempt();
      return retry - 1;
    } catch (err) {
      if (hooks.stopped()) throw STOP;
      if (!isRetryable(err)) {
        hooks.permanent(err);
        throw STOP;
      }
      hooks.retrying(retry, err);
      failure = err;
    }
    await hooks.wait(retry, failure);
  }
}
