/**
 * Builds the status document on demand (status-model.ts) from the running program: components,
 * metric values, snapshot lists, the clock. `sample()` runs every few seconds (the app's timer) so
 * events/s are known before anyone asks (status-rates.ts).
 */
import type { Component } from '../core/component.ts';
import type { SnapshotControl } from '../sources/postgres/snapshot/types.ts';
import { buildStatus, STATUS_METRICS, type MetricFamily, type StatusDocument } from './status-model.ts';
import { RateTracker } from './status-rates.ts';

export interface StatusReporterDeps {
  components: () => readonly Component[];
  /** The values of the metrics named (prom-client's `metric.get()` of each; STATUS_METRICS are asked for). */
  metrics: (names: readonly string[]) => Promise<readonly MetricFamily[]>;
  snapshots?: (source: string) => SnapshotControl | undefined;
  halted?: () => string | null;
  version: string;
  startedAtMs: number;
  now?: () => number;
}

/** How often the app samples the event counters. */
export const SAMPLE_INTERVAL_MS = 2_000;

export class StatusReporter {
  private readonly rates = new RateTracker();

  constructor(private readonly deps: StatusReporterDeps) {}

  async document(): Promise<StatusDocument> {
    const metrics = await this.deps.metrics(STATUS_METRICS);
    return buildStatus({
      components: this.deps.components(),
      metrics,
      snapshots: this.deps.snapshots,
      version: this.deps.version,
      startedAtMs: this.deps.startedAtMs,
      nowMs: (this.deps.now ?? Date.now)(),
      halted: this.deps.halted?.() ?? null,
      rates: this.rates,
    });
  }

  /** Records the counters now (the document is dropped). */
  async sample(): Promise<void> {
    await this.document();
  }
}
