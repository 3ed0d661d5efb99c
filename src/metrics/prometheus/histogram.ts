import type { Labels, MetricSnapshot, Sample } from './exposition.ts';
import { Metric, type LabelValues, type MetricOptions } from './metric.ts';

/** The usual default buckets of Prometheus clients, prom-client's included (the original's histograms used them). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class HistogramSeries {
  /** counts[i]: observations ≤ bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly labels: Labels, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds (`le`), +Inf implied; DEFAULT_BUCKETS when left out. */
  buckets?: readonly number[];
}

/** Observations counted in buckets, with their sum and count. */
export class Histogram<L extends string = string> extends Metric<L, HistogramSeries> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(options: HistogramOptions<L>) {
    super(options);
    if (this.labelNames.includes('le' as L)) throw new Error(`histogram ${this.name}: "le" is the bucket label`);
    this.bounds = [...(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);
  }

  /** `observe(value)` or `observe(labels, value)`. */
  observe(labels: LabelValues<L> | number, value?: number): void {
    if (typeof labels === 'number') this.find(undefined, true)!.observe(labels);
    else this.find(labels, true)!.observe(value as number);
  }

  /** Per series: cumulative `_bucket` samples (`le` first, +Inf last), then `_sum` and `_count`. */
  get(): MetricSnapshot {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i] as number;
        values.push({ labels: { le: this.bounds[i] as number, ...s.labels }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucket });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }

  protected newSeries(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }
}
