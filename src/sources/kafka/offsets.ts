/**
 * Offset bookkeeping of the Kafka source, pure: which partitions this member owns, and which
 * offsets to commit for positions every sink delivered.
 *
 * The pipeline acknowledges positions in push order, and the source pushes every message of a
 * partition in offset order (malformed ones as bare positions), from the group's committed offset
 * on. So when a position is acknowledged, every earlier message of its partition was delivered, and
 * committing its offset + 1 never passes an undelivered message. Partitions are independent.
 */

/** Where a message is: the position the Kafka source pushes with it. */
export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: bigint;
  /** Leader epoch of the record, sent with the commit (KIP-320); -1 when unknown. */
  leaderEpoch: number;
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
 */
export class OffsetTracker {
  /** Owned partitions → what happened during this ownership. */
  private readonly owned = new Map<string, Ownership>();
  /** The same by topic, then partition number: per-message lookups build no key string. */
  private index = new Map<string, (Ownership | undefined)[]>();

  /** Replaces the assignment; returns the partitions that were revoked and added. */
  assign(assignments: readonly TopicPartitions[] | null | undefined): { revoked: string[]; added: string[] } {
    const next = new Set<string>();
    for (const { topic, partitions } of assignments ?? []) for (const p of partitions) next.add(partitionKey(topic, p));
    const revoked = [...this.owned.keys()].filter((key) => !next.has(key));
    const added = [...next].filter((key) => !this.owned.has(key));
    for (const key of revoked) this.owned.delete(key);
    for (const key of added) this.owned.set(key, {});
    this.index = new Map();
    for (const { topic, partitions } of assignments ?? []) {
      const byPartition: (Ownership | undefined)[] = [];
      for (const p of partitions) byPartition[p] = this.owned.get(partitionKey(topic, p));
      this.index.set(topic, byPartition);
    }
    return { revoked, added };
  }

  /** Left the group: owns nothing. */
  clear(): void {
    this.owned.clear();
    this.index = new Map();
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
    ownership.pushed = offset;
    return 'new';
  }

  /** The commits that make `positions` (delivered, in push order) durable. */
  commitsFor(positions: readonly KafkaPosition[]): CommitPlan {
    const highest = new Map<Ownership, KafkaPosition>();
    let notOwned = 0;
    for (const position of positions) {
      const ownership = this.ownership(position.topic, position.partition);
      if (ownership === undefined) {
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

interface Ownership {
  /** Offset committed during this ownership. */
  committed?: bigint;
  /** Highest offset pushed to the pipeline during this ownership. */
  pushed?: bigint;
}
