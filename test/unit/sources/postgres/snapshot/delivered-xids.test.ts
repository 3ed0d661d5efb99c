import { describe, expect, test } from 'bun:test';
import { DeliveredXids } from '../../../../../src/sources/postgres/snapshot/delivered-xids.ts';
import { parsePgSnapshot } from '../../../../../src/sources/postgres/snapshot/pg-snapshot.ts';

describe('DeliveredXids', () => {
  test('a transaction delivered before the mark and still in progress for the snapshot is unseen, however many were delivered after it', () => {
    const d = new DeliveredXids();
    d.add(150);
    // The old check remembered 64 deliveries; a loaded machine streamed more while 150 showed as running.
    for (let xid = 160; xid < 160 + 1_000; xid++) d.add(xid);
    const mark = d.mark();
    expect(d.unseenBefore(mark, parsePgSnapshot('150:2000:150'))).toBe(true);
    expect(d.unseenBefore(mark, parsePgSnapshot('151:2000:'))).toBe(false);
  });

  test('a delivery at or past the snapshot\'s xmax is unseen; deliveries after the mark do not count', () => {
    const d = new DeliveredXids();
    d.add(100);
    d.add(105);
    d.add(103);
    const mark = d.mark();
    d.add(104);
    expect(mark.newest).toBe(105);
    expect(d.unseenBefore(mark, parsePgSnapshot('100:105:'))).toBe(true);
    expect(d.unseenBefore(mark, parsePgSnapshot('100:106:'))).toBe(false);
    // 104 in progress, delivered after the mark: noted by the window, not a race.
    expect(d.unseenBefore(mark, parsePgSnapshot('104:106:104'))).toBe(false);
    expect(d.unseenBefore(d.mark(), parsePgSnapshot('104:106:104'))).toBe(true);
    expect(d.unseenBefore(new DeliveredXids().mark(), parsePgSnapshot('1:2:1'))).toBe(false);
  });

  test('xids wrap around: order and the snapshot\'s 64-bit ids follow the circle', () => {
    const d = new DeliveredXids();
    d.add(0xffff_fff0);
    d.add(5);
    const mark = d.mark();
    expect(mark.newest).toBe(5);
    const epoch = 1n << 32n;
    expect(d.unseenBefore(mark, parsePgSnapshot(`${epoch + 3n}:${epoch + 6n}:`))).toBe(false);
    expect(d.unseenBefore(mark, parsePgSnapshot(`${epoch + 3n}:${epoch + 5n}:`))).toBe(true);
    expect(d.unseenBefore(mark, parsePgSnapshot(`${epoch - 20n}:${epoch + 6n}:${epoch - 16n}`))).toBe(true);
  });

  test('forgets the oldest deliveries past its history, and only those', () => {
    const d = new DeliveredXids();
    d.add(7);
    for (let i = 0; i < 65_535; i++) d.add(1_000 + i);
    expect(d.unseenBefore(d.mark(), parsePgSnapshot('7:70000:7'))).toBe(true);
    d.add(70_000);
    expect(d.unseenBefore(d.mark(), parsePgSnapshot('7:70001:7'))).toBe(false);
  });
});
