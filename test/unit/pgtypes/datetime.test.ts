import { describe, expect, test } from 'bun:test';
import { formatDate, formatTimestamp } from '../../../src/pgtypes/datetime.ts';
import { OID } from '../../../src/pgtypes/oids.ts';
import { convert, jsonOf, recordingRegistry } from '../../helpers/pgtypes.ts';

describe('date', () => {
  test('RFC 3339 midnight UTC, as the original', () => {
    expect(convert(OID.date, '2020-01-02').value).toBe('2020-01-02T00:00:00Z');
    expect(formatDate('0001-01-01')).toBe('0001-01-01T00:00:00Z');
  });

  test('infinity and -infinity stay those strings (the original dropped them)', () => {
    expect(jsonOf(OID.date, 'infinity')).toBe('"infinity"');
    expect(jsonOf(OID.date, '-infinity')).toBe('"-infinity"');
  });

  test('BC dates use the astronomical year (1 BC = 0000, 44 BC = -0043)', () => {
    expect(formatDate('0044-03-15 BC')).toBe('-0043-03-15T00:00:00Z');
    expect(formatDate('0001-12-31 BC')).toBe('0000-12-31T00:00:00Z');
    expect(formatDate('0002-01-01 BC')).toBe('-0001-01-01T00:00:00Z');
    expect(formatDate('4714-11-24 BC')).toBe('-4713-11-24T00:00:00Z');
  });

  test('years after 9999 keep all their digits', () => {
    expect(formatDate('10000-01-01')).toBe('10000-01-01T00:00:00Z');
    expect(formatDate('5874897-12-31')).toBe('5874897-12-31T00:00:00Z');
  });

  test('other DateStyles and garbage are reported and kept as text', () => {
    const { registry, problems } = recordingRegistry();
    for (const bad of ['01/02/2020', '02.01.2020', '2020-1-2', '2020-01-02 ', '20-01-02', '2020-01-02 AD', '']) {
      expect(convert(OID.date, bad, registry).value).toBe(bad);
    }
    expect(problems.length).toBe(7);
    expect(problems[0]?.why).toContain('DateStyle');
  });
});

describe('timestamp (without time zone)', () => {
  test('read as UTC, RFC 3339 with the fraction PostgreSQL printed', () => {
    expect(jsonOf(OID.timestamp, '2020-01-02 03:04:05.123456')).toBe('"2020-01-02T03:04:05.123456Z"');
    expect(jsonOf(OID.timestamp, '2020-01-02 03:04:05')).toBe('"2020-01-02T03:04:05Z"');
    expect(jsonOf(OID.timestamp, '2020-01-02 03:04:05.5')).toBe('"2020-01-02T03:04:05.5Z"');
  });

  test('trailing zeros of the fraction are trimmed like Go (and the dot when nothing is left)', () => {
    expect(formatTimestamp('2020-01-02 03:04:05.120000', false)).toBe('2020-01-02T03:04:05.12Z');
    expect(formatTimestamp('2020-01-02 03:04:05.000', false)).toBe('2020-01-02T03:04:05Z');
  });

  test('infinity, BC and large years', () => {
    expect(formatTimestamp('infinity', false)).toBe('infinity');
    expect(formatTimestamp('-infinity', false)).toBe('-infinity');
    expect(formatTimestamp('0044-03-15 12:00:00 BC', false)).toBe('-0043-03-15T12:00:00Z');
    expect(formatTimestamp('4714-11-24 00:00:00.5 BC', false)).toBe('-4713-11-24T00:00:00.5Z');
    expect(formatTimestamp('294276-12-31 23:59:59.999999', false)).toBe('294276-12-31T23:59:59.999999Z');
  });

  test('a zone on a timestamp or a missing time is malformed', () => {
    for (const bad of ['2020-01-02 03:04:05+00', '2020-01-02', '2020-01-02T03:04:05', '2020-01-02 03:04:05.', '2020-01-02 3:04:05']) {
      expect(formatTimestamp(bad, false)).toBeUndefined();
    }
  });
});

describe('timestamptz', () => {
  test('"+00" (TimeZone=UTC) becomes Z', () => {
    expect(jsonOf(OID.timestamptz, '2020-03-07 19:40:31.5+00')).toBe('"2020-03-07T19:40:31.5Z"');
    expect(jsonOf(OID.timestamptz, '2020-03-07 19:40:31+00')).toBe('"2020-03-07T19:40:31Z"');
    expect(jsonOf(OID.timestamptz, '2020-03-07 19:40:31.123456+00')).toBe('"2020-03-07T19:40:31.123456Z"');
    expect(formatTimestamp('2020-03-07 19:40:31+00:00', true)).toBe('2020-03-07T19:40:31Z');
  });

  test('other offsets keep their value in RFC 3339 form', () => {
    expect(formatTimestamp('2020-01-02 03:04:05+02', true)).toBe('2020-01-02T03:04:05+02:00');
    expect(formatTimestamp('2020-01-02 03:04:05-08', true)).toBe('2020-01-02T03:04:05-08:00');
    expect(formatTimestamp('2020-01-02 03:04:05.25+05:30', true)).toBe('2020-01-02T03:04:05.25+05:30');
    expect(formatTimestamp('2020-01-02 03:04:05.1-03:30', true)).toBe('2020-01-02T03:04:05.1-03:30');
    expect(formatTimestamp('2020-01-02 03:04:05.100+14', true)).toBe('2020-01-02T03:04:05.1+14:00');
  });

  test('fractional digits from 1 to 6', () => {
    for (const fraction of ['1', '12', '123', '1234', '12345', '123456']) {
      expect(formatTimestamp(`2021-06-30 12:34:56.${fraction}+00`, true)).toBe(`2021-06-30T12:34:56.${fraction}Z`);
    }
  });

  test('an offset with seconds (historical local mean time) is converted to UTC exactly', () => {
    // Europe/Amsterdam before 1937: +00:19:32.
    expect(formatTimestamp('1900-01-01 00:00:00+00:19:32', true)).toBe('1899-12-31T23:40:28Z');
    expect(formatTimestamp('1900-01-01 00:00:00.25-04:56:02', true)).toBe('1900-01-01T04:56:02.25Z');
    expect(formatTimestamp('0010-01-01 00:00:00-00:00:10 BC', true)).toBe('-0009-01-01T00:00:10Z');
  });

  test('infinity, BC and years after 9999', () => {
    expect(formatTimestamp('infinity', true)).toBe('infinity');
    expect(formatTimestamp('-infinity', true)).toBe('-infinity');
    expect(formatTimestamp('0044-03-15 12:00:00+00 BC', true)).toBe('-0043-03-15T12:00:00Z');
    expect(formatTimestamp('10000-01-01 00:00:00+00', true)).toBe('10000-01-01T00:00:00Z');
    expect(formatTimestamp('0001-01-01 00:00:00+01 BC', true)).toBe('0000-01-01T00:00:00+01:00');
  });

  test('non-ISO DateStyles and malformed offsets are reported and kept as text', () => {
    const { registry, problems } = recordingRegistry();
    const bad = [
      'Sat Mar 07 19:40:31.5 2020 UTC', // Postgres
      '03/07/2020 19:40:31.5 UTC', // SQL
      '07.03.2020 19:40:31.5 UTC', // German
      '2020-03-07 19:40:31', // no zone
      '2020-03-07 19:40:31+0', '2020-03-07 19:40:31+00:0', '2020-03-07 19:40:31 +00', '2020-03-07 19:40:31+00:00:00:00',
    ];
    for (const text of bad) expect(convert(OID.timestamptz, text, registry).value).toBe(text);
    expect(problems.length).toBe(bad.length);
  });
});

describe('time, timetz, interval', () => {
  test('strings as PostgreSQL prints them', () => {
    expect(jsonOf(OID.time, '03:04:05.123')).toBe('"03:04:05.123"');
    expect(jsonOf(OID.timetz, '03:04:05+05:30')).toBe('"03:04:05+05:30"');
    expect(jsonOf(OID.interval, '1 year 2 mons 3 days 04:05:06.5')).toBe('"1 year 2 mons 3 days 04:05:06.5"');
  });
});
