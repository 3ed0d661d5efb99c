/**
 * The slot monitor of a PostgreSQL source: on its own ordinary connection (pg/sql-client.ts), every
 * `slotMonitorInterval` it reads the server's WAL end and the slot's row (slot-query.ts), sets the
 * slot gauges and steps the WAL budget (wal-budget.ts); every `heartbeatInterval` it writes a
 * heartbeat message. A failed query closes the connection, is counted and logged once per outage,
 * and the next tick connects again. See docs/operations.md "WAL retention, lag and budget".
 */
import { withDeadline } from '../../core/deadline.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import type { ConnectOptions } from '../../pg/options.ts';
import { SqlClient } from '../../pg/sql-client.ts';
import { formatLsn, type Lsn } from '../../replication/lsn.ts';
import { heartbeatSql, parseHeartbeat, parseSlotSample, slotSampleSql, type SlotSample } from './slot-query.ts';
import { describeSlot, slotDistances, slotWarning, stepBudget, type BudgetLevel, type WalBudget } from './wal-budget.ts';

const WAL_STATUSES = ['reserved', 'extended', 'unreserved', 'lost', 'missing'] as const;
/** A poll or heartbeat that gets no answer within max(this, twice its interval) fails (a blackholed connection). */
const MIN_DEADLINE_MS = 10_000;

export interface SlotMonitorOptions {
  /** The source's name (metric label, messages). */
  name: string;
  metrics: Metrics;
  slot: string;
  connection: ConnectOptions;
  /** Poll interval (0 = no polls). */
  intervalMs: number;
  /** Heartbeat interval (0 = no heartbeats). */
  heartbeatIntervalMs: number;
  heartbeatPrefix: string;
  budget: WalBudget;
  log: Logger;
  /** After every successful poll. */
  onSample(): void;
  /** The hard limit was passed with walBudgetAction = "stop" (called once, with the message to log: not logged here). */
  onBudgetStop(message: string): void;
}

type Operation = 'poll' | 'heartbeat';

export class SlotMonitor {
  /** The last successful poll, if any. */
  sample: SlotSample | undefined;
  level: BudgetLevel = 'ok';
  /** LSN of the last heartbeat written, and how many were. */
  lastHeartbeat: Lsn | undefined;
  heartbeatCount = 0;
  private connection: SqlClient | undefined;
  private readonly timers = new Map<Operation, ReturnType<typeof setTimeout>>();
  /** Operations run one at a time on the one connection. */
  private busy: Promise<void> = Promise.resolve();
  /** Per operation: the error of the current outage (logged once), if failing. */
  private readonly failing = new Map<Operation, string>();
  private stopped = false;
  private stopRequested = false;

  constructor(private readonly options: SlotMonitorOptions) {}

  start(): void {
    const { budget, name } = this.options;
    if (budget.warnBytes > 0) this.options.metrics.walBudgetBytes.set({ sourceName: name, limit: 'warn' }, budget.warnBytes);
    if (budget.maxBytes > 0) this.options.metrics.walBudgetBytes.set({ sourceName: name, limit: 'max' }, budget.maxBytes);
    // Failure counters exposed from the start (at 0), for increase() (docs/operations.md "Dashboards and alerts").
    if (this.options.intervalMs > 0) this.options.metrics.slotMonitorErrors.inc({ sourceName: name, operation: 'poll' }, 0);
    if (this.options.heartbeatIntervalMs > 0) this.options.metrics.slotMonitorErrors.inc({ sourceName: name, operation: 'heartbeat' }, 0);
    if (this.options.intervalMs > 0) this.schedule('poll', 0);
    if (this.options.heartbeatIntervalMs > 0) this.schedule('heartbeat', this.options.heartbeatIntervalMs);
  }

  /** Why /status should show the source as degraded, or null. */
  warning(): string | null {
    const problems: string[] = [];
    const slot = slotWarning(this.options.slot, this.sample, this.level, this.options.budget);
    if (slot !== null) problems.push(slot);
    for (const [operation, error] of this.failing) problems.push(`slot monitor ${operation} failing: ${error}`);
    return problems.length === 0 ? null : problems.join('; ');
  }

  /** Slot facts for /status and the stats line. */
  describe(): string {
    const heartbeat = this.lastHeartbeat === undefined ? '' : `, last heartbeat ${formatLsn(this.lastHeartbeat)}`;
    return (this.options.intervalMs > 0 ? describeSlot(this.sample) : 'slot monitor off') + heartbeat;
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    // Closing first ends a query in progress (it fails, and is not reported once stopped).
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close().catch(() => {});
    await this.busy;
    // A connect abandoned at its deadline may have finished since.
    const late = this.connection as SqlClient | undefined;
    this.connection = undefined;
    await late?.close().catch(() => {});
  }

  private schedule(operation: Operation, waitMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(operation);
      this.busy = this.busy.then(() => this.run(operation)).finally(() => {
        this.schedule(operation, operation === 'poll' ? this.options.intervalMs : this.options.heartbeatIntervalMs);
      });
    }, waitMs);
    this.timers.set(operation, timer);
  }

  private async run(operation: Operation): Promise<void> {
    if (this.stopped) return;
    const interval = operation === 'poll' ? this.options.intervalMs : this.options.heartbeatIntervalMs;
    const deadline = Math.max(MIN_DEADLINE_MS, 2 * interval);
    try {
      await withDeadline(this.runOnce(operation), deadline, () => new Error(`no answer from the server within ${deadline}ms`));
      const outage = this.failing.get(operation);
      if (outage !== undefined) {
        this.failing.delete(operation);
        this.options.log.info(`Slot monitor: ${operation} works again`);
      }
    } catch (err) {
      if (this.stopped) return;
      this.options.metrics.slotMonitorErrors.inc({ sourceName: this.options.name, operation });
      const message = describeError(err);
      if (!this.failing.has(operation)) {
        this.options.log.warn(`Slot monitor: ${operation} failed: ${message}; retrying every ${interval}ms (logged once until it works again)`);
      }
      this.failing.set(operation, message);
      const connection = this.connection;
      this.connection = undefined;
      await connection?.close().catch(() => {});
    }
  }

  private async runOnce(operation: Operation): Promise<void> {
    const connection = await this.connect();
    if (operation === 'poll') await this.poll(connection);
    else await this.heartbeat(connection);
  }

  private async connect(): Promise<SqlClient> {
    if (this.connection !== undefined && !this.connection.closed) return this.connection;
    const base = this.options.connection;
    this.connection = await SqlClient.connect({
      ...base,
      applicationName: `${base.applicationName ?? 'psql-streamer'} slot monitor`.slice(0, 63),
    });
    return this.connection;
  }

  private async poll(connection: SqlClient): Promise<void> {
    const sample = parseSlotSample(await connection.query(slotSampleSql(this.options.slot)));
    this.sample = sample;
    this.setGauges(sample);
    const { retainedBytes } = slotDistances(sample);
    const step = stepBudget(this.options.budget, this.level, retainedBytes ?? 0, this.options.slot);
    this.level = step.level;
    const labels = { sourceName: this.options.name };
    if (this.options.budget.warnBytes > 0) this.options.metrics.walBudgetExceeded.set({ ...labels, limit: 'warn' }, step.level === 'ok' ? 0 : 1);
    if (this.options.budget.maxBytes > 0) this.options.metrics.walBudgetExceeded.set({ ...labels, limit: 'max' }, step.level === 'max' ? 1 : 0);
    this.options.onSample();
    if (step.stop) {
      if (!this.stopRequested) {
        this.stopRequested = true;
        this.options.onBudgetStop(step.log?.text ?? 'WAL budget exceeded: over walBudgetMax with walBudgetAction = "stop"');
      }
      return;
    }
    if (step.log) this.options.log[step.log.level](step.log.text);
  }

  private setGauges(sample: SlotSample): void {
    const labels = { sourceName: this.options.name };
    const { behindBytes, retainedBytes } = slotDistances(sample);
    if (behindBytes === null) this.options.metrics.slotBehindBytes.remove(labels);
    else this.options.metrics.slotBehindBytes.set(labels, behindBytes);
    if (retainedBytes === null) this.options.metrics.slotRetainedBytes.remove(labels);
    else this.options.metrics.slotRetainedBytes.set(labels, retainedBytes);
    if (sample.safeWalSize === null) this.options.metrics.slotSafeWalSize.remove(labels);
    else this.options.metrics.slotSafeWalSize.set(labels, sample.safeWalSize);
    const current = sample.slotExists ? sample.walStatus : 'missing';
    for (const status of WAL_STATUSES) this.options.metrics.slotWalStatus.set({ ...labels, status }, status === current ? 1 : 0);
  }

  private async heartbeat(connection: SqlClient): Promise<void> {
    this.lastHeartbeat = parseHeartbeat(await connection.query(heartbeatSql(this.options.heartbeatPrefix, new Date().toISOString())));
    this.heartbeatCount++;
    this.options.metrics.heartbeats.inc({ sourceName: this.options.name });
    this.options.log.debug(`Heartbeat written at ${formatLsn(this.lastHeartbeat)}`);
  }
}
