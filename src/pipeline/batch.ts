import type { ChangeEvent } from '../event/event.ts';

/**
 * Events and positions in push order, delivered and acknowledged as one unit. Positions ride along
 * with the events: they are acknowledged only after every event of the batch reached every sink.
 */
export class Batch<P> {
  readonly events: ChangeEvent[] = [];
  readonly positions: P[] = [];
  /** Approximate memory held by the batch's items. */
  bytes = 0;

  /** Moves everything of `later` (pushed after this batch's items) to the end of this batch. */
  append(later: Batch<P>): void {
    for (const event of later.events) this.events.push(event);
    for (const position of later.positions) this.positions.push(position);
    this.bytes += later.bytes;
  }

  get isEmpty(): boolean {
    return this.events.length === 0 && this.positions.length === 0;
  }
}
