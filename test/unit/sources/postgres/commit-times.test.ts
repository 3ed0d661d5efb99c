/** The seconds-behind bookkeeping of a PostgreSQL source (commit-times.ts). */
import { describe, expect, test } from 'bun:test';
import { CommitTimes } from '../../../../src/sources/postgres/commit-times.ts';
import { pgTimeToUnixMs } from '../../../../src/sources/postgres/wal-watch.ts';

describe('CommitTimes', () => {
  test('nothing received: both 0', () => {
    const c = new CommitTimes();
    expect([c.deliveredLagSeconds(1e12), c.receivedLagSeconds(1e12)]).toEqual([0, 0]);
  });

  test('delivered lag: the oldest unacknowledged transaction; 0 once all are acknowledged', () => {
    const c = new CommitTimes();
    // Commit LSNs 100, 200, 300; the positions pushed for them (commit end LSNs) are 108, 208, 308.
    c.begin(100n, 1_000, true);
    expect(c.deliveredLagSeconds(10_000)).toBe(9); // still being read: it counts already
    c.begin(200n, 2_000, true);
    c.begin(300n, 3_000, true);
    c.delivered(108n);
    expect(c.deliveredLagSeconds(10_000)).toBe(8);
    // A keepalive position between transactions is at most the next commit LSN: it drops nothing more.
    c.delivered(200n);
    expect(c.pending).toBe(2);
    c.delivered(308n);
    expect(c.pending).toBe(0);
    expect(c.deliveredLagSeconds(10_000)).toBe(0);
    // After a long idle period, a new transaction waiting for the sinks counts from its own commit.
    c.begin(400n, 50_000, true);
    expect(c.deliveredLagSeconds(50_250)).toBe(0.25);
    // One re-sent after a restart (already delivered) waits for nothing.
    c.delivered(408n);
    c.begin(50n, 60_000, false);
    expect([c.pending, c.deliveredLagSeconds(70_000)]).toEqual([0, 0]);
  });

  test('each acknowledged transaction is observed once, with its commit → acknowledgement time', () => {
    const c = new CommitTimes();
    const seen: number[] = [];
    const observe = (seconds: number) => seen.push(seconds);
    c.begin(100n, 1_000, true);
    c.begin(200n, 2_000, true);
    c.begin(300n, 3_000, true);
    c.begin(400n, 9_000, false); // delivered before a restart: not waited for, not observed
    c.delivered(208n, 4_500, observe);
    expect(seen).toEqual([3.5, 2.5]);
    c.delivered(208n, 5_000, observe); // the same position again: nothing more
    c.delivered(250n, 5_000, observe); // a keepalive's position before the next commit
    expect(seen).toEqual([3.5, 2.5]);
    // A server clock ahead of ours never gives a negative time.
    c.delivered(308n, 2_000, observe);
    expect(seen).toEqual([3.5, 2.5, 0]);
    expect(c.pending).toBe(0);
  });

  test('received lag: the last Begin read, 0 after a keepalive between transactions', () => {
    const c = new CommitTimes();
    c.begin(10n, 1_000, true);
    expect(c.receivedLagSeconds(4_000)).toBe(3);
    expect(c.receivedLagSeconds(6_000)).toBe(5);
    c.caughtUp();
    expect(c.receivedLagSeconds(6_000)).toBe(0);
    c.begin(20n, 7_000, true);
    expect(c.receivedLagSeconds(7_500)).toBe(0.5);
  });

  test('a clock ahead of now (skew) reads 0, never negative', () => {
    const c = new CommitTimes();
    c.begin(1n, 5_000, true);
    expect([c.deliveredLagSeconds(4_000), c.receivedLagSeconds(4_000)]).toEqual([0, 0]);
  });

  test('the ring grows past its first capacity and keeps order (LSNs past 4 GiB, i.e. above 32 bits)', () => {
    const c = new CommitTimes();
    const base = 2n ** 40n;
    for (let i = 0; i < 1000; i++) c.begin(base + BigInt(i), i, true);
    expect(c.pending).toBe(1000);
    c.delivered(base + 500n);
    expect(c.pending).toBe(500);
    expect(c.deliveredLagSeconds(1_500)).toBe(1);
    for (let i = 1000; i < 1100; i++) c.begin(base + BigInt(i), i, true);
    c.delivered(base + 1050n);
    expect(c.pending).toBe(50);
    expect(c.deliveredLagSeconds(2_050)).toBe(1);
  });

  test('pgoutput commit times (µs since 2000-01-01) as Unix ms', () => {
    expect(pgTimeToUnixMs(0n)).toBe(Date.UTC(2000, 0, 1));
    expect(pgTimeToUnixMs(1_500n)).toBe(Date.UTC(2000, 0, 1) + 1.5);
  });
});
