import { expect, test } from 'bun:test';
import { withDeadline } from '../../../src/core/deadline.ts';

test('a call that settles in time passes its result or error through', async () => {
  expect(await withDeadline(Promise.resolve(7), 50, () => new Error('late'))).toBe(7);
  await expect(withDeadline(Promise.reject(new Error('own')), 50, () => new Error('late'))).rejects.toThrow('own');
});

test('a call that never settles fails with the deadline error', async () => {
  const started = performance.now();
  await expect(withDeadline(new Promise<never>(() => {}), 30, () => new Error('no answer within 30 ms'))).rejects.toThrow('no answer within 30 ms');
  expect(performance.now() - started).toBeGreaterThanOrEqual(25);
});
