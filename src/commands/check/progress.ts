/**
 * Progress of `check --live` on stderr (docs/operations.md, "Readiness: check --live"): the checks of
 * every source and sink run at once, and one that waits on an unreachable server can take its
 * timeout. In a terminal a bar redrawn in place says how many are done, for how long it has run and
 * which are still running; elsewhere a plain line every few seconds says the same, and a quick
 * check prints nothing (the report on stdout is unchanged either way). `CheckProgress` is the
 * state and its text (pure); `showProgress` draws it (core/redraw.ts, shared with `snapshot`).
 */
import { bar, fit } from '../../core/progress-bar.ts';
import { Redraw, drawWidth, type ProgressOut } from '../../core/redraw.ts';

/** Seconds as "0.4s", "12.3s", "75s". */
function elapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)}s` : `${Math.round(seconds)}s`;
}

export class CheckProgress {
  private readonly startedAt: number;
  /** Labels of the checks running, in start order. */
  private readonly running = new Set<string>();
  private finished = 0;

  /** @param total the number of sources and sinks checked. */
  constructor(readonly total: number, private readonly now: () => number) {
    this.startedAt = now();
  }

  /** The check of `label` (`source db1 (postgres)`) started. */
  start(label: string): void {
    this.running.add(label);
  }

  /** The check of `label` ended. */
  finish(label: string): void {
    if (this.running.delete(label)) this.finished++;
  }

  get done(): boolean {
    return this.finished >= this.total;
  }

  private runningText(): string {
    return this.running.size === 0 ? '' : `running: ${[...this.running].join(', ')}`;
  }

  /** `check --live: 1/3 done after 5.0s; running: sink kafka1 (kafka)` (a plain line, for logs). */
  line(): string {
    const running = this.runningText();
    return `check --live: ${this.finished}/${this.total} done after ${elapsed(this.now() - this.startedAt)}${running ? `; ${running}` : ''}`;
  }

  /** `[####......] 1/3  4.2s  running: sink kafka1 (kafka)`, at most `width` columns (the terminal's bar). */
  bar(width: number): string {
    const cells = Math.max(10, Math.min(30, Math.floor(width / 4)));
    const fraction = this.total === 0 ? 1 : this.finished / this.total;
    const text = `${bar(fraction, cells)} ${this.finished}/${this.total}  ${elapsed(this.now() - this.startedAt)}  ${this.runningText()}`;
    return fit(text.trimEnd(), width);
  }
}

export interface ProgressTiming {
  /** How often the terminal's bar is redrawn (ms). */
  redrawMs: number;
  /** How often a plain line is written when `out` is not a terminal (ms); the first after this long. */
  lineEveryMs: number;
}

/**
 * Shows `progress` on `out` until the returned function is called: redrawn in a terminal (erased at
 * the end, so the report follows on a clean screen), a plain line every `lineEveryMs` elsewhere.
 */
export function showProgress(progress: CheckProgress, out: ProgressOut, timing: ProgressTiming): () => void {
  if (out.isTTY) {
    const screen = new Redraw(out);
    const draw = () => screen.draw(progress.bar(drawWidth(out)));
    draw();
    const timer = setInterval(draw, timing.redrawMs);
    return () => {
      clearInterval(timer);
      screen.clear();
    };
  }
  const timer = setInterval(() => {
    if (!progress.done) out.write(`${progress.line()}\n`);
  }, timing.lineEveryMs);
  return () => clearInterval(timer);
}
