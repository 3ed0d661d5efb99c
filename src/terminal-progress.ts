/**
 * Snapshot progress for a person at a terminal (docs/snapshots.md, "Progress"): while the streamer
 * runs with its log on a terminal and a snapshot waits or copies (`snapshot = "initial"` or
 * `"initial_only"`, or a backfill), the bars of the `snapshot` command stay drawn below the log, and
 * every log line is written above them. Not on a terminal, nothing changes: the log's periodic
 * progress lines are the report, so logs stay parseable.
 */
import { configureLogging, logSettings } from './core/logger.ts';
import { Redraw, drawWidth, type ProgressOut } from './core/redraw.ts';
import { progressBar } from './sources/postgres/snapshot/progress-text.ts';
import type { SnapshotInfo } from './sources/postgres/snapshot/types.ts';

/** Starts drawing; returns the function that stops it (and erases the bars). */
export function showSnapshotProgress(active: () => SnapshotInfo[], out: ProgressOut, redrawMs = 250): () => void {
  if (!out.isTTY) return () => {};
  const screen = new Redraw(out);
  const draw = () => {
    const text = active().map((s) => `${s.source} ${s.kind === 'initial' ? 'initial snapshot' : `backfill ${s.id}`}\n${progressBar(s, drawWidth(out))}`).join('\n');
    if (text === '') screen.clear();
    else screen.draw(text);
  };
  const writeLog = logSettings().write;
  // A log line replaces the bars, which are drawn again below it (as they are now: the line may say a snapshot ended).
  configureLogging({
    write: (line) => {
      screen.clear();
      writeLog(line);
      draw();
    },
  });
  const timer = setInterval(draw, redrawMs);
  return () => {
    clearInterval(timer);
    screen.clear();
    configureLogging({ write: writeLog });
  };
}
