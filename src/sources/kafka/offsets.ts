/**
 * Offset bookkeeping of the Kafka source, pure: which partitions this member owns, and which
 * offsets to commit for positions every sink delivered.
 *
 * The pipeline acknowledges positions in push order, and the source pushes every message of a
 * partition in offset order (malformed ones as bare positions), from the group's committed offset
 * on. So when a position is acknowledged, every earlier message of its partition was delivered, and
 * committing its offset + 1 never passes an undelivered message. Partitions are independent.
 */
import type { KafkaGroupRef } from '../../event/event.ts';

/** Where a message is: the position the Kafka source pushes with it. */
export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: bigint;
  /** Leader epoch of the record, sent with the commit (KIP-320); -1 when unknown. */
  leaderEpoch: number;
  /**
   * Group generation of the assignment the message was read under (-1 when not known): its offset
   * is committed only if this member has owned the partition without a break since then.
   */
  generation?: number;
}

/** One OffsetCommit entry: `offset` is the next offset to read (last delivered + 1). */
export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
}

/** Partitions of one topic, as the group assigns them. */
export interface TopicPartitions {
  topic: string;
  partitions: readonly number[];
}

/** What `assign` changed. */
export interface AssignmentChange {
  revoked: string[];
  added: string[];
  /**
   * Partitions kept by key whose ownership still starts again: the new generation does not follow
   * the last one this member took part in (or the member id changed), so another member may have
   * owned them in between.
   */
  renewed: string[];
}

/** What a call to `commitsFor` decided. */
export interface CommitPlan {
  /** Highest delivered offset + 1 per owned partition, when beyond what was committed already. */
  commits: OffsetCommit[];
  /** Positions of partitions this member does not own (any more): not committed. */
  notOwned: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * Owned partitions and the offsets committed while owning them.
 *
 * - After a partition is revoked, its late acknowledgements are not committed: its new owner
 *   re-reads from the last commit (at-least-once) and commits its own progress, which a late,
 *   lower commit of ours would move back.
 * - While owned, a commit never goes backwards: after a rebalance the group re-reads from the
 *   committed offset, and the acknowledgements of those re-read messages must not undo a commit
 *   made in between.
 * - Ownership is continuous only across consecutive generations of the group with the same member
 *   id: a partition kept from generation g to g + 1 was nobody else's in between; after a gap (a
 *   failed SyncGroup, an expired session) it starts again, and so does one revoked and assigned
 *   again. `continuous(topic, partition, generation)` tells an exactly-once relay whether a
 *   message read under `generation` still belongs to this member (docs/kafka.md, "Relays").
 */
export class OffsetTracker {
  /** Owned partitions → what happened during this ownership. */
  private readonly owned = new Map<string, Ownership>();
  /** The same by topic, then partition number: per-message lookups build no key string. */
  private index = new Map<string, (Ownership | undefined)[]>();
  /** Generation and member id of the current assignment (-1 / '' when not a member). */
  private currentGeneration = -1;
  private currentMember = '';
  /** An exactly-once sink commits the offsets in its transactions (KafkaGroupRef.commitsInTransactions). */
  private transactional = false;
  /** First offset pushed per partition, kept across ownerships (see `firstPushed`). */
  private readonly first = new Map<string, bigint>();

  get generation(): number {
    return this.currentGeneration;
  }

  get member(): string {
    return this.currentMember;
  }

  /**
   * Replaces the assignment of `generation` (given by the group to `member`); returns the
   * partitions that were revoked, added, and kept but renewed (see AssignmentChange). Without
   * generations (-1, before and now), a kept partition stays owned.
   */
  assign(assignments: readonly TopicPartitions[] | null | undefined, generation = -1, member = ''): AssignmentChange {
    const next = new Set<string>();
    for (const { topic, partitions } of assignments ?? []) for (const p of partitions) next.add(partitionKey(topic, p));
    const previous = this.currentGeneration;
    const follows = generation < 0 && previous < 0
      ? true // no generations at all (not a group member's tracker): keys alone decide, as before generations were tracked
      : previous >= 0 && member === this.currentMember && (generation === previous + 1 || generation === previous);
    const revoked = [...this.owned.keys()].filter((key) => !next.has(key));
    const added = [...next].filter((key) => !this.owned.has(key));
    const renewed = follows ? [] : [...next].filter((key) => this.owned.has(key));
    for (const key of revoked) this.owned.delete(key);
    for (const key of [...added, ...renewed]) this.owned.set(key, { since: generation });
    this.currentGeneration = generation;
    this.currentMember = member;
    this.index = new Map();
    for (const { topic, partitions } of assignments ?? []) {
      const byPartition: (Ownership | undefined)[] = [];
      for (const p of partitions) byPartition[p] = this.owned.get(partitionKey(topic, p));
      this.index.set(topic, byPartition);
    }
    return { revoked, added, renewed };
  }

  /**
   * The group ref of a source (event.ts): the generation and member id of the assignment this
   * tracker holds (-1 / '' while not a member), and `continuous`. The assignment's generation, not
   * the consumer's latest: the consumer takes a new generation at JoinGroup, before SyncGroup tells
   * it what it owns, and a commit must carry the generation whose ownership was checked.
   */
  groupRef(id: string): KafkaGroupRef {
    return {
      id,
      generation: () => this.currentGeneration,
      member: () => this.currentMember,
      owns: (topic, partition, generation) => this.continuous(topic, partition, generation),
      commitsInTransactions: () => void (this.transactional = true),
    };
  }

  /** Whether an exactly-once sink took over the commits (the source then commits nothing itself). */
  get committedByTransactions(): boolean {
    return this.transactional;
  }

  /** Left the group: owns nothing. */
  clear(): void {
    this.owned.clear();
    this.index = new Map();
    this.currentGeneration = -1;
    this.currentMember = '';
  }

  /**
   * Whether this member has owned the partition without a break since `generation` (a message read
   * under that generation is still this member's to relay and commit). False for a partition not
   * owned, or owned again since: its new owner re-reads from the committed offset.
   */
  continuous(topic: string, partition: number, generation: number): boolean {
    const ownership = this.ownership(topic, partition);
    return ownership !== undefined && generation >= 0 && ownership.since >= 0 && ownership.since <= generation;
  }

  /**
   * The first offset this process pushed of the partition, under any ownership. When the group has
   * no committed offset for a partition this member owns again, its fetch must start there, not
   * where the client's in-memory position stands: the messages of the earlier ownership were left
   * out by an exactly-once relay (read-committed.ts uses it).
   */
  firstPushed(topic: string, partition: number): bigint | undefined {
    return this.first.get(partitionKey(topic, partition));
  }

  owns(topic: string, partition: number): boolean {
    return this.ownership(topic, partition) !== undefined;
  }

  private ownership(topic: string, partition: number): Ownership | undefined {
    return this.index.get(topic)?.[partition];
  }

  /** Owned partition keys (`topic:partition`). */
  ownedPartitions(): string[] {
    return [...this.owned.keys()];
  }

  /** Offset committed during the current ownership of the partition. */
  committed(topic: string, partition: number): bigint | undefined {
    return this.ownership(topic, partition)?.committed;
  }

  /**
   * Decides about a fetched message: `new` (push it), `duplicate` (pushed already during this
   * ownership: the group re-reads from its committed offset after a rejoin or a new fetch stream,
   * while the pipeline still holds the first copy, which it delivers or the process dies and
   * nothing was committed), or `not-owned` (a late fetch result of a revoked partition, whose new
   * owner reads it).
   */
  accept(topic: string, partition: number, offset: bigint): 'new' | 'duplicate' | 'not-owned' {
    const ownership = this.ownership(topic, partition);
    if (ownership === undefined) return 'not-owned';
    if (ownership.pushed !== undefined && offset <= ownership.pushed) return 'duplicate';
    if (ownership.pushed === undefined && this.first.size < MAX_FIRST_PUSHED) {
      const key = partitionKey(topic, partition);
      if (!this.first.has(key)) this.first.set(key, offset);
    }
    ownership.pushed = offset;
    return 'new';
  }

  /** The commits that make `positions` (delivered, in push order) durable. */
  commitsFor(positions: readonly KafkaPosition[]): CommitPlan {
    const highest = new Map<Ownership, KafkaPosition>();
    let notOwned = 0;
    for (const position of positions) {
      const ownership = this.ownership(position.topic, position.partition);
      // Read under an earlier ownership: the partition was another member's in between.
      if (ownership === undefined || (position.generation !== undefined && position.generation < ownership.since)) {
        notOwned++;
        continue;
      }
      const current = highest.get(ownership);
      if (current === undefined || position.offset > current.offset) highest.set(ownership, position);
    }
    const commits: OffsetCommit[] = [];
    for (const [ownership, position] of highest) {
      const next = position.offset + 1n;
      const committed = ownership.committed;
      if (committed !== undefined && next <= committed) continue;
      commits.push({ topic: position.topic, partition: position.partition, offset: next, leaderEpoch: position.leaderEpoch });
    }
    return { commits, notOwned };
  }

  /** The broker accepted `commits`; partitions revoked meanwhile stay forgotten. */
  markCommitted(commits: readonly OffsetCommit[]): void {
    for (const commit of commits) {
      const ownership = this.ownership(commit.topic, commit.partition);
      if (ownership === undefined) continue;
      if (ownership.committed === undefined || commit.offset > ownership.committed) ownership.committed = commit.offset;
    }
  }
}

/** Partitions whose first pushed offset is remembered, at most (a bound, never reached by real assignments). */
const MAX_FIRST_PUSHED = 100_000;

interface Ownership {
  /** Generation since which the partition is owned without a break (-1: unknown). */
  since: number;
  /** Offset committed during this ownership. */
  committed?: bigint;
  /** Highest offset pushed to the pipeline during this ownership. */
  pushed?: bigint;
}
