import { expect, test } from 'bun:test';
import { retryDelay } from '../../../src/core/backoff.ts';

test('starts at the initial interval and doubles up to the cap', () => {
  expect([1, 2, 3, 4, 5, 6, 7].map((k) => retryDelay(k, 100, 1000))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
});

test('a cap below the initial interval does not shorten the first wait', () => {
  expect(retryDelay(1, 500, 100)).toBe(500);
  expect(retryDelay(9, 500, 100)).toBe(500);
});

test('huge retry counts stay finite', () => {
  expect(retryDelay(10_000, 100, 30_000)).toBe(30_000);
  expect(retryDelay(0, 100, 30_000)).toBe(100);
});
