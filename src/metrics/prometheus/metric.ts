/**
 * What every metric type shares: its name, help and label names, and its series, one per
 * combination of label values. A series is found through one Map per label name, keyed by the
 * value itself, so resolving labels builds no key string; `labels()` hands out the series for
 * a hot path to keep.
 */
import type { Labels, MetricSnapshot, MetricType } from './exposition.ts';
import type { Registry } from './registry.ts';

/** Values per label name; one left out is not exposed (as in prom-client). */
export type LabelValues<L extends string> = Partial<Record<L, string | number>>;

export interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers?: readonly Registry[];
}

/** What a registry exposes. */
export interface Collectable {
  readonly name: string;
  get(): MetricSnapshot;
  reset(): void;
}

type Node<S> = Map<string | undefined, Node<S> | S>;

export abstract class Metric<L extends string, S extends { readonly labels: Labels }> implements Collectable {
  readonly name: string;
  readonly help: string;
  abstract readonly type: MetricType;
  protected readonly labelNames: readonly L[];
  private root: Node<S> = new Map();
  /** Every series, in the order they appeared: the exposition's order. */
  private readonly all = new Set<S>();
  /** The one series of a metric without labels: made by its first update or scrape, so it shows as 0. */
  private unlabelled: S | undefined;

  constructor(options: MetricOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    for (const registry of options.registers ?? []) registry.registerMetric(this);
  }

  protected abstract newSeries(labels: Labels): S;

  abstract get(): MetricSnapshot;

  /**
   * The series of these label values, to keep and update without looking it up again. After
   * `remove` of its labels or `reset`, a kept series is no longer exposed: look it up again.
   */
  labels(values: LabelValues<L>): S {
    return this.find(values, true) as S;
  }

  /** Drops the series of these label values. */
  remove(values: LabelValues<L>): void {
    const names = this.labelNames;
    if (names.length === 0) return;
    let node = this.root;
    for (let i = 0; i < names.length - 1; i++) {
      const next = node.get(labelKey(values[names[i] as L])) as Node<S> | undefined;
      if (next === undefined) return;
      node = next;
    }
    const key = labelKey(values[names[names.length - 1] as L]);
    const series = node.get(key) as S | undefined;
    if (series === undefined) return;
    node.delete(key);
    this.all.delete(series);
  }

  /** Drops every series (a metric without labels starts again from 0). */
  reset(): void {
    this.root = new Map();
    this.all.clear();
    this.unlabelled = undefined;
  }

  protected find(values: LabelValues<L> | undefined, create: boolean): S | undefined {
    const names = this.labelNames;
    if (names.length === 0 || values === undefined) return this.defaultSeries();
    let node = this.root;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const key = labelKey(values[names[i] as L]);
      let next = node.get(key) as Node<S> | undefined;
      if (next === undefined) {
        if (!create) return undefined;
        next = new Map();
        node.set(key, next);
      }
      node = next;
    }
    const key = labelKey(values[names[last] as L]);
    let series = node.get(key) as S | undefined;
    if (series === undefined && create) {
      series = this.newSeries(this.checkedLabels(values));
      node.set(key, series);
      this.all.add(series);
    }
    return series;
  }

  /** Every series, for `get()`. */
  protected series(): Iterable<S> {
    if (this.labelNames.length === 0) this.defaultSeries();
    return this.all;
  }

  private defaultSeries(): S {
    if (this.labelNames.length > 0) throw new Error(`metric ${this.name}: label values are required (${this.labelNames.join(', ')})`);
    if (this.unlabelled === undefined) {
      this.unlabelled = this.newSeries({});
      this.all.add(this.unlabelled);
    }
    return this.unlabelled;
  }

  /** Once per new series: the labels in label-name order, unknown names refused. */
  private checkedLabels(values: LabelValues<L>): Labels {
    for (const name in values) {
      if (!this.labelNames.includes(name as L)) throw new Error(`metric ${this.name}: unknown label "${name}" (labels: ${this.labelNames.join(', ')})`);
    }
    const labels: Record<string, string> = {};
    for (const name of this.labelNames) {
      const key = labelKey(values[name]);
      if (key !== undefined) labels[name] = key;
    }
    return labels;
  }
}

/** A metric of one number per series (counter, gauge). */
export abstract class ValueMetric<L extends string, S extends { readonly labels: Labels; readonly value: number }> extends Metric<L, S> {
  get(): MetricSnapshot {
    const values = [];
    for (const s of this.series()) values.push({ labels: s.labels, value: s.value });
    return { name: this.name, help: this.help, type: this.type, values };
  }
}

function labelKey(value: string | number | undefined): string | undefined {
  return typeof value === 'number' ? String(value) : value;
}
