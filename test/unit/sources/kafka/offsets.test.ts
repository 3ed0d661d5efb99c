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
