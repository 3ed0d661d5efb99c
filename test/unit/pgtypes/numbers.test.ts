import { describe, expect, test } from 'bun:test';
import { parseFloatText, parseInteger } from '../../../src/pgtypes/numbers.ts';
import { OID } from '../../../src/pgtypes/oids.ts';
import { convert, jsonOf, recordingRegistry } from '../../helpers/pgtypes.ts';

describe('bool', () => {
  test('t and f', () => {
    expect(convert(OID.bool, 't').value).toBe(true);
    expect(convert(OID.bool, 'f').value).toBe(false);
  });

  test('anything else is reported and kept as text', () => {
    const { registry, problems } = recordingRegistry();
    expect(convert(OID.bool, 'true', registry).value).toBe('true');
    expect(problems).toEqual([{ oid: OID.bool, text: 'true', why: 'not a bool (t/f)' }]);
  });
});

describe('integers', () => {
  test('int2, int4 and small int8 are numbers', () => {
    expect(convert(OID.int2, '-32768').value).toBe(-32768);
    expect(convert(OID.int2, '32767').value).toBe(32767);
    expect(convert(OID.int4, '-2147483648').value).toBe(-2147483648);
    expect(convert(OID.int4, '2147483647').value).toBe(2147483647);
    expect(convert(OID.int8, '0').value).toBe(0);
    expect(convert(OID.int8, '-42').value).toBe(-42);
  });

  test('int8 min and max keep every digit (bigint beyond 2^53)', () => {
    expect(convert(OID.int8, '9223372036854775807')).toEqual({ value: 9223372036854775807n, json: '9223372036854775807' });
    expect(convert(OID.int8, '-9223372036854775808')).toEqual({ value: -9223372036854775808n, json: '-9223372036854775808' });
    expect(convert(OID.int8, '9007199254740993').json).toBe('9007199254740993');
  });

  test('int8 is a number exactly up to ±(2^53 − 1), a bigint from 2^53 on', () => {
    expect(convert(OID.int8, '9007199254740991').value).toBe(9007199254740991);
    expect(convert(OID.int8, '-9007199254740991').value).toBe(-9007199254740991);
    expect(convert(OID.int8, '9007199254740992').value).toBe(9007199254740992n);
    expect(convert(OID.int8, '-9007199254740992').value).toBe(-9007199254740992n);
    expect(convert(OID.int8, '999999999999999').value).toBe(999999999999999); // 15 digits: the loop
    expect(convert(OID.int8, '1000000000000000').value).toBe(1000000000000000); // 16 digits: via BigInt
  });

  test('xid8 beyond int8 (unsigned 64-bit) keeps every digit', () => {
    expect(jsonOf(OID.xid8, '18446744073709551615')).toBe('18446744073709551615');
    expect(convert(OID.xid8, '771').value).toBe(771);
  });

  test('oid, xid and cid are numbers (the original made oid a string)', () => {
    expect(convert(OID.oid, '4294967295').value).toBe(4294967295);
    expect(convert(OID.xid, '3000000000').value).toBe(3000000000);
    expect(convert(OID.cid, '0').value).toBe(0);
  });

  test('"-0" is 0, never the float -0', () => {
    expect(jsonOf(OID.int4, '-0')).toBe('0');
    expect(Object.is(convert(OID.int4, '-0').value, 0)).toBe(true);
  });

  test('malformed integers are reported and kept as text', () => {
    const { registry, problems } = recordingRegistry();
    for (const bad of ['', '-', '1.5', ' 1', '1 ', '+1', '0x10', '1e3', '12a', '--1', '99999999999999999999x']) {
      expect(convert(OID.int8, bad, registry).value).toBe(bad);
    }
    expect(problems.length).toBe(11);
    expect(parseInteger('12345678901234567890123')).toBe(12345678901234567890123n);
  });
});

describe('floats', () => {
  test('numbers as PostgreSQL prints them with extra_float_digits=3', () => {
    expect(jsonOf(OID.float8, '3.14')).toBe('3.14');
    expect(jsonOf(OID.float8, '0.1')).toBe('0.1');
    expect(jsonOf(OID.float8, '1e+100')).toBe('1e+100');
    expect(jsonOf(OID.float8, '1.7976931348623157e+308')).toBe('1.7976931348623157e+308');
    expect(jsonOf(OID.float8, '5e-324')).toBe('5e-324');
    expect(jsonOf(OID.float8, '1.5e-07')).toBe('1.5e-7');
    expect(jsonOf(OID.float8, '123456789012345680000')).toBe('123456789012345680000');
    expect(jsonOf(OID.float4, '3.4028235e+38')).toBe('3.4028235e+38');
    expect(jsonOf(OID.float4, '1.1')).toBe('1.1');
    expect(jsonOf(OID.float4, '1e+10')).toBe('10000000000');
  });

  test('-0 stays -0, as Go writes it', () => {
    expect(jsonOf(OID.float8, '-0')).toBe('-0');
  });

  test('NaN and ±Infinity become strings, never invalid JSON', () => {
    expect(convert(OID.float8, 'NaN')).toEqual({ value: 'NaN', json: '"NaN"' });
    expect(convert(OID.float8, 'Infinity')).toEqual({ value: 'Infinity', json: '"Infinity"' });
    expect(convert(OID.float4, '-Infinity')).toEqual({ value: '-Infinity', json: '"-Infinity"' });
  });

  test('malformed floats are reported and kept as text', () => {
    const { registry, problems } = recordingRegistry();
    for (const bad of ['', '1-2', 'e', '.', '0x10', 'inf', 'nan', '1,5', ' 1']) {
      expect(convert(OID.float8, bad, registry).value).toBe(bad);
    }
    expect(problems.map((p) => p.text)).toEqual(['', '1-2', 'e', '.', '0x10', 'inf', 'nan', '1,5', ' 1']);
    expect(parseFloatText('-1.5E+3')).toBe(-1500);
  });
});

describe('numeric and money', () => {
  test('numeric is its exact text, as in the original', () => {
    const huge = '123456789012345678901234567890.123456789012345678901234567890';
    expect(convert(OID.numeric, huge)).toEqual({ value: huge, json: `"${huge}"` });
    expect(jsonOf(OID.numeric, '12.50')).toBe('"12.50"');
    expect(jsonOf(OID.numeric, '-0.000000000000000000001')).toBe('"-0.000000000000000000001"');
    expect(jsonOf(OID.numeric, 'NaN')).toBe('"NaN"');
    expect(jsonOf(OID.numeric, 'Infinity')).toBe('"Infinity"');
    expect(jsonOf(OID.numeric, '-Infinity')).toBe('"-Infinity"');
  });

  test('money is its text', () => {
    expect(jsonOf(OID.money, '-$1,234.56')).toBe('"-$1,234.56"');
  });
});
