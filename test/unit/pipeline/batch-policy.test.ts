import { expect, test } from 'bun:test';
import { belowLowWater, isFull, sealWhenIdle } from '../../../src/pipeline/batch-policy.ts';

const bounds = { maxEvents: 10, maxBytes: 1000 };

test('full when either bound is reached', () => {
  expect(isFull({ events: 9, bytes: 999 }, bounds)).toBe(false);
  expect(isFull({ events: 10, bytes: 0 }, bounds)).toBe(true);
  expect(isFull({ events: 0, bytes: 1000 }, bounds)).toBe(true);
});

test('resumes only when both counts are at or below half', () => {
  expect(belowLowWater({ events: 5, bytes: 500 }, bounds)).toBe(true);
  expect(belowLowWater({ events: 6, bytes: 0 }, bounds)).toBe(false);
  expect(belowLowWater({ events: 0, bytes: 501 }, bounds)).toBe(false);
  expect(belowLowWater({ events: 0, bytes: 0 }, { maxEvents: 1, maxBytes: 1 })).toBe(true);
});

test('the open batch is sealed early only for bare positions, a drain, or a full buffer', () => {
  const base = { events: 0, positions: 0, draining: false, full: false };
  expect(sealWhenIdle(base)).toBe(false);
  expect(sealWhenIdle({ ...base, draining: true })).toBe(false);
  expect(sealWhenIdle({ ...base, positions: 1 })).toBe(true);
  expect(sealWhenIdle({ ...base, events: 3, positions: 1 })).toBe(false);
  expect(sealWhenIdle({ ...base, events: 3, draining: true })).toBe(true);
  expect(sealWhenIdle({ ...base, events: 3, full: true })).toBe(true);
});
