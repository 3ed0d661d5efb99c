import { describe, expect, test } from 'bun:test';
import { formatSize, parseSize } from '../../../src/config/size.ts';

describe('parseSize', () => {
  test.each([
    ['1048576', 1_048_576],
    ['64MiB', 67_108_864],
    ['64 mib', 67_108_864],
    ['1MB', 1_000_000],
    ['1.5KiB', 1536],
    ['10B', 10],
    ['2GiB', 2 ** 31],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toEqual({ ok: true, bytes });
  });

  test('rejects unknown units, fractions of a byte and garbage', () => {
    expect(parseSize('5 parsecs')).toEqual({ ok: false, reason: 'invalid size "5 parsecs": unknown unit "parsecs" (use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB)' });
    expect(parseSize('1.5B')).toEqual({ ok: false, reason: 'invalid size "1.5B": not a whole number of bytes' });
    expect(parseSize('-1MiB').ok).toBe(false);
    expect(parseSize('lots').ok).toBe(false);
  });
});

describe('formatSize', () => {
  test('uses the largest exact binary unit', () => {
    expect(formatSize(67_108_864)).toBe('64MiB');
    expect(formatSize(1_048_576)).toBe('1MiB');
    expect(formatSize(1536)).toBe('1536');
    expect(formatSize(0)).toBe('0');
  });
});
