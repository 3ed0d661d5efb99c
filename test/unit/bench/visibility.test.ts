import { describe, expect, test } from 'bun:test';
import { visibleTimes, type VisibilityBatch } from '../../../bench/lib/visibility.ts';

const data = (producerId: bigint, appendMs: number, records: number[], transactional = true): VisibilityBatch => ({ producerId, transactional, appendMs, records });
const marker = (producerId: bigint, appendMs: number, commit: boolean): VisibilityBatch => ({ producerId, transactional: true, control: { commit }, appendMs, records: [] });

describe('visibleTimes', () => {
  test('a committed transaction\'s records are visible at its marker; aborted ones and those without a marker never', () => {
    const times = visibleTimes([
      data(1n, 10, [1, 2]),
      data(2n, 11, [3]),
      data(1n, 12, [4]),
      marker(2n, 15, false),
      marker(1n, 20, true),
      data(1n, 30, [5]),
      data(9n, 31, [6], false),
    ]);
    expect([...times.entries()]).toEqual([[3, NaN], [1, 20], [2, 20], [4, 20], [6, 31], [5, NaN]]);
  });
});
