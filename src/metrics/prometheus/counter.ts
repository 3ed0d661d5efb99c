import type { Labels } from './exposition.ts';
import { ValueMetric, type LabelValues } from './metric.ts';

export class CounterSeries {
  value = 0;

  constructor(readonly labels: Labels) {}

  inc(amount = 1): void {
    if (!(amount >= 0)) throw new Error(`a counter only goes up (inc by ${amount})`);
    this.value += amount;
  }
}

/** A value that only goes up. */
export class Counter<L extends string = string> extends ValueMetric<L, CounterSeries> {
  readonly type = 'counter';

  /** `inc()`, `inc(amount)`, `inc(labels)` or `inc(labels, amount)`. */
  inc(labels?: LabelValues<L> | number, amount?: number): void {
    if (typeof labels === 'number') this.find(undefined, true)!.inc(labels);
    else this.find(labels, true)!.inc(amount);
  }

  protected newSeries(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }
}
