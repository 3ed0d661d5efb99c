/**
 * Read-committed filtering of fetched batches (src/sources/kafka/read-committed.ts): the batches
 * of every aborted transaction go, committed and non-transactional ones and all control batches stay.
 */
import { describe, expect, test } from 'bun:test';
import { dropAbortedBatches, keepCommitted, type FetchedBatch } from '../../../../src/sources/kafka/read-committed.ts';

const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;

/** A data batch of `count` records at `offset`; producer -1 = not transactional. */
const data = (offset: number, producer: number, count = 2): FetchedBatch => ({
  firstOffset: BigInt(offset), lastOffsetDelta: count - 1, producerId: BigInt(producer),
  attributes: producer >= 0 ? TRANSACTIONAL : 0, records: Array.from({ length: count }, () => ({ key: null })),
});
/** A transaction marker of `producer` at `offset`: type 0 abort, 1 commit. */
const marker = (offset: number, producer: number, type: 'abort' | 'commit'): FetchedBatch => ({
  firstOffset: BigInt(offset), lastOffsetDelta: 0, producerId: BigInt(producer), attributes: TRANSACTIONAL | CONTROL,
  records: [{ key: Uint8Array.of(0, 0, 0, type === 'abort' ? 0 : 1) }],
});
const offsets = (batches: FetchedBatch[]) => batches.map((b) => `${b.firstOffset}${(b.attributes & CONTROL) !== 0 ? 'm' : ''}`);

describe('keepCommitted', () => {
  test('one producer aborting twice in one fetch: both aborted transactions go (the client kept the first)', () => {
    const batches = [
      data(0, 7), marker(2, 7, 'commit'),
      data(3, 7), marker(5, 7, 'abort'),
      data(6, 7), marker(8, 7, 'abort'),
      data(9, 7), marker(11, 7, 'commit'),
    ];
    const kept = keepCommitted(batches, [{ producerId: 7n, firstOffset: 3n }, { producerId: 7n, firstOffset: 6n }]);
    expect(offsets(kept)).toEqual(['0', '2m', '5m', '8m', '9', '11m']);
  });

  test('interleaved producers: only the aborting one\'s batches of that transaction go; non-transactional batches stay', () => {
    const batches = [
      data(0, 1), data(2, 2), data(4, -1), data(6, 1),
      marker(8, 1, 'abort'), data(9, 2), marker(11, 2, 'commit'), data(12, 1), marker(14, 1, 'commit'),
    ];
    const kept = keepCommitted(batches, [{ producerId: 1n, firstOffset: 0n }]);
    expect(offsets(kept)).toEqual(['2', '4', '8m', '9', '11m', '12', '14m']);
  });

  test('an aborted transaction whose marker is in a later fetch: its batches still go', () => {
    const kept = keepCommitted([data(0, 3), data(2, 3)], [{ producerId: 3n, firstOffset: 0n }]);
    expect(kept).toEqual([]);
  });

  test('aborted transactions listed out of order, or starting before the fetched range', () => {
    const batches = [data(10, 4), marker(12, 4, 'abort'), data(13, 5), marker(15, 5, 'abort'), data(16, 4), marker(18, 4, 'commit')];
    const kept = keepCommitted(batches, [{ producerId: 5n, firstOffset: 13n }, { producerId: 4n, firstOffset: 8n }]);
    expect(offsets(kept)).toEqual(['12m', '15m', '16', '18m']);
  });

  test('nothing aborted: everything stays', () => {
    const batches = [data(0, 1), marker(2, 1, 'commit'), data(3, -1)];
    expect(keepCommitted(batches, [])).toEqual(batches);
  });
});

test('dropAbortedBatches: every partition of a response, in place; partitions without aborted transactions untouched', () => {
  const untouched = [data(0, 1)];
  const response = {
    responses: [{
      partitions: [
        { abortedTransactions: [{ producerId: 1n, firstOffset: 0n }], records: [data(0, 1), marker(2, 1, 'abort'), data(3, -1)] },
        { abortedTransactions: null, records: untouched },
        { abortedTransactions: [{ producerId: 1n, firstOffset: 0n }], records: null },
      ],
    }],
  };
  dropAbortedBatches(response);
  expect(offsets(response.responses[0]!.partitions[0]!.records!)).toEqual(['2m', '3']);
  expect(response.responses[0]!.partitions[1]!.records).toBe(untouched);
  expect(response.responses[0]!.partitions[2]!.records).toBeNull();
});
