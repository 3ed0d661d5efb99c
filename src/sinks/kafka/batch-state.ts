/**
 * The Kafka sink's per-batch delivery state: what a batch has left to send, kept between retries of
 * the same batch so a retry re-sends only the partitions the brokers did not acknowledge, and how the
 * answer to one produce request updates it.
 */
import type { ChangeEvent } from '../../event/event.ts';
import type { OutMessage, Undeliverable } from './message.ts';
import type { PartitionFailure } from './outcome.ts';

/** What one batch has left to do; kept between retries of the same batch. */
export interface BatchProgress {
  /** Messages not yet acknowledged, in batch order (dead-letter copies take their original's place). */
  pending: OutMessage[];
  /** Events that had a topic (for sink_events once delivered). */
  routed: ChangeEvent[];
  /** Partitions whose messages go one per request, to find the one the broker refuses. */
  single: Set<string>;
  /** To recognise the same batch again: its length and first UUID. */
  size: number;
  firstUuid: string | undefined;
}

/** Whether `progress` was made for this batch (the same length and first UUID). */
export function isProgressOf(progress: BatchProgress, batch: readonly ChangeEvent[]): boolean {
  return progress.size === batch.length && progress.firstUuid === batch[0]?.uuid;
}

/** What one produce request did to a batch; the messages it names have already left or stayed in `pending`. */
export interface ChunkResult {
  /** Messages the brokers acknowledged (removed from `pending`). */
  acked: OutMessage[];
  /** Messages that can never be written to their topic, with why (still pending, for the dead-letter handling). */
  diverted: Array<[OutMessage, Undeliverable]>;
  /** The first failure worth another attempt, if any. */
  retry?: PartitionFailure;
  /** The first failure that says the brokers refuse the sink's settings, if any. */
  fatal?: PartitionFailure;
}

/**
 * Takes the answer to a produce request of `chunk` into `p`: acknowledged messages leave `p.pending`,
 * the others stay; a partition refusing a request of several messages as too large is marked for one
 * message per request (`p.single`), to find the one the broker refuses.
 *
 * @param failed partitions (partitionKey) of the request that failed, undefined when all were acknowledged.
 */
export function settleChunk(p: BatchProgress, chunk: OutMessage[], failed: Map<string, PartitionFailure> | undefined): ChunkResult {
  if (failed === undefined && chunk.length === p.pending.length) {
    // The usual case: the whole batch in one request, acknowledged.
    p.pending = [];
    return { acked: chunk, diverted: [] };
  }
  if (failed === undefined) {
    // All acknowledged, the batch sent in several requests: the chunk is taken from the pending
    // messages in order (takeChunk), so one walk leaves the rest.
    const rest: OutMessage[] = [];
    let next = 0;
    for (const message of p.pending) {
      if (message === chunk[next]) next++;
      else rest.push(message);
    }
    if (next === chunk.length) {
      p.pending = rest;
      return { acked: chunk, diverted: [] };
    }
  }

  const inChunk = new Set(chunk);
  const perPartition = new Map<string, number>();
  for (const m of chunk) {
    const key = m.partitionKey;
    perPartition.set(key, (perPartition.get(key) ?? 0) + 1);
  }
  const acked: OutMessage[] = [];
  const stillPending: OutMessage[] = [];
  const diverted: Array<[OutMessage, Undeliverable]> = [];
  let retry: PartitionFailure | undefined;
  let fatal: PartitionFailure | undefined;
  for (const message of p.pending) {
    if (!inChunk.has(message)) {
      stillPending.push(message);
      continue;
    }
    const key = message.partitionKey;
    const failure = failed?.get(key);
    if (failure === undefined) {
      acked.push(message);
      continue;
    }
    stillPending.push(message);
    if (failure.kind === 'tooLarge' && (perPartition.get(key) ?? 0) > 1) {
      p.single.add(key); // several messages: find the one the broker refuses, one request each
    } else if (failure.kind === 'tooLarge') {
      diverted.push([message, { code: 'MESSAGE_TOO_LARGE', message: `${message.bytes} bytes is too large for topic "${message.topic}": ${failure.message}` }]);
    } else if (failure.kind === 'undeliverable') {
      diverted.push([message, { code: failure.code, message: failure.message }]);
    } else if (failure.kind === 'fatal') {
      fatal ??= failure;
    } else {
      retry ??= failure;
    }
  }
  p.pending = stillPending;
  return { acked, diverted, retry, fatal };
}
