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
