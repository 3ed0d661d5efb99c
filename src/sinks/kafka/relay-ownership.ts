/**
 * Exactly-once relays with several members in one consumer group (docs/kafka.md, "Relays"): a
 * transaction writes and commits only events of partitions the relaying consumer has owned without
 * a break since it read them. An event read before a rebalance moved its partition away (or away and
 * back) belongs to the partition's new owner, which re-reads it from the committed offset: it is left
 * out of the transaction, neither produced nor committed. The commit itself carries the current
 * generation and member id, so a rebalance between this check and the commit makes the coordinator
 * refuse it (ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, ...): the transaction is aborted and the next
 * attempt checks again.
 *
 * Ownership only ever ends (a generation once left behind never becomes continuous again), so an
 * event left out of one attempt is left out of every later one. Pure apart from the report callback.
 */
import type { ChangeEvent, KafkaOrigin } from '../../event/event.ts';
import type { BatchProgress } from './batch-state.ts';

/** Whether the relaying consumer still owns the partition the event was read from, since it read it. */
export function stillOwned(origin: KafkaOrigin): boolean {
  return origin.group.owns(origin.topic, origin.partition, origin.generation);
}

/** What `leaveOutMoved` left out. */
export interface LeftOut {
  /** Events whose partition moved. */
  events: number;
  /** Per group: the generation of its current assignment and the moved partitions (`topic:partition`). */
  groups: Map<string, { generation: number; partitions: Set<string> }>;
}

/**
 * Removes, in place, the pending messages (and routed events) of relayed events whose partition
 * moved; returns what was left out, or undefined when nothing was (the usual case: one pass, no
 * allocation).
 */
export function leaveOutMoved(p: BatchProgress): LeftOut | undefined {
  if (!p.pending.some((m) => m.event.origin !== undefined && !stillOwned(m.event.origin))) return undefined;
  const moved = new Set<ChangeEvent>();
  const groups = new Map<string, { generation: number; partitions: Set<string> }>();
  p.pending = p.pending.filter((m) => {
    const origin = m.event.origin;
    if (origin === undefined || stillOwned(origin)) return true;
    moved.add(m.event);
    let group = groups.get(origin.group.id);
    if (group === undefined) groups.set(origin.group.id, (group = { generation: origin.group.generation(), partitions: new Set() }));
    group.partitions.add(`${origin.topic}:${origin.partition}`);
    return false;
  });
  p.routed = p.routed.filter((e) => !moved.has(e));
  return { events: moved.size, groups };
}

/** One log line per group and generation: what a rebalance made this sink leave out. */
export class MovedPartitionLog {
  private readonly logged = new Map<string, number>();

  constructor(private readonly say: (line: string) => void) {}

  report(left: LeftOut): void {
    for (const [group, { generation, partitions }] of left.groups) {
      if (this.logged.get(group) === generation) continue;
      this.logged.set(group, generation);
      this.say(`Exactly once: partitions ${[...partitions].sort().join(', ')} of group "${group}" moved to another member (generation ${generation}); ` +
        'their events read before the rebalance are left out of the transaction, and their new owner relays them from the committed offsets');
    }
  }
}
