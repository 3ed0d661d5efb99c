/**
 * Bounds on how long a call to a client may hold its caller.
 */

/**
 * Settles within `ms`, whatever the client does: a call the client never settles (it happens when a
 * connection fails in an unexpected way) fails with `expired()` instead of holding the pipeline
 * forever without a word. The abandoned call may still complete: at worst a duplicate.
 */
export function withDeadline<T>(call: Promise<T>, ms: number, expired: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), ms);
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves true when `promise` settles in time (rejecting if it rejects), false after `ms`. */
export function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}
