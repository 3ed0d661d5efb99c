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

/** Per-key state made on first use; the last key is kept at hand. */
class PerKey<T> {
  private readonly map = new Map<string, T>();
  private lastKey: string | undefined;
  private last: T | undefined;

  constructor(private readonly make: (key: string) => T) {}

  get(key: string): T {
    if (key === this.lastKey) return this.last as T;
    let value = this.map.get(key);
    if (value === undefined) {
      value = this.make(key);
      this.map.set(key, value);
    }
    this.lastKey = key;
    this.last = value;
    return value;
  }

  values(): IterableIterator<T> {
    return this.map.values();
  }
}

/** Events counted per key, added to `counter` (with the labels `labels(key)`) when collected. */
export class Tally<L extends string> {
  private readonly keys: PerKey<{ labels: LabelValues<L>; count: number }>;

  constructor(metrics: Pick<Metrics, 'onCollect'>, private readonly counter: Counter<L>, labels: (key: string) => LabelValues<L>) {
    this.keys = new PerKey((key) => ({ labels: labels(key), count: 0 }));
    metrics.onCollect(() => this.flush());
  }

  add(key: string, n = 1): void {
    this.keys.get(key).count += n;
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

/** Per-event times per key, observed in `histogram` for one event in SAMPLE_EVERY. */
export class SampledTimer<L extends string> {
  private readonly keys: PerKey<{ labels: LabelValues<L>; seen: number }>;

  constructor(private readonly histogram: Histogram<L>, labels: (key: string) => LabelValues<L>) {
    this.keys = new PerKey((key) => ({ labels: labels(key), seen: 0 }));
  }

  /** One event of `key` whose handling started at `started` (performance.now()). */
  time(key: string, started: number): void {
    if (this.next(key)) this.observe(key, started);
  }

  /**
   * Counts one event of `key` and says whether its time is to be observed (then call observe()):
   * a caller that asks first needs the clock only for the sampled events.
   */
  next(key: string): boolean {
    return (this.keys.get(key).seen++ & (SAMPLE_EVERY - 1)) === 0;
  }

  /** Observes the time since `started` (performance.now()) for an event of `key` that next() chose. */
  observe(key: string, started: number): void {
    this.histogram.observe(this.keys.get(key).labels, (performance.now() - started) / 1000);
  }
}
