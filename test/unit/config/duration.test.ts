import { describe, expect, test } from 'bun:test';
import { formatDuration, parseDuration } from '../../../src/config/duration.ts';

const ms = (text: string) => {
  const r = parseDuration(text);
  if (!r.ok) throw new Error(r.reason);
  return r.ms;
};
const reason = (text: string) => {
  const r = parseDuration(text);
  if (r.ok) throw new Error(`"${text}" parsed as ${r.ms}`);
  return r.reason;
};

describe('parseDuration', () => {
  test.each([
    ['1s', 1000],
    ['100ms', 100],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1.s', 1000],
    ['300us', 0.3],
    ['300µs', 0.3],
    ['300μs', 0.3],
    ['2000000ns', 2],
    ['0', 0],
    ['0s', 0],
    ['-1s', -1000],
    ['+2m', 120_000],
    ['1h2m3s4ms', 3_723_004],
    [' 5s ', 5000],
  ])('%s is %d ms', (text, expected) => {
    expect(ms(text)).toBeCloseTo(expected, 9);
  });

  test('rejects a number without a unit, naming the units', () => {
    expect(reason('2')).toBe('invalid duration "2": missing unit after "2" (use one of ns, us, ms, s, m, h)');
  });

  test('rejects unknown units', () => {
    expect(reason('5sec')).toBe('invalid duration "5sec": unknown unit "sec" (use one of ns, us, ms, s, m, h)');
    expect(reason('1d')).toContain('unknown unit "d"');
  });

  test('rejects empty and malformed strings', () => {
    expect(reason('')).toContain('expected a number followed by a unit');
    expect(reason('s')).toBe('invalid duration "s": expected a number at "s"');
    expect(reason('1s.')).toContain('expected a number at "."');
    expect(reason('-')).toContain('expected a number followed by a unit');
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [100, '100ms'],
    [1000, '1s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [1500, '1s500ms'],
    [0.3, '300us'],
    [-2000, '-2s'],
  ])('%d ms is %s and reads back', (value, text) => {
    expect(formatDuration(value)).toBe(text);
    expect(ms(text)).toBeCloseTo(value, 9);
  });
});
