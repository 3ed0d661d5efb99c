import { describe, expect, test } from 'bun:test';
import { OffsetTracker, partitionKey, type KafkaPosition } from '../../../../src/sources/kafka/offsets.ts';

const at = (topic: string, partition: number, offset: number, leaderEpoch = 0): KafkaPosition => ({ topic, partition, offset: BigInt(offset), leaderEpoch });

function tracker(assignment: Record<string, number[]> = { t: [0, 1, 2] }): OffsetTracker {
  const offsets = new OffsetTracker();
  offsets.assign(Object.entries(assignment).map(([topic, partitions]) => ({ topic, partitions })));
  return offsets;
}

describe('OffsetTracker.commitsFor', () => {
  test('per partition the highest delivered offset + 1, partitions independent', () => {
    const offsets = tracker({ t: [0, 1], u: [0] });
    const plan = offsets.commitsFor([at('t', 0, 5), at('t', 1, 9), at('t', 0, 6), at('u', 0, 0), at('t', 0, 7)]);
    expect(plan.notOwned).toBe(0);
    expect(plan.commits).toEqual([
      { topic: 't', partition: 0, offset: 8n, leaderEpoch: 0 },
      { topic: 't', partition: 1, offset: 10n, leaderEpoch: 0 },
      { topic: 'u', partition: 0, offset: 1n, leaderEpoch: 0 },
    ]);
  });

  test('the leader epoch of the highest position goes with the commit', () => {
    expect(tracker().commitsFor([at('t', 0, 5, 3), at('t', 0, 6, 4)]).commits[0]?.leaderEpoch).toBe(4);
  });

  test('nothing to commit for an empty acknowledgement', () => {
    expect(tracker().commitsFor([])).toEqual({ commits: [], notOwned: 0 });
  });

  test('never commits backwards while the partition is owned (re-read after a rebalance)', () => {
    const offsets = tracker();
    const first = offsets.commitsFor([at('t', 0, 0), at('t', 0, 9)]).commits;
    offsets.markCommitted(first);
    expect(offsets.committed('t', 0)).toBe(10n);
    // The group re-read 5..12 after a rejoin: the re-read 5..9 acks commit nothing, 10.. moves on.
    expect(offsets.commitsFor([at('t', 0, 5), at('t', 0, 9)]).commits).toEqual([]);
    expect(offsets.commitsFor([at('t', 0, 8), at('t', 0, 12)]).commits).toEqual([{ topic: 't', partition: 0, offset: 13n, leaderEpoch: 0 }]);
  });

  test('a late markCommitted of a lower offset does not lower the record', () => {
    const offsets = tracker();
    offsets.markCommitted([{ topic: 't', partition: 0, offset: 10n, leaderEpoch: 0 }]);
    offsets.markCommitted([{ topic: 't', partition: 0, offset: 4n, leaderEpoch: 0 }]);
    expect(offsets.committed('t', 0)).toBe(10n);
  });
});

describe('OffsetTracker: assignment changes', () => {
  test('positions of revoked partitions are counted, not committed, and never throw', () => {
    const offsets = tracker({ t: [0, 1, 2, 3] });
    expect(offsets.assign([{ topic: 't', partitions: [1, 3] }])).toEqual({ revoked: ['t:0', 't:2'], added: [], renewed: [] });
    const plan = offsets.commitsFor([at('t', 0, 4), at('t', 1, 4), at('t', 2, 7), at('t', 3, 1)]);
    expect(plan.notOwned).toBe(2);
    expect(plan.commits.map((c) => c.partition)).toEqual([1, 3]);
  });

  test('a partition revoked and assigned again starts a fresh ownership', () => {
    const offsets = tracker({ t: [0] });
    offsets.markCommitted(offsets.commitsFor([at('t', 0, 20)]).commits);
    offsets.assign([]);
    expect(offsets.owns('t', 0)).toBe(false);
    expect(offsets.assign([{ topic: 't', partitions: [0] }])).toEqual({ revoked: [], added: ['t:0'], renewed: [] });
    // Another member committed meanwhile; our own earlier record is not a floor any more.
    expect(offsets.committed('t', 0)).toBeUndefined();
    expect(offsets.commitsFor([at('t', 0, 15)]).commits).toEqual([{ topic: 't', partition: 0, offset: 16n, leaderEpoch: 0 }]);
  });

  test('commits confirmed after a revocation are not recorded', () => {
    const offsets = tracker({ t: [0] });
    const { commits } = offsets.commitsFor([at('t', 0, 3)]);
    offsets.assign(null);
    offsets.markCommitted(commits);
    expect(offsets.ownedPartitions()).toEqual([]);
    expect(offsets.committed('t', 0)).toBeUndefined();
  });

  test('a partition kept across a rebalance keeps its record', () => {
    const offsets = tracker({ t: [0, 1] });
    offsets.markCommitted([{ topic: 't', partition: 1, offset: 7n, leaderEpoch: 0 }]);
    expect(offsets.assign([{ topic: 't', partitions: [1, 2] }])).toEqual({ revoked: ['t:0'], added: ['t:2'], renewed: [] });
    expect(offsets.committed('t', 1)).toBe(7n);
  });

  test('clear() leaves nothing owned', () => {
    const offsets = tracker();
    offsets.clear();
    expect(offsets.commitsFor([at('t', 0, 1)])).toEqual({ commits: [], notOwned: 1 });
  });

  test('topics with a colon do not collide with partition keys of other topics', () => {
    expect(partitionKey('a:1', 2)).not.toBe(partitionKey('a', 12));
  });
});

describe('OffsetTracker.accept', () => {
  test('new offsets in order; re-read ones are duplicates; revoked partitions are not owned', () => {
    const offsets = tracker({ t: [0, 1] });
    expect(offsets.accept('t', 0, 0n)).toBe('new');
    expect(offsets.accept('t', 0, 1n)).toBe('new');
    expect(offsets.accept('t', 1, 0n)).toBe('new');
    // A new fetch stream re-reads from the committed offset (0): the pipeline has 0 and 1 already.
    expect(offsets.accept('t', 0, 0n)).toBe('duplicate');
    expect(offsets.accept('t', 0, 1n)).toBe('duplicate');
    expect(offsets.accept('t', 0, 2n)).toBe('new');
    expect(offsets.accept('t', 2, 0n)).toBe('not-owned');
  });

  test('a partition assigned again is read again from wherever the group resumes', () => {
    const offsets = tracker({ t: [0] });
    expect(offsets.accept('t', 0, 5n)).toBe('new');
    offsets.assign([]);
    expect(offsets.accept('t', 0, 6n)).toBe('not-owned');
    offsets.assign([{ topic: 't', partitions: [0] }]);
    expect(offsets.accept('t', 0, 3n)).toBe('new');
  });
});

describe('OffsetTracker: ownership across generations (exactly-once relays)', () => {
  const t = (...partitions: number[]) => [{ topic: 't', partitions }];

  test('kept across consecutive generations of the same member: continuous since its first generation', () => {
    const offsets = new OffsetTracker();
    expect(offsets.assign(t(0, 1), 5, 'm')).toEqual({ revoked: [], added: ['t:0', 't:1'], renewed: [] });
    expect(offsets.generation).toBe(5);
    expect(offsets.member).toBe('m');
    expect(offsets.assign(t(0), 6, 'm')).toEqual({ revoked: ['t:1'], added: [], renewed: [] });
    expect(offsets.continuous('t', 0, 5)).toBe(true);
    expect(offsets.continuous('t', 0, 6)).toBe(true);
    expect(offsets.continuous('t', 1, 5)).toBe(false);
    // Read before the partition was first assigned to this member (or under no generation at all).
    expect(offsets.continuous('t', 0, 4)).toBe(false);
    expect(offsets.continuous('t', 0, -1)).toBe(false);
  });

  test('revoked and assigned again: a new ownership, events read under the old one are not continuous', () => {
    const offsets = new OffsetTracker();
    offsets.assign(t(0, 1), 1, 'm');
    offsets.assign(t(1), 2, 'm');
    expect(offsets.assign(t(0, 1), 3, 'm')).toEqual({ revoked: [], added: ['t:0'], renewed: [] });
    expect(offsets.continuous('t', 0, 1)).toBe(false);
    expect(offsets.continuous('t', 0, 3)).toBe(true);
    expect(offsets.continuous('t', 1, 1)).toBe(true);
  });

  test('a generation skipped, or another member id: every kept partition is renewed', () => {
    const offsets = new OffsetTracker();
    offsets.assign(t(0, 1), 1, 'm');
    expect(offsets.assign(t(0, 1), 3, 'm')).toEqual({ revoked: [], added: [], renewed: ['t:0', 't:1'] });
    expect(offsets.continuous('t', 0, 1)).toBe(false);
    expect(offsets.continuous('t', 0, 3)).toBe(true);
    expect(offsets.assign(t(0), 4, 'other')).toEqual({ revoked: ['t:1'], added: [], renewed: ['t:0'] });
    expect(offsets.continuous('t', 0, 3)).toBe(false);
    // Left the group: nothing owned, no generation.
    offsets.clear();
    expect(offsets.generation).toBe(-1);
    expect(offsets.continuous('t', 0, 4)).toBe(false);
  });

  test('positions read under an earlier ownership are not committed, nor counted as this ownership\'s', () => {
    const offsets = new OffsetTracker();
    offsets.assign(t(0), 1, 'm');
    const read = (offset: number, generation: number): KafkaPosition => ({ ...at('t', 0, offset), generation });
    expect(offsets.accept('t', 0, 10n)).toBe('new');
    offsets.assign(t(0), 3, 'm'); // generation 2 missed: renewed
    // The group re-reads from the committed offset: accepted again under the new ownership.
    expect(offsets.accept('t', 0, 8n)).toBe('new');
    const plan = offsets.commitsFor([read(10, 1), read(8, 3)]);
    expect(plan.notOwned).toBe(1);
    expect(plan.commits).toEqual([{ topic: 't', partition: 0, offset: 9n, leaderEpoch: 0 }]);
  });

  test('the first offset pushed of a partition is remembered across ownerships', () => {
    const offsets = new OffsetTracker();
    offsets.assign(t(0), 1, 'm');
    expect(offsets.firstPushed('t', 0)).toBeUndefined();
    offsets.accept('t', 0, 42n);
    offsets.accept('t', 0, 43n);
    offsets.assign(t(), 2, 'm');
    offsets.assign(t(0), 3, 'm');
    offsets.accept('t', 0, 50n);
    expect(offsets.firstPushed('t', 0)).toBe(42n);
    expect(offsets.firstPushed('t', 1)).toBeUndefined();
  });

  test('the group ref answers the assignment\'s generation and member id, and ownership, as they change', () => {
    const offsets = new OffsetTracker();
    const ref = offsets.groupRef('g');
    expect([ref.id, ref.generation(), ref.member()]).toEqual(['g', -1, '']);
    offsets.assign(t(0), 7, 'm');
    expect([ref.generation(), ref.member(), ref.owns('t', 0, 7)]).toEqual([7, 'm', true]);
    offsets.assign(t(), 8, 'm');
    expect([ref.generation(), ref.owns('t', 0, 7)]).toEqual([8, false]);
    expect(offsets.committedByTransactions).toBe(false);
    ref.commitsInTransactions();
    expect(offsets.committedByTransactions).toBe(true);
  });
});
