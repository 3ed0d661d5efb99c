/**
 * How sealed batches that waited behind the one in flight are delivered as one: up to a limit of
 * events (max(batchSize, MERGE_EVENTS, the sinks' mergeEvents)) and of bytes, which grows with it.
 */
import type { Batch } from './batch.ts';

/**
 * Sealed batches waiting while the sinks are busy are delivered as one, up to max(batchSize, this)
 * events and MERGE_BYTES: with the default batchSize of 100, a sink that needs a round trip per
 * write (Kafka) would otherwise fall behind by a round trip every 100 events.
 */
const MERGE_EVENTS = 4096;
const MERGE_BYTES = 8 * 1024 * 1024;

/** The most events in batches delivered together: `override`, else max(batchSize, MERGE_EVENTS, the sinks' mergeEvents). */
export function mergeEventLimit(batchSize: number, sinks: readonly { readonly mergeEvents?: number }[], override: number | undefined): number {
  return override ?? Math.max(batchSize, MERGE_EVENTS, ...sinks.map((s) => s.mergeEvents ?? 0));
}

/** The bytes follow the events: a sink asking for 4x the events gets 4x MERGE_BYTES. */
export function mergeByteLimit(batchSize: number, mergeLimit: number): number {
  return MERGE_BYTES * Math.max(1, mergeLimit / Math.max(batchSize, MERGE_EVENTS));
}

/**
 * Appends to `next` the batches at the head of `sealed` (pushed after it) while the whole stays
 * within `mergeLimit` events and `mergeBytes` bytes; they leave `sealed`.
 */
export function mergeSealed<P>(next: Batch<P>, sealed: Batch<P>[], mergeLimit: number, mergeBytes: number): void {
  let following = sealed[0];
  while (following && next.events.length + following.events.length <= mergeLimit && next.bytes + following.bytes <= mergeBytes) {
    next.append(sealed.shift() as Batch<P>);
    following = sealed[0];
  }
}
