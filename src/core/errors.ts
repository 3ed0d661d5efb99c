/**
 * One error shape for the whole program: a stable code, the component that raised it, whether a
 * retry can help, and the cause. Logged once, where it is handled.
 */
export type ErrorCode =
  | 'CONFIG'
  | 'SINK_WRITE'
  | 'SINK_PERMANENT'
  | 'SOURCE'
  | 'STATE_STORE'
  /** A source refuses to go on until an operator acts (docs/operations.md); the process exits with 3. */
  | 'REFUSED'
  | 'PIPELINE_STOPPED'
  | 'SHUTDOWN_TIMEOUT'
  | 'INTERNAL';

export interface StreamerErrorOptions {
  /** Component prefix, e.g. `Sink-Kafka (k1)`. */
  component?: string;
  /** Whether retrying the same operation can succeed. Defaults to true (as the original). */
  retryable?: boolean;
  cause?: unknown;
  /** The message already says what the cause says (e.g. a library error described in one line): describeError() stops here. */
  explainsCause?: boolean;
  /**
   * The least time before the next attempt, when the other side said so (an HTTP `Retry-After`):
   * the pipeline waits the longer of this and its own backoff.
   */
  retryAfterMs?: number;
}

export class StreamerError extends Error {
  readonly code: ErrorCode;
  readonly component: string | undefined;
  readonly retryable: boolean;
  readonly explainsCause: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: StreamerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamerError';
    this.code = code;
    this.component = options.component;
    this.retryable = options.retryable ?? true;
    this.explainsCause = options.explainsCause ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A sink error that no retry can fix (e.g. a message too large and no dead-letter topic). */
export function permanentError(message: string, options: Omit<StreamerErrorOptions, 'retryable'> = {}): StreamerError {
  return new StreamerError('SINK_PERMANENT', message, { ...options, retryable: false });
}

/** Errors are retryable unless they say otherwise (the original's default, minus its bugs). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof StreamerError) return err.retryable;
  if (typeof err === 'object' && err !== null && 'retryable' in err) return Boolean((err as { retryable: unknown }).retryable);
  return true;
}

/** The least wait before retrying that `err` asks for (StreamerError.retryAfterMs), 0 when none. */
export function retryAfterOf(err: unknown): number {
  return err instanceof StreamerError && err.retryAfterMs !== undefined && err.retryAfterMs > 0 ? err.retryAfterMs : 0;
}

/**
 * Message of any thrown value, with causes appended (`a: b: c`); a cause the text already says is
 * not repeated, nor the causes of an error that says it explains them (`explainsCause: true`, e.g. a
 * refused connection, whose errno would only say "ECONNREFUSED" again).
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      const message = current.message;
      if (message && !parts.some((part) => part.includes(message))) parts.push(message);
      if ((current as { explainsCause?: unknown }).explainsCause === true) break;
      current = current.cause;
    } else {
      // A plain object with a message (e.g. a partition's failure) by its message, not "[object Object]".
      const message = typeof current === 'object' && typeof (current as { message?: unknown }).message === 'string'
        ? (current as { message: string }).message
        : String(current);
      if (!parts.some((part) => part.includes(message))) parts.push(message);
      break;
    }
  }
  return parts.join(': ') || 'unknown error';
}
