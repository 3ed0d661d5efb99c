/**
 * The exactly-once sink's position records, pure (src/sinks/kafka/position-records.ts): the record a
 * transaction writes, encoded as a real record batch and parsed back with the library's reader (as
 * a Fetch answer is), and which record of each producer counts: the latest that is neither a
 * control record nor of an aborted transaction, a tombstone meaning "no position". Also the
 * cleanup.policy verdict.
 */
import { describe, expect, test } from 'bun:test';
import { Reader } from '../../../../src/kafka/library/protocol.ts';
import { readRecordsBatches } from '../../../../node_modules/@platformatic/kafka/dist/protocol/records.js';
import { encodeRecordBatch } from '../../../../src/kafka/protocol/record-batch.ts';
import {
  cleanupPolicyProblem, compactCommand, isCompacted, latestPositionRecords, positionRecord, type PositionBatch,
} from '../../../../src/sinks/kafka/position-records.ts';

const STREAM = '7000000000000000001/slot';
const at = (lsn: number, index: number) => ({ lsn: BigInt(lsn), index, stream: STREAM });
const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;

/** A fetched batch of one record at `offset` (key `id`, value a position or a tombstone), as the library parses it. */
function fetched(offset: number, id: string, position: ReturnType<typeof at> | null, producerId = 1n): PositionBatch {
  const record = position === null
    ? { key: new TextEncoder().encode(id), value: undefined, headers: { encoded: new Uint8Array([0]) } }
    : positionRecord(id, position, 'pg');
  const bytes = encodeRecordBatch([record], 1_000, { producerId, producerEpoch: 0, baseSequence: 0, transactional: true });
  const [batch] = readRecordsBatches(Reader.from(Buffer.from(bytes))) as unknown as PositionBatch[];
  return { ...batch!, firstOffset: BigInt(offset) };
}

/** A commit or abort marker of `producerId` at `offset`. */
function marker(offset: number, producerId: bigint, type: 'commit' | 'abort'): PositionBatch {
  return { firstOffset: BigInt(offset), lastOffsetDelta: 0, producerId, attributes: TRANSACTIONAL | CONTROL, records: [{ key: new Uint8Array([0, 0, 0, type === 'abort' ? 0 : 1]), value: null, offsetDelta: 0 }] };
}

const ids = new Set(['a', 'a.2', 'a.3']);

describe('latestPositionRecords', () => {
  test('the record a transaction writes reads back as its position, keyed by the transactional id', () => {
    const found = latestPositionRecords([fetched(0, 'a', at(4, 2)), marker(1, 1n, 'commit')], [], ids, 10n);
    expect(found).toEqual(new Map([['a', { position: at(4, 2), offset: 0n }]]));
  });

  test('the latest record of each producer counts; other keys and offsets at or after the window end are left out', () => {
    const batches = [
      fetched(0, 'a', at(1, 0)), marker(1, 1n, 'commit'),
      fetched(2, 'a.2', at(2, 0), 2n), marker(3, 2n, 'commit'),
      fetched(4, 'other-source', at(9, 9), 4n), marker(5, 4n, 'commit'),
      fetched(6, 'a', at(3, 0)), marker(7, 1n, 'commit'),
      fetched(8, 'a.2', at(4, 0), 2n), marker(9, 2n, 'commit'),
    ];
    expect(latestPositionRecords(batches, [], ids, 10n)).toEqual(new Map([
      ['a', { position: at(3, 0), offset: 6n }],
      ['a.2', { position: at(4, 0), offset: 8n }],
    ]));
    expect(latestPositionRecords(batches, [], ids, 8n).get('a.2')).toEqual({ position: at(2, 0), offset: 2n });
  });

  test("an aborted transaction's record is skipped: the one before it counts", () => {
    const batches = [fetched(0, 'a', at(1, 0)), marker(1, 1n, 'commit'), fetched(2, 'a', at(2, 0)), marker(3, 1n, 'abort')];
    expect(latestPositionRecords(batches, [{ producerId: 1n, firstOffset: 2n }], ids, 10n).get('a')).toEqual({ position: at(1, 0), offset: 0n });
    // Without the Fetch answer's list of aborted transactions it would count (what the list is for).
    expect(latestPositionRecords(batches, [], ids, 10n).get('a')?.position).toEqual(at(2, 0));
  });

  test('a tombstone is found, with no position: it hides older records of its key', () => {
    const found = latestPositionRecords([fetched(0, 'a', at(1, 0)), fetched(1, 'a', null)], [], ids, 10n);
    expect(found).toEqual(new Map([['a', { position: undefined, offset: 1n }]]));
  });

  test('a record of one of the ids that is not a position is an error naming its offset', () => {
    const bytes = encodeRecordBatch([{ key: new TextEncoder().encode('a'), value: new TextEncoder().encode('hello'), headers: { encoded: new Uint8Array([0]) } }], 1_000);
    const [batch] = readRecordsBatches(Reader.from(Buffer.from(bytes))) as unknown as PositionBatch[];
    expect(() => latestPositionRecords([{ ...batch!, firstOffset: 5n }], [], ids, 10n)).toThrow('the record of key "a" at offset 5 of the position topic: not a psql-streamer position');
  });
});

describe('cleanup.policy of the position topic', () => {
  test('compact (alone or with delete) keeps every key\'s last record; delete alone is a problem with a remedy', () => {
    expect(isCompacted('compact')).toBe(true);
    expect(isCompacted('compact,delete')).toBe(true);
    expect(isCompacted('delete, compact')).toBe(true);
    expect(isCompacted('delete')).toBe(false);
    expect(cleanupPolicyProblem('pos', 'compact')).toBeUndefined();
    expect(cleanupPolicyProblem('pos', 'delete')).toStartWith('the position topic "pos" has cleanup.policy=delete, not compact');
    expect(compactCommand('pos')).toBe('kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics --entity-name pos --add-config cleanup.policy=compact');
  });
});
