/**
 * One readable line for an error of @platformatic/kafka, for logs and `/status` (docs/operations.md,
 * "Status: connecting"). The library's errors nest: a join that failed after retries is
 * `joinGroup failed 4 times.` holding `findGroupCoordinator failed 4 times.` four times, each holding
 * `Connection to 127.0.0.1:1 failed.` caused by `connect ECONNREFUSED 127.0.0.1:1`. Printed as they
 * come, the same phrase repeats a dozen times. Here the retry wrappers are dropped (the caller counts
 * its own attempts), connection failures read `cannot reach broker HOST:PORT: connection refused
 * (ECONNREFUSED)`, and each distinct reason is said once. Pure; imports nothing of the library.
 */

/** The shape of the library's errors that matters for messages (GenericError, MultipleErrors, ProtocolError). */
interface KafkaErrorLike {
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  code?: unknown;
  apiId?: string;
  serverErrorMessage?: string | null;
}

/** Socket errno codes in words. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the broker',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'temporary failure resolving the host name',
  ETIMEDOUT: 'timed out',
  EPIPE: 'the broker closed the connection',
};

/**
 * `X failed N times.` and `Cannot connect to any broker.` (the library joins the messages of nested
 * ones: `joinGroup failed 4 times. findGroupCoordinator failed 4 times. ...`): wrappers that add
 * nothing to the reasons below them.
 */
const WRAPPER = /^(?:\s*(?:\S+ failed \d+ times?\.|Cannot connect to any broker\.))+$/;
const CONNECT_FAILED = /^Connection to (\S+) (failed|timed out)\.$/;

/**
 * One line: the distinct innermost reasons (at most 3, then "and N more"), prefixed with the top
 * message when it says more than a retry count, e.g. `Producing messages failed: cannot reach broker
 * 127.0.0.1:9092: connection refused (ECONNREFUSED)`.
 */
export function describeKafkaError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as KafkaErrorLike;
  if (!Array.isArray(e.errors) || e.errors.length === 0) return leafLine(e) || 'unknown Kafka error';
  const leaves: string[] = [];
  collectLeaves(err, leaves, 0);
  const distinct = [...new Set(leaves)];
  const shown = distinct.length > 3 ? [...distinct.slice(-3), `(and ${distinct.length - 3} more)`] : distinct;
  const reasons = shown.join('; ');
  const top = trimDot(err.message ?? '');
  if (reasons === '') return top || 'unknown Kafka error';
  return top === '' || WRAPPER.test(err.message) ? reasons : `${top}: ${reasons}`;
}

function collectLeaves(err: unknown, out: string[], depth: number): void {
  if (depth > 8) return;
  if (!(err instanceof Error)) {
    if (err !== undefined && err !== null) out.push(String(err));
    return;
  }
  const e = err as KafkaErrorLike;
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    for (const inner of e.errors) collectLeaves(inner, out, depth + 1);
    return;
  }
  out.push(leafLine(e));
}

/** One innermost error as text: a connection failure in words, else its message, API and causes. */
function leafLine(e: KafkaErrorLike): string {
  const message = e.message ?? '';
  const connect = CONNECT_FAILED.exec(message);
  if (connect) {
    const broker = connect[1];
    if (connect[2] === 'timed out') return `cannot reach broker ${broker}: timed out`;
    const errno = errnoOf(e.cause);
    if (errno !== undefined) return `cannot reach broker ${broker}: ${ERRNO_TEXT[errno] ?? errno}${ERRNO_TEXT[errno] ? ` (${errno})` : ''}`;
    const cause = e.cause instanceof Error ? e.cause.message : undefined;
    return `cannot reach broker ${broker}${cause ? `: ${cause}` : ''}`;
  }
  let line = trimDot(message);
  if (e.apiId) line += ` [${e.apiId}${e.serverErrorMessage ? `: ${e.serverErrorMessage}` : ''}]`;
  for (let cause = e.cause, k = 0; cause instanceof Error && k < 4; cause = cause.cause, k++) {
    if (!line.includes(trimDot(cause.message))) line += `: ${trimDot(cause.message)}`;
  }
  return line;
}

/** The errno code of a socket error (`code`, or read from a message like `connect ECONNREFUSED 1.2.3.4:1`). */
function errnoOf(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return undefined;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  return /\b(E[A-Z]{3,}[A-Z_]*)\b/.exec(cause.message)?.[1];
}

/** "Producing messages failed." → "Producing messages failed" (the line goes on after it). */
function trimDot(text: string): string {
  return text.endsWith('.') && !text.endsWith('..') ? text.slice(0, -1) : text;
}
