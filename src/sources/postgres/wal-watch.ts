/**
 * What a PostgreSQL source knows about its lag beyond its own positions: the slot monitor (the
 * server's view: slot-monitor.ts) and the commit times of received transactions (commit-times.ts),
 * put together for the gauges, /status and the stats line (docs/operations.md "WAL retention, lag
 * and budget"). The source calls the hooks below from its message handlers, once per transaction.
 */
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import { HistogramSeries } from '../../metrics/histogram-series.ts';
import type { ConnectOptions } from '../../pg/connection.ts';
import { PG_EPOCH_OFFSET_MICROS } from '../../replication/copy-both.ts';
import type { Lsn } from '../../replication/lsn.ts';
import { CommitTimes } from './commit-times.ts';
import { SlotMonitor } from './slot-monitor.ts';
import type { WalBudget } from './wal-budget.ts';

export interface WalWatchSettings {
  /** Poll interval of the slot monitor (0 = off). */
  slotMonitorIntervalMs: number;
  budget: WalBudget;
  /** Heartbeat interval (0 = off). */
  heartbeatIntervalMs: number;
  heartbeatPrefix: string;
  /** Heartbeat messages are delivered as events (otherwise only their position is). */
  heartbeatEvents: boolean;
}

/** The PostgreSQL epoch (2000-01-01 UTC) in Unix ms. */
export const PG_EPOCH_MS = Number(PG_EPOCH_OFFSET_MICROS / 1000n);

/** A pgoutput commit time (µs since 2000-01-01) as Unix milliseconds. */
export function pgTimeToUnixMs(us: bigint): number {
  return Number(us) / 1000 + PG_EPOCH_MS;
}

export class WalWatch {
  readonly commits = new CommitTimes();
  private readonly monitor: SlotMonitor | undefined;
  private readonly metrics: Metrics;
  private readonly commitToAck: (seconds: number) => void;

  constructor(
    private readonly name: string,
    readonly settings: WalWatchSettings,
    options: { metrics: Metrics; slot: string; connection: ConnectOptions; log: Logger; onSample(): void; onBudgetStop(message: string): void },
  ) {
    this.metrics = options.metrics;
    // Exposed from the start (at 0), so rate() has a first sample; observed per transaction, so off prom-client's path.
    const histogram = new HistogramSeries(options.metrics, options.metrics.commitToAckSeconds, { sourceName: name });
    this.commitToAck = (seconds) => histogram.observe(seconds);
    if (settings.slotMonitorIntervalMs > 0 || settings.heartbeatIntervalMs > 0) {
      this.monitor = new SlotMonitor({
        name,
        metrics: options.metrics,
        slot: options.slot,
        connection: options.connection,
        intervalMs: settings.slotMonitorIntervalMs,
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        heartbeatPrefix: settings.heartbeatPrefix,
        budget: settings.budget,
        log: options.log,
        onSample: options.onSample,
        onBudgetStop: options.onBudgetStop,
      });
    }
  }

  private started = false;

  /** Starts the slot monitor (once; later calls do nothing): when the slot exists, not before (source.ts). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.monitor?.start();
  }

  close(): Promise<void> {
    return this.monitor?.close() ?? Promise.resolve();
  }

  /** A non-transactional message with this prefix is a heartbeat to swallow (not an event). */
  isHeartbeat(prefix: string, transactional: boolean): boolean {
    return !transactional && !this.settings.heartbeatEvents && prefix === this.settings.heartbeatPrefix;
  }

  /**
   * Every sink acknowledged everything up to `position`: the transactions it covers leave the
   * seconds-behind bookkeeping, and their commit → acknowledgement times are observed.
   */
  delivered(position: Lsn, nowMs = Date.now()): void {
    this.commits.delivered(position, nowMs, this.commitToAck);
  }

  /** Sets the seconds-behind gauges (the slot gauges are set by each poll). */
  updateGauges(nowMs = Date.now()): void {
    const labels = { sourceName: this.name };
    this.metrics.deliveredLagSeconds.set(labels, this.commits.deliveredLagSeconds(nowMs));
    this.metrics.receivedLagSeconds.set(labels, this.commits.receivedLagSeconds(nowMs));
  }

  /** Degraded-state text for /status (budget, wal_status, monitor failures), or null. */
  warning(): string | null {
    return this.monitor?.warning() ?? null;
  }

  /** `slot: behind …, retained …; seconds behind: delivered 1.2, received 0.0`. */
  describe(nowMs = Date.now()): string {
    const seconds = `seconds behind: delivered ${this.commits.deliveredLagSeconds(nowMs).toFixed(1)}, received ${this.commits.receivedLagSeconds(nowMs).toFixed(1)}`;
    return this.monitor === undefined ? `slot monitor off; ${seconds}` : `slot: ${this.monitor.describe()}; ${seconds}`;
  }

  /** The heartbeat LSN last written, if any (tests, stats). */
  get lastHeartbeat(): Lsn | undefined {
    return this.monitor?.lastHeartbeat;
  }
}
