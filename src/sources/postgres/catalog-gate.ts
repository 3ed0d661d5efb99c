/**
 * Holds the replication stream back while an asynchronous catalog lookup runs (user-defined types,
 * the key of a REPLICA IDENTITY FULL table: see catalog.ts), then replays what arrived meanwhile,
 * in order. A replayed frame may start another lookup: the frames after it wait behind that one.
 * No I/O: the caller says how to pause and resume reading and how to handle a frame.
 */

export interface CatalogGateHooks {
  /** Stop reading the stream (a lookup started). */
  pause(): void;
  /** The lookup finished and every held frame was replayed: reading may go on. */
  resume(): void;
  /** Handles one replayed frame (the whole array is the CopyData payload); may call `hold` again. */
  handle(frame: Uint8Array): void;
  /** A replayed frame threw: the rest is dropped (the session ends and the frames come again). */
  fail(err: unknown): void;
}

export class CatalogGate {
  /** Frames held back while a lookup runs; undefined when not holding (read on the hot path: a plain field). */
  held: Uint8Array[] | undefined;
  /** Increments on reset, so a lookup of an ended session replays nothing. */
  private epoch = 0;

  constructor(private readonly hooks: CatalogGateHooks) {}

  /** Keeps a copy of the frame bytes[start, end) (the payload is in the socket buffer) until the lookup ends. */
  hold(bytes: Uint8Array, start: number, end: number): void {
    (this.held as Uint8Array[]).push(bytes.slice(start, end));
  }

  /**
   * Holds every later frame until `lookup` settles, then replays them (unless the gate was reset
   * or `cancelled()` says so meanwhile) and resumes. `lookup` must not reject.
   */
  wait(lookup: Promise<void>, cancelled: () => boolean): void {
    const epoch = this.epoch;
    this.held = [];
    this.hooks.pause();
    void lookup.then(() => {
      if (epoch !== this.epoch || cancelled()) return;
      this.replay();
    });
  }

  /** Forgets what is held (the session ended: the frames come again in the next one). */
  reset(): void {
    this.epoch++;
    this.held = undefined;
  }

  private replay(): void {
    const frames = this.held ?? [];
    this.held = undefined;
    try {
      for (let i = 0; i < frames.length; i++) {
        this.hooks.handle(frames[i] as Uint8Array);
        if (this.held !== undefined) {
          // Another lookup started: the rest waits behind it, in order.
          (this.held as Uint8Array[]).push(...frames.slice(i + 1));
          return;
        }
      }
    } catch (err) {
      this.hooks.fail(err);
      return;
    }
    this.hooks.resume();
  }
}
