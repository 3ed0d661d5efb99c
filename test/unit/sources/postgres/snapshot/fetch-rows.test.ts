/**
 * chunk-reader.ts fetchRows: a chunk's FETCH sizes. 1,000 rows while no row size is known; then
 * the rows expected to fill what is left of the byte limit (+25 %), within the rows left and
 * 100,000; always at least one.
 */
import { expect, test } from 'bun:test';
import { fetchRows } from '../../../../../src/sources/postgres/snapshot/chunk-reader.ts';

const limits = { rows: 5_000, bytes: 8 * 2 ** 20 };

test('nothing known: 1,000 rows, or the rows left', () => {
  expect(fetchRows(limits, 0, 0)).toBe(1_000);
  expect(fetchRows({ rows: 300, bytes: 1 << 20 }, 0, 0)).toBe(300);
});

test("the previous chunk's row size: the whole chunk when it fits", () => {
  expect(fetchRows(limits, 0, 0, 190)).toBe(5_000);
  // 10 KiB rows: 819.2 fit in 8 MiB, 1,024 asked.
  expect(fetchRows(limits, 0, 0, 10_240)).toBe(1_024);
});

test('rows seen so far win over the hint; what is left of both limits counts', () => {
  // (8 MiB - 4,096,000 bytes) / 4,096 per row: 1,048 fit, 1,310 asked.
  expect(fetchRows(limits, 1_000, 1_000 * 4_096, 100)).toBe(1_310);
  expect(fetchRows(limits, 4_990, 4_990 * 10, 100_000)).toBe(10);
  expect(fetchRows({ rows: 10, bytes: 100 }, 3, 200)).toBe(1);
});

test('reads by key (no limits): at most 100,000 rows per FETCH', () => {
  const none = { rows: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER };
  expect(fetchRows(none, 0, 0)).toBe(1_000);
  expect(fetchRows(none, 1_000, 100_000)).toBe(100_000);
});
