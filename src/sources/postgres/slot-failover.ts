/**
 * Failover slots (PostgreSQL 17+): whether the source creates its replication slot with FAILOVER
 * (config `failoverSlot`), and how it reports the slot's `failover` and `synced` flags at each
 * session start (an INFO line and the gauges source_slot_failover / source_slot_synced).
 * The setup on the servers and what happens on failover: docs/operations.md, "Failover and standbys".
 */
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import { supportsFailoverSlots } from '../../replication/commands.ts';
import type { Lsn } from '../../replication/lsn.ts';
import type { ReplicationSession } from '../../replication/session.ts';

/** What decides the FAILOVER flag of a slot the source creates. */
export interface FailoverInput {
  /** The source's `failoverSlot` key. */
  configured: boolean;
  serverVersionNum: number;
  /** The server is a standby (decoding on a standby, PostgreSQL 16+). */
  inRecovery: boolean;
}

/** Whether to create the slot with FAILOVER, and why not when not. */
export function slotFailoverPlan(input: FailoverInput): { failover: boolean; why?: string } {
  if (!input.configured) return { failover: false, why: 'failoverSlot = false' };
  if (!supportsFailoverSlots(input.serverVersionNum)) return { failover: false, why: `PostgreSQL ${Math.floor(input.serverVersionNum / 10000)} has no failover slots (17+)` };
  if (input.inRecovery) return { failover: false, why: 'the server is a standby, whose own slots cannot fail over' };
  return { failover: true };
}

/** The slot's flags as pg_replication_slots shows them (null: the server has no such column). */
export interface SlotFailoverState {
  failover: boolean | null;
  synced: boolean | null;
}

/** Creates the session's slot, with FAILOVER when the plan says so; returns its flags as created and its consistent point. */
export async function createSlotWithFailover(session: ReplicationSession, configured: boolean): Promise<SlotFailoverState & { consistentPoint: Lsn }> {
  const serverVersionNum = session.info.serverVersionNum;
  const supported = supportsFailoverSlots(serverVersionNum);
  // Only asked when it matters: a standby's own slots cannot be failover slots.
  const inRecovery = configured && supported && (await session.inRecovery());
  const { failover } = slotFailoverPlan({ configured, serverVersionNum, inRecovery });
  const consistentPoint = await session.createSlot({ failover });
  return supported ? { failover, synced: false, consistentPoint } : { failover: null, synced: null, consistentPoint };
}

/** The INFO line about a slot's failover state. */
export function describeSlotFailover(slot: string, state: SlotFailoverState): string {
  if (state.failover === null) return `Replication slot "${slot}" is not a failover slot (the server has none before PostgreSQL 17): after a failover to a standby it does not exist there`;
  const synced = state.synced
    ? '; it was synchronised from a former primary (synced = true): this server took over'
    : '';
  if (state.failover) return `Replication slot "${slot}" is a failover slot: standbys with sync_replication_slots = on keep a copy${synced}`;
  return `Replication slot "${slot}" is not a failover slot (failoverSlot = false, or created so): after a failover to a standby it does not exist there${synced}`;
}

/** Logs the slot's failover state and sets the gauges. */
export function reportSlotFailover(metrics: Metrics, sourceName: string, slot: string, state: SlotFailoverState, log: Logger): void {
  metrics.sourceSlotFailover.set({ sourceName }, state.failover ? 1 : 0);
  metrics.sourceSlotSynced.set({ sourceName }, state.synced ? 1 : 0);
  log.info(describeSlotFailover(slot, state));
}
