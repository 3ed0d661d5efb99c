/**
 * Pure decisions of the pipeline: when a batch is sealed and when the source must pause or may
 * resume. Back-pressure uses two marks so the source does not flap between paused and running: it
 * pauses when the buffer reaches a bound and resumes only once the buffer is at most half of both.
 */

/** Limits on what a pipeline holds before the source must pause. */
export interface BufferBounds {
  maxEvents: number;
  maxBytes: number;
}

/** What a pipeline holds: queued plus in flight, not yet acknowledged. */
export interface BufferLevel {
  events: number;
  bytes: number;
}

/** Bytes counted for an item without an event (a bare position), so a flood of them is bounded too. */
export const POSITION_ONLY_BYTES = 64;

/** True when the source must pause: either bound reached. */
export function isFull(level: BufferLevel, bounds: BufferBounds): boolean {
  return level.events >= bounds.maxEvents || level.bytes >= bounds.maxBytes;
}

/** True when a paused source may resume: both counts at or below half their bound (the low-water mark). */
export function belowLowWater(level: BufferLevel, bounds: BufferBounds): boolean {
  return level.events <= Math.floor(bounds.maxEvents / 2) && level.bytes <= Math.floor(bounds.maxBytes / 2);
}

/** What the batch being filled looks like when the pipeline asks whether to send it now. */
export interface OpenBatchState {
  events: number;
  positions: number;
  /** Shutdown drain in progress: send whatever there is. */
  draining: boolean;
  /** The source is paused: waiting for more events would only waste time. */
  full: boolean;
}

/**
 * Whether the delivery loop, having nothing sealed left to send, should seal the open batch now
 * rather than wait for `batchSize` or the flush timer. A batch of bare positions goes at once so an
 * idle source's position advances promptly.
 */
export function sealWhenIdle(batch: OpenBatchState): boolean {
  if (batch.events === 0) return batch.positions > 0;
  return batch.draining || batch.full;
}
