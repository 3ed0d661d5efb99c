import type { ChangeEvent } from '../core/event.ts';

/**
 * Events and positions in push order, delivered and acknowledged as one unit. Positions ride along
 * with the events: they are acknowledged only after every event of the batch reached every sink.
 */
export class Batch<P> {
  readonly events: ChangeEvent[] = [];
  readonly positions: P[] = [];
  /** Approximate memory held by the batch's items. */
  bytes = 0;

  get isEmpty(): boolean {
    return this.events.length === 0 && this.positions.length === 0;
  }
}
