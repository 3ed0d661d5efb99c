/**
 * How each retried step of the pipeline (a batch's write to one sink, the acknowledgement of its
 * positions to the source) is reported: its entry in the problems `status()` shows, its stop reason
 * for a permanent error and its warning per retry (Pipeline.untilDone, retry.ts).
 */
import { describeError } from '../core/errors.ts';

/** How one retried step of the pipeline is reported (see Pipeline.untilDone). */
export interface RetryingStep {
  /** Key of the step's entry in the problems `status()` shows. */
  key: string;
  /** The stop reason for a permanent error. */
  permanent(err: unknown): string;
  /** The warning for a retryable error on retry number `retry`. */
  retrying(retry: number, err: unknown): string;
  /** Counted once per retry, besides the pipeline's own count. */
  counter?: { inc(): void };
}

/** Writing a batch of `count` events to the sink `sink`; `counter` counts its retries. */
export function sinkWriteStep(sink: string, count: number, counter: { inc(): void } | undefined): RetryingStep {
  return {
    key: `sink:${sink}`,
    permanent: (err) => `permanent error from sink '${sink}' on a batch of ${count} events: ${describeError(err)}`,
    retrying: (retry, err) => `Unable to send batch (${count} events) to sink '${sink}' (retry ${retry}): ${describeError(err)}`,
    counter,
  };
}

/** Acknowledging `count` positions to the source. */
export function ackStep(count: number): RetryingStep {
  return {
    key: 'ack',
    permanent: (err) => `the source could not make delivered positions durable: ${describeError(err)}`,
    retrying: (retry, err) => `Unable to acknowledge ${count} position(s) to the source (retry ${retry}): ${describeError(err)}`,
  };
}
