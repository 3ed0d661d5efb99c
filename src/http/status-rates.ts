/**
 * Events per second from event counters sampled now and then (pure: the caller gives the time).
 * The status model (status-model.ts) records each component's counter whenever it builds the
 * status, and the app samples every few seconds, so a single `psql-streamer status` call already
 * sees a rate (docs/operations.md, "Status page and `status` command").
 */

/** Samples older than this are dropped; the rate is over what is left (up to this long). */
export const RATE_WINDOW_MS = 10_000;
/** Two samples closer than this give no rate yet (too noisy). */
const MIN_SPAN_MS = 500;

interface Sample {
  atMs: number;
  total: number;
}

export class RateTracker {
  private readonly samples = new Map<string, Sample[]>();

  /** Adds `total` (a counter) for `key` at `atMs`; a counter that went down (a restart) starts over. */
  record(key: string, total: number, atMs: number): void {
    let list = this.samples.get(key);
    if (list === undefined) this.samples.set(key, (list = []));
    const last = list[list.length - 1];
    if (last !== undefined && (total < last.total || atMs < last.atMs)) list.length = 0;
    list.push({ atMs, total });
    // Keep one sample at or before the window's start, so the span covers the whole window.
    while (list.length > 2 && (list[1] as Sample).atMs <= atMs - RATE_WINDOW_MS) list.shift();
  }

  /** Per second over the samples kept for `key`, or null with too little history. */
  rate(key: string): number | null {
    const list = this.samples.get(key);
    if (list === undefined || list.length < 2) return null;
    const first = list[0] as Sample;
    const last = list[list.length - 1] as Sample;
    const span = last.atMs - first.atMs;
    if (span < MIN_SPAN_MS) return null;
    return ((last.total - first.total) * 1000) / span;
  }

  /** Forgets keys not in `keep` (components that are gone). */
  retain(keep: ReadonlySet<string>): void {
    for (const key of this.samples.keys()) if (!keep.has(key)) this.samples.delete(key);
  }
}
