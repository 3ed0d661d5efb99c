import type { Component } from '../core/component.ts';
import type { ChangeEvent } from '../event/event.ts';

/**
 * A destination for events. `write` resolving means the batch is delivered as durably as this sink
 * promises (Kafka: acknowledged per `requiredAcks`; file: written and flushed to the OS).
 *
 * - Rejecting with a retryable error: the pipeline retries the same batch with backoff.
 * - Rejecting with a non-retryable error (`isRetryable(err) === false`): the pipeline stops.
 * - The batch array must not be kept after `write` settles.
 * - Several pipelines (sources) may call `write` concurrently on one sink.
 */
export interface Sink extends Component {
  write(batch: readonly ChangeEvent[]): Promise<void>;
  /**
   * Events this sink would rather take in one write when sealed batches queue up behind a busy
   * sink (the pipeline delivers them merged): a sink with a fixed cost per write, such as a Kafka
   * transaction, asks for more than the pipeline's default. Memory stays within the source's
   * maxBufferedEvents/maxBufferedBytes either way: only batches already buffered are merged.
   */
  readonly mergeEvents?: number;
  /**
   * Optional: `source` is about to read, and what it reads may be held by a transaction of this
   * sink's earlier run (an exactly-once Kafka relay restarted after kill -9): fence that run now
   * rather than at the first write (docs/kafka.md, "Relays"). Best effort: a failure is logged
   * and the first write tries again.
   */
  prepareFor?(source: string): Promise<void>;
  /** Flush and release resources. Called after every pipeline feeding it has stopped. */
  close(): Promise<void>;
  /**
   * On SIGHUP: reopen an output file by its configured name (after logrotate renamed it). Writes
   * before it go to the old file, writes after it to the new one; none is lost or split. Sinks
   * without files leave it out (docs/operations.md, "Signals").
   */
  reopen?(): Promise<void>;
}
