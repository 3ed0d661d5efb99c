/**
 * The dispatch's way into the pipeline with back-pressure (docs/delivery.md): every item is
 * accepted, and when the pipeline says it is full, the stream stops being read until it drained, so
 * the walsender waits instead of our memory growing.
 */
import type { PipelineItem, SourceOutput } from '../source.ts';
import type { PgPosition } from './snapshot/mark.ts';

export interface OutputValveHooks {
  /** Stop reading the stream. */
  pause(): void;
  /** The pipeline drained: reading may go on (unless something else holds it). */
  drained(): void;
}

export class OutputValve {
  output: SourceOutput<PgPosition> | undefined;
  /** Paused for the pipeline, waiting for it to drain. */
  waiting = false;
  /** Increments on reset, so a drain awaited by an ended session resumes nothing. */
  private epoch = 0;

  constructor(private readonly hooks: OutputValveHooks) {}

  push(item: PipelineItem<PgPosition>): void {
    const output = this.output;
    if (output === undefined) return;
    if (!output.push(item) && !this.waiting) {
      this.waiting = true;
      this.hooks.pause();
      const epoch = this.epoch;
      void output.drained().then(() => {
        if (epoch !== this.epoch) return;
        this.waiting = false;
        this.hooks.drained();
      });
    }
  }

  /** The session ended: a pending drain resumes nothing. */
  reset(): void {
    this.epoch++;
    this.waiting = false;
  }
}
