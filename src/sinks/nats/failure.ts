/**
 * What a failed JetStream publish means for the batch (docs/nats.md, "Errors"), pure: classified by
 * the NATS client's error names, so this module needs no client library.
 *
 * - no acknowledgement in time, lost or closed connection, "no responders" (no stream captures the
 *   subject, or JetStream is not up yet after a restart), a full stream: retryable; the pipeline
 *   retries the batch from its first unacknowledged event.
 * - an event captured by another stream than `stream`, permissions refused, a subject the client
 *   refuses: permanent (an operator must act), the pipeline stops.
 */

/** JetStream API error code: the message was captured by a stream other than the expected one. */
const EXPECTED_STREAM_MISMATCH = 10060;

export interface PublishFailure {
  retryable: boolean;
  /** One line naming the subject; the sink adds the servers. */
  message: string;
  /** A short label (metrics-free; used in logs and tests): NO_STREAM, TIMEOUT, CONNECTION, WRONG_STREAM, PERMISSION, API, OTHER. */
  kind: string;
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

const named = (err: unknown, ...names: string[]): boolean => {
  for (let e = err as ErrorLike | undefined, depth = 0; e !== undefined && e !== null && depth < 4; e = e.cause as ErrorLike | undefined, depth++) {
    if (typeof e.name === 'string' && names.includes(e.name)) return true;
  }
  return false;
};

const messageOf = (err: unknown): string => {
  const m = (err as ErrorLike | null)?.message;
  return typeof m === 'string' && m !== '' ? m : String(err);
};

/** Sorts a publish error for `subject` (with the `stream` the sink expects, if any). */
export function classifyPublishError(err: unknown, subject: string, timeoutMs: number, stream?: string): PublishFailure {
  const s = JSON.stringify(subject);
  if (named(err, 'NoResponders', 'JetStreamNotEnabled')) {
    return {
      retryable: true, kind: 'NO_STREAM',
      message: `no JetStream stream captures subject ${s} (the server answered "no responders"): create a stream for it, or map the table to a captured subject; retrying`,
    };
  }
  if (named(err, 'TimeoutError')) {
    return { retryable: true, kind: 'TIMEOUT', message: `no acknowledgement from JetStream for subject ${s} within ${timeoutMs / 1000}s` };
  }
  if (named(err, 'ClosedConnectionError', 'ConnectionError', 'DrainingConnectionError', 'ProtocolError')) {
    return { retryable: true, kind: 'CONNECTION', message: `connection lost while publishing to ${s}: ${messageOf(err)}` };
  }
  if (named(err, 'PermissionViolationError', 'AuthorizationError')) {
    return { retryable: false, kind: 'PERMISSION', message: `not allowed to publish to ${s}: ${messageOf(err)}` };
  }
  if (named(err, 'InvalidSubjectError')) {
    return { retryable: false, kind: 'SUBJECT', message: `the client refuses subject ${s}: ${messageOf(err)}` };
  }
  if (named(err, 'JetStreamApiError', 'StreamNotFoundError')) {
    const code = (err as ErrorLike).code;
    if (code === EXPECTED_STREAM_MISMATCH) {
      return {
        retryable: false, kind: 'WRONG_STREAM',
        message: `subject ${s} is captured by another stream than the configured stream ${JSON.stringify(stream ?? '')} (JetStream: ${messageOf(err)})`,
      };
    }
    // Full stream (discard new), storage exhausted, ...: space can come back.
    return { retryable: true, kind: 'API', message: `JetStream refused a message on ${s}: ${messageOf(err)}` };
  }
  return { retryable: true, kind: 'OTHER', message: `cannot publish to ${s}: ${messageOf(err)}` };
}
