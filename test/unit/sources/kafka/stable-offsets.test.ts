import { describe, expect, test } from 'bun:test';
import { emptyFetch, fillMissingOffsets, isUnstableOffsetCommit, unstableWaitMs, type OffsetFetchResponse } from '../../../../src/sources/kafka/stable-offsets.ts';

describe('stable offset fetches', () => {
  test('UNSTABLE_OFFSET_COMMIT is recognised however deep the client nests it, and nothing else is', () => {
    const unstable = { apiId: 'UNSTABLE_OFFSET_COMMIT', apiCode: 88 };
    expect(isUnstableOffsetCommit(unstable)).toBe(true);
    expect(isUnstableOffsetCommit({ message: 'listCommits failed 2 times.', errors: [new Error('x'), { errors: [{ apiCode: 88 }] }] })).toBe(true);
    expect(isUnstableOffsetCommit({ cause: unstable })).toBe(true);
    expect(isUnstableOffsetCommit({ apiId: 'NOT_COORDINATOR', apiCode: 16 })).toBe(false);
    expect(isUnstableOffsetCommit(new Error('UNSTABLE_OFFSET_COMMIT'))).toBe(false);
    expect(isUnstableOffsetCommit(undefined)).toBe(false);
    const loop: { errors: unknown[] } = { errors: [] };
    loop.errors.push(loop);
    expect(isUnstableOffsetCommit(loop)).toBe(false);
  });

  test('waits 50 ms doubling to 1 s', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(unstableWaitMs)).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
  });

  test('a partition without a committed offset starts at the first offset this process read of it, when it read it', () => {
    const response: OffsetFetchResponse = {
      groups: [{ topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: -1n }, { partitionIndex: 1, committedOffset: 7n }, { partitionIndex: 2, committedOffset: -1n }] }] }],
    };
    fillMissingOffsets(response, (topic, partition) => (topic === 't' && partition === 0 ? 42n : undefined));
    expect(response.groups![0]!.topics[0]!.partitions.map((p) => p.committedOffset)).toEqual([42n, 7n, -1n]);
    // The response of versions before 8 has its topics at the top.
    const legacy: OffsetFetchResponse = { topics: [{ name: 'u', partitions: [{ partitionIndex: 0, committedOffset: -1n }] }] };
    fillMissingOffsets(legacy, () => 3n);
    expect(legacy.topics![0]!.partitions[0]!.committedOffset).toBe(3n);
  });

  test('a stale fetch answer is emptied: no records, so no new fetch offset, for any partition', () => {
    const response = { responses: [{ partitions: [{ records: [{ firstOffset: 5n }] as unknown, partitionIndex: 0 }, { records: null as unknown, partitionIndex: 1 }] }] };
    emptyFetch(response);
    expect(response.responses[0]!.partitions).toEqual([{ records: null, partitionIndex: 0 }, { records: null, partitionIndex: 1 }]);
  });
});
