/**
 * Per-event metrics kept off the hot path. prom-client hashes the labels on every update (an `inc`
 * costs ≈ 165 ns, bench/metrics.ts), more than a small event costs to build, so a component does
 * not call it per event:
 * - `Tally` counts events per label value (a table, a topic) in plain numbers and adds the sums to
 *   its counter when the metrics are collected (a scrape, or a `get()`: Metrics.onCollect);
 * - `SampledTimer` observes a per-event time for a sample of the events: the first of each label
 *   value, then every SAMPLE_EVERY-th (docs/operations.md "Metrics" says what the histograms mean).
 * Consecutive events nearly always share their table or topic: the last one is kept at hand.
 */
import type { Counter, Histogram, LabelValues } from 'prom-client';
import type { Metrics } from './catalogue.ts';

/** One event in this many (per label value) has its time observed; a power of two. */
export const SAMPLE_EVERY = 32;

interface Pending<L extends string> {
  labels: LabelValues<L>;
  count: number;
}

/** Events counted per key, added to `counter` (with the labels `labels(key)`) when collected. */
export class Tally<L extends string> {
  private readonly keys = new Map<string, Pending<L>>();
  private lastKey: string | undefined;
  private last: Pending<L> | undefined;

  constructor(
    metrics: Pick<Metrics, 'onCollect'>,
    private readonly counter: Counter<L>,
    private readonly labels: (key: string) => LabelValues<L>,
  ) {
    metrics.onCollect(() => this.flush());
  }

  add(key: string, n = 1): void {
    if (key === this.lastKey) {
      (this.last as Pending<L>).count += n;
      return;
    }
    let pending = this.keys.get(key);
    if (pending === undefined) {
      pending = { labels: this.labels(key), count: 0 };
      this.keys.set(key, pending);
    }
    pending.count += n;
    this.lastKey = key;
    this.last = pending;
  }

  /** Adds what was counted since the last flush to the counter. */
  flush(): void {
    for (const pending of this.keys.values()) {
      if (pending.count === 0) continue;
      this.counter.inc(pending.labels, pending.count);
      pending.count = 0;
    }
  }
}

interface Sampled<L extends string> {
  labels: LabelValues<L>;
  seen: number;
}

/** Per-event times per key, observed in `histogram` for one event in SAMPLE_EVERY. */
export class SampledTimer<L extends string> {
  private readonly keys = new Map<string, Sampled<L>>();
  private lastKey: string | undefined;
  private last: Sampled<L> | undefined;

  constructor(private readonly histogram: Histogram<L>, private readonly labels: (key: string) => LabelValues<L>) {}

  /** One event of `key` whose handling started at `started` (performance.now()). */
  time(key: string, started: number): void {
    let sampled = this.last;
    if (key !== this.lastKey || sampled === undefined) {
      sampled = this.keys.get(key);
      if (sampled === undefined) {
        sampled = { labels: this.labels(key), seen: 0 };
        this.keys.set(key, sampled);
      }
      this.lastKey = key;
      this.last = sampled;
    }
    if ((sampled.seen++ & (SAMPLE_EVERY - 1)) === 0) this.histogram.observe(sampled.labels, (performance.now() - started) / 1000);
  }
}
