/**
 * The exactly-once harness's log audit (test/helpers/exactly-once/log-audit.ts), its pure part:
 * each transactional record takes the fate of its producer's next control marker on the partition.
 */
import { describe, expect, test } from 'bun:test';
import { auditPartition, type AuditBatch } from '../../helpers/exactly-once/log-audit.ts';

const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;

const data = (offset: number, producer: number, values: string[], transactional = true): AuditBatch => ({
  firstOffset: BigInt(offset), lastOffsetDelta: values.length - 1, producerId: BigInt(producer), producerEpoch: 0,
  attributes: transactional ? TRANSACTIONAL : 0,
  records: values.map((v, i) => ({ offsetDelta: i, value: Buffer.from(v) })),
});
const marker = (offset: number, producer: number, type: 'abort' | 'commit'): AuditBatch => ({
  firstOffset: BigInt(offset), lastOffsetDelta: 0, producerId: BigInt(producer), producerEpoch: 0, attributes: TRANSACTIONAL | CONTROL,
  records: [{ offsetDelta: 0, key: Buffer.from([0, 0, 0, type === 'abort' ? 0 : 1]) }],
});
const parse = (value: string) => ({ id: Number(value), version: 1 });
const fates = (batches: AuditBatch[]) => auditPartition(0, batches, parse).map((r) => `${r.offset}:${r.fate}`);

describe('auditPartition', () => {
  test('each producer\'s records take its next marker\'s fate; an abort without records changes nothing before it', () => {
    const batches = [
      data(0, 1, ['1', '2']), data(2, 2, ['3']), marker(3, 1, 'abort'),
      data(4, 1, ['4']), marker(5, 1, 'commit'), marker(6, 1, 'abort'), marker(7, 2, 'commit'),
    ];
    expect(fates(batches)).toEqual(['0:aborted', '1:aborted', '2:committed', '4:committed']);
  });

  test('non-transactional records are committed; records without a marker yet are open', () => {
    expect(fates([data(0, -1, ['1'], false), data(1, 3, ['2'])])).toEqual(['0:committed', '1:open']);
  });

  test('values are parsed once, into the row the check needs', () => {
    expect(auditPartition(2, [data(10, 1, ['7']), marker(11, 1, 'commit')], parse)).toEqual([
      { partition: 2, offset: 10n, event: { id: 7, version: 1 }, producerId: 1n, producerEpoch: 0, fate: 'committed' },
    ]);
  });
});
