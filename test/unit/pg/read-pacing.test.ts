import { describe, expect, test } from 'bun:test';
import { COALESCE_MIN_BYTES_PER_MS, RATE_WINDOW_MS, ReadPacing } from '../../../src/pg/read-pacing.ts';

/** Feeds reads of `bytes` every `everyMs` from `start` for `forMs`; returns the last answer and how many said wait. */
function feed(pacing: ReadPacing, bytes: number, everyMs: number, start: number, forMs: number): { last: boolean; waits: number; end: number } {
  let last = false;
  let waits = 0;
  let t = start;
  for (; t < start + forMs; t += everyMs) {
    last = pacing.read(bytes, t);
    if (last) waits++;
  }
  return { last, waits, end: t };
}

describe('ReadPacing', () => {
  test('the first window of a stream reads at once, however fast the data comes', () => {
    const pacing = new ReadPacing();
    const { waits } = feed(pacing, 64 * 1024, 1, 0, RATE_WINDOW_MS);
    expect(waits).toBe(0);
  });

  test('a bulk stream (tens of KB per ms) waits from its second window on', () => {
    const pacing = new ReadPacing();
    feed(pacing, 40 * 1024, 1, 0, RATE_WINDOW_MS);
    const { last, waits } = feed(pacing, 40 * 1024, 1, RATE_WINDOW_MS, 5 * RATE_WINDOW_MS);
    expect(last).toBe(true);
    expect(waits).toBe(5 * RATE_WINDOW_MS);
  });

  test('5,000 single-row transactions a second (≈ 450 bytes each) never wait', () => {
    const pacing = new ReadPacing();
    // One transaction per read, a read every 0.2 ms.
    const { waits } = feed(pacing, 450, 0.2, 0, 2_000);
    expect(waits).toBe(0);
  });

  test('the threshold: just above waits, just below does not', () => {
    const above = new ReadPacing();
    const below = new ReadPacing();
    feed(above, COALESCE_MIN_BYTES_PER_MS * 1.1, 1, 0, 3 * RATE_WINDOW_MS);
    feed(below, COALESCE_MIN_BYTES_PER_MS * 0.9, 1, 0, 3 * RATE_WINDOW_MS);
    expect(above.read(1, 3 * RATE_WINDOW_MS)).toBe(true);
    expect(below.read(1, 3 * RATE_WINDOW_MS)).toBe(false);
  });

  test('a burst after a quiet spell is read at once until its rate shows, and a quiet spell after a burst ends the waiting', () => {
    const pacing = new ReadPacing();
    const slow = feed(pacing, 100, 10, 0, 1_000);
    expect(slow.waits).toBe(0);
    // The window that closes at the burst's first read spans the quiet time: still slow.
    expect(pacing.read(64 * 1024, 60_000)).toBe(false);
    const burst = feed(pacing, 64 * 1024, 1, 60_001, 2 * RATE_WINDOW_MS);
    expect(burst.last).toBe(true);
    // The next read a second later closes a window that held one read over 900 ms: slow again.
    expect(pacing.read(100, 61_000)).toBe(false);
  });
});
