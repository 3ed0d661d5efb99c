import type { Component } from '../core/component.ts';
import type { ChangeEvent } from '../event/event.ts';

/**
 * One unit handed from a source to its pipeline: an event, a position, or both.
 * A `position` means "once this item and everything pushed before it has reached every sink, the
 * source may make this position durable" (PostgreSQL: a commit LSN; Kafka: a partition offset).
 * A position without an event (a commit or an idle keepalive) is acknowledged in order too.
 */
export interface PipelineItem<P> {
  event?: ChangeEvent;
  position?: P;
  /** Approximate memory held by the item, for the pipeline's byte bound. */
  bytes?: number;
}

/** The pipeline as a source sees it. */
export interface SourceOutput<P> {
  /**
   * Queues an item (always accepted). Returns false when the pipeline is full: the source should
   * stop reading (e.g. pause its socket) until `drained()` resolves.
   */
  push(item: PipelineItem<P>): boolean;
  /** Resolves when the pipeline has room again (at once if it has room now). */
  drained(): Promise<void>;
}

export interface Source<P = unknown> extends Component {
  /** Starts producing into `output`; connection problems after this are the source's to recover from. */
  start(output: SourceOutput<P>): Promise<void>;
  /**
   * Every item up to and including the one carrying the last of `positions` was delivered to every
   * sink. Called in push order, never concurrently. Make the positions durable (persist, then
   * confirm upstream) before resolving.
   */
  ack(positions: readonly P[]): Promise<void>;
  /** Stops producing: after this resolves, `push` is not called again. */
  stop(): Promise<void>;
  /** Releases connections after the final acknowledgement (e.g. sends a final status update). */
  close(): Promise<void>;
}
