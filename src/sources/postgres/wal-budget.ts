/**
 * The WAL budget of a PostgreSQL source and what /status, the stats line and the log say about the
 * slot, as pure functions of the monitor's sample (docs/operations.md "WAL retention, lag and
 * budget"). The budget applies to the WAL the slot makes the server keep (WAL end − restart_lsn).
 */
import { describeSize } from '../../config/size.ts';
import type { SlotSample } from './slot-query.ts';

export type BudgetAction = 'wait' | 'stop';

export interface WalBudget {
  /** Soft limit in bytes (0 = off): warn. */
  warnBytes: number;
  /** Hard limit in bytes (0 = off): `action`. */
  maxBytes: number;
  action: BudgetAction;
}

/** Where the retained WAL stands against the budget. */
export type BudgetLevel = 'ok' | 'warn' | 'max';

/** Bytes behind the server's WAL end and retained by the slot (null when unknown). */
export interface SlotDistances {
  behindBytes: number | null;
  retainedBytes: number | null;
}

export function slotDistances(sample: SlotSample): SlotDistances {
  const since = (lsn: bigint | null): number | null => (lsn === null || lsn === 0n ? null : Math.max(0, Number(sample.walEnd - lsn)));
  return { behindBytes: since(sample.confirmedFlush), retainedBytes: since(sample.restart) };
}

export function budgetLevel(budget: WalBudget, retainedBytes: number): BudgetLevel {
  if (budget.maxBytes > 0 && retainedBytes > budget.maxBytes) return 'max';
  if (budget.warnBytes > 0 && retainedBytes > budget.warnBytes) return 'warn';
  return 'ok';
}

/** What to do after a poll: the new level, a line to log when the level changed, whether to stop. */
export interface BudgetStep {
  level: BudgetLevel;
  log: { level: 'info' | 'warn' | 'error'; text: string } | undefined;
  stop: boolean;
}

/** Compares `retainedBytes` with the budget; logs once per crossing (up or down). */
export function stepBudget(budget: WalBudget, previous: BudgetLevel, retainedBytes: number, slot: string): BudgetStep {
  const level = budgetLevel(budget, retainedBytes);
  const stop = level === 'max' && budget.action === 'stop';
  if (level === previous) return { level, log: undefined, stop };
  const retained = `the slot "${slot}" makes the server keep ${describeSize(retainedBytes)} of WAL`;
  if (level === 'max') {
    const then = budget.action === 'stop'
      ? 'walBudgetAction = "stop": stopping the source; the slot keeps its position, start again once the sinks can catch up or after raising the budget'
      : 'walBudgetAction = "wait": streaming on, the WAL stays until the sinks catch up (PostgreSQL drops it only past max_slot_wal_keep_size)';
    return { level, log: { level: 'error', text: `WAL budget exceeded: ${retained}, over walBudgetMax ${describeSize(budget.maxBytes)}; ${then}` }, stop };
  }
  if (level === 'warn') {
    const text = previous === 'ok'
      ? `WAL budget warning: ${retained}, over walBudgetWarn ${describeSize(budget.warnBytes)}; the sinks are not keeping up`
      : `WAL budget: ${retained}, back under walBudgetMax ${describeSize(budget.maxBytes)} (still over walBudgetWarn ${describeSize(budget.warnBytes)})`;
    return { level, log: { level: 'warn', text }, stop };
  }
  return { level, log: { level: 'info', text: `WAL budget: ${retained}, back under the budget` }, stop };
}

/** Why /status shows the source as degraded (it stays healthy), or null. */
export function slotWarning(slot: string, sample: SlotSample | undefined, level: BudgetLevel, budget: WalBudget): string | null {
  if (sample === undefined) return null;
  const problems: string[] = [];
  if (!sample.slotExists) problems.push(`replication slot "${slot}" does not exist on the server`);
  const { retainedBytes } = slotDistances(sample);
  if (level === 'max') problems.push(`WAL budget exceeded: ${describeSize(retainedBytes ?? 0)} retained > walBudgetMax ${describeSize(budget.maxBytes)}`);
  if (level === 'warn') problems.push(`WAL budget warning: ${describeSize(retainedBytes ?? 0)} retained > walBudgetWarn ${describeSize(budget.warnBytes)}`);
  if (sample.walStatus === 'unreserved') problems.push('wal_status unreserved: the slot keeps more WAL than max_slot_wal_keep_size, the next checkpoint invalidates it');
  if (sample.walStatus === 'lost') problems.push('wal_status lost: PostgreSQL invalidated the slot (max_slot_wal_keep_size); changes after its position are gone');
  return problems.length === 0 ? null : problems.join('; ');
}

/** The slot facts of /status and the stats line, after "slot: ": `behind 1.2 MiB, retained 55.3 MiB, wal_status reserved, safe_wal_size 1.0 GiB`. */
export function describeSlot(sample: SlotSample | undefined): string {
  if (sample === undefined) return 'not polled yet';
  if (!sample.slotExists) return 'missing';
  const { behindBytes, retainedBytes } = slotDistances(sample);
  const size = (bytes: number | null) => (bytes === null ? 'unknown' : describeSize(bytes));
  return `behind ${size(behindBytes)}, retained ${size(retainedBytes)}, wal_status ${sample.walStatus ?? 'unknown'}, ` +
    `safe_wal_size ${sample.safeWalSize !== null ? describeSize(sample.safeWalSize) : sample.walStatus === null ? 'unknown' : 'unlimited'}`;
}
