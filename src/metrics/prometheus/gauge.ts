import type { Labels } from './exposition.ts';
import { ValueMetric, type LabelValues } from './metric.ts';

export class GaugeSeries {
  value = 0;

  constructor(readonly labels: Labels) {}

  set(value: number): void {
    this.value = value;
  }

  inc(amount = 1): void {
    this.value += amount;
  }

  dec(amount = 1): void {
    this.value -= amount;
  }
}

/** A value that goes up and down. */
export class Gauge<L extends string = string> extends ValueMetric<L, GaugeSeries> {
  readonly type = 'gauge';

  /** `set(value)` or `set(labels, value)`. */
  set(labels: LabelValues<L> | number, value?: number): void {
    if (typeof labels === 'number') this.find(undefined, true)!.set(labels);
    else this.find(labels, true)!.set(value as number);
  }

  /** `inc()`, `inc(amount)`, `inc(labels)` or `inc(labels, amount)`. */
  inc(labels?: LabelValues<L> | number, amount?: number): void {
    if (typeof labels === 'number') this.find(undefined, true)!.inc(labels);
    else this.find(labels, true)!.inc(amount);
  }

  /** `dec()`, `dec(amount)`, `dec(labels)` or `dec(labels, amount)`. */
  dec(labels?: LabelValues<L> | number, amount?: number): void {
    if (typeof labels === 'number') this.find(undefined, true)!.dec(labels);
    else this.find(labels, true)!.dec(amount);
  }

  protected newSeries(labels: Labels): GaugeSeries {
    return new GaugeSeries(labels);
  }
}
