import { describe, expect, test } from 'bun:test';
import { formatLsn, InvalidLsnError, isLsn, MAX_LSN, parseLsn } from '../../../src/replication/lsn.ts';
import { randomSource, randomValues } from '../../helpers/pgoutput-frames.ts';

describe('parseLsn / formatLsn', () => {
  test('known values', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16_b374d848n);
    expect(parseLsn('16/b374d848')).toBe(0x16_b374d848n);
    expect(formatLsn(0x16_b374d848n)).toBe('16/B374D848');
    expect(parseLsn('0/0')).toBe(0n);
    expect(formatLsn(0n)).toBe('0/0');
    expect(parseLsn('FFFFFFFF/FFFFFFFF')).toBe(MAX_LSN);
    expect(formatLsn(MAX_LSN)).toBe('FFFFFFFF/FFFFFFFF');
    expect(parseLsn('00000001/0000000A')).toBe(0x1_0000000an);
    expect(formatLsn(0x1_0000000an)).toBe('1/A');
  });

  test('round trips random LSNs both ways', () => {
    const seed = Date.now();
    const rnd = randomValues(randomSource(seed));
    for (let i = 0; i < 10_000; i++) {
      const lsn = rnd.lsn();
      const text = formatLsn(lsn);
      expect(text).toMatch(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/);
      expect(parseLsn(text)).toBe(lsn);
    }
  });

  test.each([
    '', '/', '0', '0/', '/0', '0/0/0', ' 0/0', '0/0 ', '0 /0', '123456789/0', '0/123456789', 'G/0', '0/-1', '-1/0',
    '+1/0', '0x1/0', '1.5/0', '１/0', '0/0\n',
  ])('rejects %p', (text) => {
    expect(() => parseLsn(text)).toThrow(InvalidLsnError);
  });

  test('formatLsn rejects bigints outside 0..2^64-1', () => {
    expect(() => formatLsn(-1n)).toThrow(InvalidLsnError);
    expect(() => formatLsn(MAX_LSN + 1n)).toThrow(InvalidLsnError);
    expect(isLsn(0n)).toBe(true);
    expect(isLsn(MAX_LSN)).toBe(true);
    expect(isLsn(-1n)).toBe(false);
  });

  test('the error names the input and the expected form', () => {
    expect(() => parseLsn('nope')).toThrow(/invalid LSN "nope".*16\/B374D848/);
  });
});
