import { describe, expect, test } from 'bun:test';
import { formatLocalTimestamp, processingTimestamp, writeLocalTimestamp } from '../../../src/core/time.ts';

const RFC3339_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

describe('formatLocalTimestamp', () => {
  test('RFC 3339 in the local zone, trailing fractional zeros trimmed', () => {
    const micros = Date.UTC(2020, 2, 7, 19, 40, 31) * 1000 + 500_000;
    const text = formatLocalTimestamp(micros);
    expect(text).toMatch(RFC3339_LOCAL);
    expect(text).toContain('.5');
    expect(new Date(text).getTime()).toBe(Date.UTC(2020, 2, 7, 19, 40, 31, 500));
  });

  test('whole seconds have no fraction and microseconds are kept', () => {
    const base = Date.UTC(2021, 0, 1) * 1000;
    expect(formatLocalTimestamp(base)).not.toContain('.');
    expect(formatLocalTimestamp(base + 123)).toMatch(/\.000123(Z|[+-])/);
  });

  test('the per-second cache does not leak between seconds', () => {
    const a = Date.UTC(2022, 5, 1, 0, 0, 0) * 1000 + 1;
    const b = Date.UTC(2022, 5, 1, 0, 0, 1) * 1000 + 1;
    expect(new Date(formatLocalTimestamp(a)).getTime()).toBe(Date.UTC(2022, 5, 1, 0, 0, 0));
    expect(new Date(formatLocalTimestamp(b)).getTime()).toBe(Date.UTC(2022, 5, 1, 0, 0, 1));
  });

  test('the same instant again is written from the last call, the same bytes, wherever it goes', () => {
    const a = Date.UTC(2023, 1, 2, 3, 4, 5) * 1000 + 120;
    const b = a + 1;
    const buf = new Uint8Array(100).fill(0x7e);
    const end1 = writeLocalTimestamp(buf, 3, a);
    const end2 = writeLocalTimestamp(buf, 50, a);
    expect(end2 - 50).toBe(end1 - 3);
    const text = (from: number, to: number) => String.fromCharCode(...buf.subarray(from, to));
    expect(text(50, end2)).toBe(text(3, end1));
    expect(text(3, end1)).toBe(formatLocalTimestamp(a));
    expect(buf[end2]).toBe(0x7e);
    // Another instant in between, then the first again.
    expect(formatLocalTimestamp(b)).toMatch(/\.000121(Z|[+-])/);
    expect(formatLocalTimestamp(a)).toBe(text(3, end1));
  });

  test('processingTimestamp is close to now', () => {
    const text = processingTimestamp();
    expect(text).toMatch(RFC3339_LOCAL);
    expect(Math.abs(new Date(text).getTime() - Date.now())).toBeLessThan(5000);
  });
});
