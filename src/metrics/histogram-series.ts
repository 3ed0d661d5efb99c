/**
 * One series of a prom-client histogram (one set of label values) observed on a hot path: every
 * observation is counted in plain numbers and added to the histogram when the metrics are collected
 * (a scrape, or a `get()`: Metrics.onCollect), as tally.ts does for counters. prom-client's own
 * `observe` validates and hashes the labels each time (≈ 0.5–1 µs); this costs a few comparisons.
 *
 * The sums go into prom-client 15's series record (`hashMap` entries: `bucketValues` by upper bound,
 * `sum`, `count`), which it exposes as it would its own observations; test/unit/metrics checks the
 * exposition against prom-client's `observe`, so a prom-client that changes its records fails there.
 */
import type { Histogram, LabelValues } from 'prom-client';
import type { Metrics } from './catalogue.ts';

/** The record prom-client keeps per label set of a histogram. */
interface SeriesRecord {
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** What this module reads of a prom-client Histogram besides its public API. */
interface HistogramInternals {
  upperBounds: number[];
  hashMap: Record<string, SeriesRecord>;
}

export class HistogramSeries<L extends string> {
  private readonly bounds: readonly number[];
  /** Observations per bucket since the last flush; the last slot counts those above every bound (+Inf). */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  /** The series `labels` of `histogram`, exposed from the start (at 0), added to at each collection of `metrics`. */
  constructor(metrics: Pick<Metrics, 'onCollect'>, private readonly histogram: Histogram<L>, private readonly labels: LabelValues<L>) {
    histogram.zero(labels);
    this.bounds = [...(histogram as unknown as HistogramInternals).upperBounds];
    this.counts = new Float64Array(this.bounds.length + 1);
    metrics.onCollect(() => this.flush());
  }

  /** One observation (as prom-client's: a value at or below a bucket's bound counts in it). Not finite: ignored. */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Adds what was observed since the last flush to the histogram. */
  flush(): void {
    if (this.count === 0) return;
    let record = this.record();
    if (record === undefined) {
      // Reset since (registry.resetMetrics()): the series starts again from 0.
      this.histogram.zero(this.labels);
      record = this.record();
      if (record === undefined) return;
    }
    for (let i = 0; i < this.bounds.length; i++) {
      const n = this.counts[i] as number;
      if (n > 0) record.bucketValues[this.bounds[i] as number] = (record.bucketValues[this.bounds[i] as number] ?? 0) + n;
    }
    record.sum += this.sum;
    record.count += this.count;
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** prom-client's record of this series, if it has one. */
  private record(): SeriesRecord | undefined {
    const labels = this.labels as Record<string, string | number>;
    const names = Object.keys(labels);
    for (const record of Object.values((this.histogram as unknown as HistogramInternals).hashMap)) {
      if (names.every((name) => String(record.labels[name]) === String(labels[name])) && Object.keys(record.labels).length === names.length) return record;
    }
    return undefined;
  }
}
