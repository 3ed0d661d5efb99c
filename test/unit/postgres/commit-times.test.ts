/** The seconds-behind bookkeeping of a PostgreSQL source (commit-times.ts). */
import { describe, expect, test } from 'bun:test';
import { CommitTimes } from '../../../src/postgres/commit-times.ts';
import { pgTimeToUnixMs } from '../../../src/postgres/wal-watch.ts';

describe('CommitTimes', () => {
  test('nothing received: both 0', () => {
    const c = new CommitTimes();
    expect([c.deliveredLagSeconds(1e12), c.receivedLagSeconds(1e12)]).toEqual([0, 0]);
  });

  test('delivered lag: the oldest unacknowledged transaction; 0 once all are acknowledged', () => {
    const c = new CommitTimes();
    c.begin(1_000);
    c.pushed(100n, 1_000);
    c.begin(2_000);
    c.pushed(200n, 2_000);
    c.begin(3_000);
    c.pushed(300n, 3_000);
    expect(c.deliveredLagSeconds(10_000)).toBe(9);
    c.delivered(150n);
    expect(c.deliveredLagSeconds(10_000)).toBe(8);
    c.delivered(300n);
    expect(c.pending).toBe(0);
    expect(c.deliveredLagSeconds(10_000)).toBe(0);
    // After a long idle period, a new transaction waiting for the sinks counts from its own commit.
    c.begin(50_000);
    c.pushed(400n, 50_000);
    expect(c.deliveredLagSeconds(50_250)).toBe(0.25);
  });

  test('received lag: the last Begin read, 0 after a keepalive between transactions', () => {
    const c = new CommitTimes();
    c.begin(1_000);
    expect(c.receivedLagSeconds(4_000)).toBe(3);
    c.pushed(10n, 1_000);
    expect(c.receivedLagSeconds(6_000)).toBe(5);
    c.caughtUp();
    expect(c.receivedLagSeconds(6_000)).toBe(0);
    c.begin(7_000);
    expect(c.receivedLagSeconds(7_500)).toBe(0.5);
  });

  test('a clock ahead of now (skew) reads 0, never negative', () => {
    const c = new CommitTimes();
    c.begin(5_000);
    c.pushed(1n, 5_000);
    expect([c.deliveredLagSeconds(4_000), c.receivedLagSeconds(4_000)]).toEqual([0, 0]);
  });

  test('the ring grows past its first capacity and keeps order (positions above 2^63 too)', () => {
    const c = new CommitTimes();
    const base = 2n ** 63n;
    for (let i = 0; i < 1000; i++) c.pushed(base + BigInt(i), i);
    expect(c.pending).toBe(1000);
    c.delivered(base + 499n);
    expect(c.pending).toBe(500);
    expect(c.deliveredLagSeconds(1_500)).toBe(1);
    for (let i = 1000; i < 1100; i++) c.pushed(base + BigInt(i), i);
    c.delivered(base + 1049n);
    expect(c.pending).toBe(50);
    expect(c.deliveredLagSeconds(2_050)).toBe(1);
  });

  test('pgoutput commit times (µs since 2000-01-01) as Unix ms', () => {
    expect(pgTimeToUnixMs(0n)).toBe(Date.UTC(2000, 0, 1));
    expect(pgTimeToUnixMs(1_500n)).toBe(Date.UTC(2000, 0, 1) + 1.5);
  });
});
