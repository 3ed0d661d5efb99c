import { describe, expect, test } from 'bun:test';
import { decodeRecord, encodeRecord, RateWindow, snapshotInfo, type SnapshotRecord } from '../../../../../src/sources/postgres/snapshot/record.ts';

const record = (over: Partial<SnapshotRecord> = {}): SnapshotRecord => ({
  id: 'initial', kind: 'initial', state: 'running', createdAt: '2026-12-07T00:00:00.000Z', planned: true,
  tables: [
    { table: 'public.a', state: 'done', rowsDone: 100, rowsEstimated: 100, chunks: 1, lastKey: ['100'] },
    { table: 'public.b', state: 'running', rowsDone: 50, rowsEstimated: 250, chunks: 1, lastKey: ['x', '2026-01-01 00:00:00+00'] },
    { table: 'public.c', state: 'pending', rowsDone: 0, rowsEstimated: 0, chunks: 0, lastKey: null },
  ],
  ...over,
});

describe('snapshot records', () => {
  test('round-trip through the state file text, last keys exactly', () => {
    const r = record({ where: "status = 'open'" });
    expect(decodeRecord('initial', encodeRecord(r))).toEqual(r);
  });

  test.each([
    ['not JSON', '{', 'not JSON'],
    ['another version', JSON.stringify({ ...record(), v: 9 }), 'unknown record version 9'],
    ['another id', encodeRecord(record({ id: 'b-1' })), 'malformed record'],
    ['a bad state', encodeRecord(record({ state: 'sleeping' as never })), 'malformed record'],
    ['a bad last key', encodeRecord(record({ tables: [{ table: 't', state: 'running', rowsDone: 1, rowsEstimated: 1, chunks: 1, lastKey: [1 as never] }] })), 'malformed table entry'],
  ])('refuses %s with a reason', (_what, body, reason) => {
    expect(() => decodeRecord('initial', body)).toThrow(reason);
  });

  test('the public view sums tables; the ETA counts rows left of unfinished tables at the current rate', () => {
    const info = snapshotInfo('db1', record(), 20);
    expect(info).toMatchObject({ id: 'initial', source: 'db1', kind: 'initial', state: 'running', rowsDone: 150, rowsEstimated: 350, rowsPerSecond: 20 });
    expect(info.etaSeconds).toBe(10);
    expect(info.tables.map((t) => t.table)).toEqual(['public.a', 'public.b', 'public.c']);
    expect(snapshotInfo('db1', record(), 0).etaSeconds).toBeNull();
    const done = snapshotInfo('db1', record({ state: 'done' }), 20);
    expect([done.rowsPerSecond, done.etaSeconds]).toEqual([0, 0]);
  });
});

describe('RateWindow', () => {
  test('rows per second over the last minute; 0 without two samples or when work stopped a minute ago', () => {
    const rate = new RateWindow(60_000);
    expect(rate.perSecond(0)).toBe(0);
    rate.add(0, 1000);
    expect(rate.perSecond(500)).toBe(0);
    rate.add(1000, 500);
    rate.add(2000, 500);
    expect(rate.perSecond(2000)).toBe(500);
    // After a pause longer than the window only the new samples count.
    rate.add(70_000, 600);
    expect(rate.perSecond(70_000)).toBe(0);
    rate.add(72_000, 600);
    expect(rate.perSecond(72_000)).toBe(300);
    expect(rate.perSecond(200_000)).toBe(0);
  });
});
