/**
 * The exactly-once check of the kill -9 harness (test/helpers/exactly-once/check.ts): it must pass
 * a clean read and catch each way of breaking exactly-once (lost, duplicated, reordered, never
 * committed, a row split over partitions), or the harness could not fail.
 */
import { describe, expect, test } from 'bun:test';
import { ExactlyOnceCheck, checkExactlyOnce, type ReadRecord } from '../../helpers/exactly-once/check.ts';

/** Rows 1 (versions 1..3), 2 (1..2), 3 (1): six committed changes. */
const committed = new Map([[1, 3], [2, 2], [3, 1]]);

/** A read in commit order: row 1 and 3 in partition 0, row 2 in partition 1. */
function clean(): ReadRecord[] {
  const changes: [number, number][] = [[1, 1], [2, 1], [1, 2], [3, 1], [2, 2], [1, 3]];
  const offsets = [0n, 0n];
  return changes.map(([id, version]) => {
    const partition = id === 2 ? 1 : 0;
    return { id, version, partition, offset: offsets[partition]!++ };
  });
}

const zero = { lost: 0, duplicates: 0, reordered: 0, unknown: 0, split: 0 };

describe('exactly-once check', () => {
  test('every committed version once, in order: passes', () => {
    const report = checkExactlyOnce(committed, clean());
    expect(report).toEqual({ records: 6, distinct: 6, ...zero, perPartition: [4, 2], problems: [] });
  });

  test('a version never read: lost', () => {
    const records = clean().filter((r) => !(r.id === 1 && r.version === 2));
    const report = checkExactlyOnce(committed, records);
    expect(report).toMatchObject({ records: 5, distinct: 5, ...zero, lost: 1 });
    expect(report.problems).toEqual(['lost: row 1: 1 of its 3 committed versions never read (e.g. 2)']);
  });

  test('a row never read at all: all its versions lost', () => {
    const report = checkExactlyOnce(committed, clean().filter((r) => r.id !== 2));
    expect(report).toMatchObject({ ...zero, lost: 2 });
  });

  test('a version read twice (a replay after a kill): a duplicate, not lost, not reordered', () => {
    const records = clean();
    // The tail replayed after a crash: row 2 version 2 and row 1 version 3 once more.
    records.push({ id: 2, version: 2, partition: 1, offset: 3n }, { id: 1, version: 3, partition: 0, offset: 4n });
    const report = checkExactlyOnce(committed, records);
    expect(report).toMatchObject({ records: 8, distinct: 6, ...zero, duplicates: 2 });
    expect(report.problems).toEqual([
      'duplicate: row 2 version 2: read again at partition 1 offset 3',
      'duplicate: row 1 version 3: read again at partition 0 offset 4',
    ]);
  });

  test('versions of a row out of commit order: reordered', () => {
    const records = clean();
    const v2 = records.findIndex((r) => r.id === 1 && r.version === 2);
    const v3 = records.findIndex((r) => r.id === 1 && r.version === 3);
    [records[v2], records[v3]] = [records[v3]!, records[v2]!];
    const report = checkExactlyOnce(committed, records);
    expect(report).toMatchObject({ distinct: 6, ...zero, reordered: 1 });
    expect(report.problems[0]).toStartWith('reordered: row 1: version 2 ');
  });

  test('a version that was never committed (an aborted transaction read): unknown', () => {
    const report = checkExactlyOnce(committed, [...clean(), { id: 3, version: 2, partition: 0, offset: 9n }, { id: 7, version: 1, partition: 0, offset: 10n }]);
    expect(report).toMatchObject({ records: 8, distinct: 6, ...zero, unknown: 2 });
  });

  test('one row in two partitions: reported (its order is not defined)', () => {
    const records = clean();
    records.find((r) => r.id === 1 && r.version === 3)!.partition = 1;
    expect(checkExactlyOnce(committed, records)).toMatchObject({ ...zero, split: 1 });
  });

  test('many problems of a kind: a few examples and the total', () => {
    const many = new Map(Array.from({ length: 20 }, (_, i) => [i + 1, 1] as [number, number]));
    const report = checkExactlyOnce(many, []);
    expect(report.lost).toBe(20);
    expect(report.problems.length).toBe(6);
    expect(report.problems.at(-1)).toBe('lost: ... 20 in all');
  });

  test('complete(): only once every committed version was read', () => {
    const check = new ExactlyOnceCheck(committed);
    const records = clean();
    for (const record of records.slice(0, -1)) check.add(record);
    expect(check.complete()).toBe(false);
    check.add(records.at(-1)!);
    expect(check.complete()).toBe(true);
  });
});
