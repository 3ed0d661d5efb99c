/**
 * Read-committed filtering of fetched batches (src/sources/kafka/read-committed.ts): the batches
 * of every aborted transaction are found and emptied; committed and non-transactional ones and all
 * control batches stay as they are.
 */
import { describe, expect, test } from 'bun:test';
import { abortedBatches, type FetchedBatch } from '../../../../src/kafka/protocol/aborted-batches.ts';
import { dropAbortedBatches } from '../../../../src/sources/kafka/read-committed.ts';

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

describe('abortedBatches', () => {
  test('one producer aborting twice in one fetch: both aborted transactions go (the client kept the first)', () => {
    const batches = [
      data(0, 7), marker(2, 7, 'commit'),
      data(3, 7), marker(5, 7, 'abort'),
      data(6, 7), marker(8, 7, 'abort'),
      data(9, 7), marker(11, 7, 'commit'),
    ];
    const aborted = abortedBatches(batches, [{ producerId: 7n, firstOffset: 3n }, { producerId: 7n, firstOffset: 6n }]);
    expect(offsets(aborted)).toEqual(['3', '6']);
  });

  test('interleaved producers: only the aborting one\'s batches of that transaction go; non-transactional batches stay', () => {
    const batches = [
      data(0, 1), data(2, 2), data(4, -1), data(6, 1),
      marker(8, 1, 'abort'), data(9, 2), marker(11, 2, 'commit'), data(12, 1), marker(14, 1, 'commit'),
    ];
    const aborted = abortedBatches(batches, [{ producerId: 1n, firstOffset: 0n }]);
    expect(offsets(aborted)).toEqual(['0', '6']);
  });

  test('an aborted transaction whose marker is in a later fetch: its batches still go', () => {
    const aborted = abortedBatches([data(0, 3), data(2, 3)], [{ producerId: 3n, firstOffset: 0n }]);
    expect(offsets(aborted)).toEqual(['0', '2']);
  });

  test('aborted transactions listed out of order, or starting before the fetched range', () => {
    const batches = [data(10, 4), marker(12, 4, 'abort'), data(13, 5), marker(15, 5, 'abort'), data(16, 4), marker(18, 4, 'commit')];
    const aborted = abortedBatches(batches, [{ producerId: 5n, firstOffset: 13n }, { producerId: 4n, firstOffset: 8n }]);
    expect(offsets(aborted)).toEqual(['10', '13']);
  });

  test('an abort marker without records after a committed transaction: the committed one stays (the client dropped it)', () => {
    // A killed transaction that added this partition but wrote nothing to it: its abort marker at 6 is not listed.
    const batches = [data(0, 7), marker(2, 7, 'abort'), data(3, 7), marker(5, 7, 'commit'), marker(6, 7, 'abort'), data(7, 7), marker(9, 7, 'commit')];
    const aborted = abortedBatches(batches, [{ producerId: 7n, firstOffset: 0n }]);
    expect(offsets(aborted)).toEqual(['0']);
  });

  test('nothing aborted: no batch', () => {
    const batches = [data(0, 1), marker(2, 1, 'commit'), data(3, -1)];
    expect(abortedBatches(batches, [])).toEqual([]);
  });
});

test('dropAbortedBatches: aborted batches of every partition emptied in place, still there (the client takes the next fetch offset from the last batch)', () => {
  const untouched = [data(0, 1)];
  const cut = [data(0, 1), marker(2, 1, 'abort'), data(3, -1), data(5, 1)];
  const response = {
    responses: [{
      partitions: [
        { abortedTransactions: [{ producerId: 1n, firstOffset: 0n }, { producerId: 1n, firstOffset: 5n }], records: cut },
        { abortedTransactions: null, records: untouched },
        { abortedTransactions: [{ producerId: 1n, firstOffset: 0n }], records: null },
      ],
    }],
  };
  dropAbortedBatches(response);
  const [first, second, third] = response.responses[0]!.partitions;
  // The response ends inside an aborted transaction (its marker comes with the next fetch): its batch stays, empty.
  expect(first!.records!.map((b) => `${b.firstOffset}:${b.records.length}`)).toEqual(['0:0', '2:1', '3:2', '5:0']);
  expect(second!.records).toBe(untouched);
  expect(second!.records![0]!.records.length).toBe(2);
  expect(third!.records).toBeNull();
});
