/**
 * Capped exponential backoff for retrying a sink write or a source acknowledgement.
 * Pure: the caller owns the timer.
 */

/** Largest exponent used, so `2 ** n` never overflows into Infinity/NaN arithmetic. */
const MAX_EXPONENT = 30;

/**
 * Delay before retry number `retry` (1 for the first retry): `initialMs`, then doubling, never more
 * than `maxMs` (a cap below `initialMs` is raised to it, so the first retry waits what the config says).
 */
export function retryDelay(retry: number, initialMs: number, maxMs: number): number {
  const cap = Math.max(initialMs, maxMs);
  const exponent = Math.min(Math.max(retry - 1, 0), MAX_EXPONENT);
  return Math.min(cap, initialMs * 2 ** exponent);
}
