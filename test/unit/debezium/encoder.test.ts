/** The Debezium encoder's pure parts (src/event/debezium/*): value conventions and record shapes. */
import { describe, expect, test } from 'bun:test';
import { RawJson, type ChangeEvent, type ColumnType } from '../../../src/event/event.ts';
import { debeziumRecords, debeziumTopic } from '../../../src/event/debezium/envelope.ts';
import { debeziumJson } from '../../../src/event/debezium/json.ts';
import { debeziumValue, decimalValue, hstoreValue, unscaledBase64, UNAVAILABLE_VALUE } from '../../../src/event/debezium/values.ts';

const type = (name: string, typeModifier = -1, array = false): ColumnType => ({ name, typeModifier, array });

describe('values', () => {
  test('unscaled integers are minimal two\'s complement, big-endian (Java BigInteger.toByteArray)', () => {
    const cases: [bigint, string][] = [[0n, 'AA=='], [-1n, '/w=='], [15n, 'Dw=='], [127n, 'fw=='], [128n, 'AIA='], [-128n, 'gA=='], [-129n, '/38='], [1250n, 'BOI='], [-123456n, '/h3A']];
    expect(cases.map(([n]) => unscaledBase64(n))).toEqual(cases.map(([, b]) => b));
  });

  test('numeric per decimal.handling.mode', () => {
    expect(decimalValue('1.50', 'string', -1)).toBe('1.50');
    expect(decimalValue('NaN', 'string', -1)).toBe('NAN');
    expect(decimalValue('-Infinity', 'string', -1)).toBe('NEGATIVE_INFINITY');
    expect(decimalValue('1.50', 'double', -1)).toBe(1.5);
    expect(decimalValue('Infinity', 'double', -1)).toBe('Infinity');
    expect(decimalValue('1.50', 'precise', -1)).toEqual({ scale: 1, value: 'Dw==' });
    expect(decimalValue('NaN', 'precise', -1)).toBeNull();
    // numeric(12,3): scale from the typmod ((12 << 16 | 3) + 4), value alone.
    expect(decimalValue('-0.001', 'precise', ((12 << 16) | 3) + 4)).toBe('/w==');
    expect(debeziumValue('-$1,234.56', type('money'), 'precise')).toBe('/h3A');
    expect(debeziumValue('-$1,234.56', type('money'), 'string')).toBe('-1234.56');
  });

  test('times, dates, intervals', () => {
    expect(debeziumValue('2020-01-02T00:00:00Z', type('date'), 'string')).toBe(18263);
    expect(debeziumValue('2020-01-02T03:04:05.123456Z', type('timestamp'), 'string')).toBe(1577934245123456n);
    expect(debeziumValue('infinity', type('timestamp'), 'string')).toBe(9223372036825200000n);
    expect(debeziumValue('2020-06-01T12:00:00Z', type('timestamptz'), 'string')).toBe('2020-06-01T12:00:00.000000Z');
    expect(debeziumValue('03:04:05.123', type('time'), 'string')).toBe(11045123000);
    expect(debeziumValue('03:04:05+05:30', type('timetz'), 'string')).toBe('21:34:05Z');
    expect(debeziumValue('23:00:00.5-02', type('timetz'), 'string')).toBe('01:00:00.5Z');
    expect(debeziumValue('1 year 2 mons 3 days 04:05:06.5', type('interval'), 'string')).toBe(37091106500000);
    expect(debeziumValue('-1 days', type('interval'), 'string')).toBe(-86400000000);
    expect(debeziumValue('1 year -2 mons +3 days -04:05:06', type('interval'), 'string')).toBe(Math.round((12 - 2) * 30.4375 * 86400e6 + 3 * 86400e6 - 14706e6));
    expect(debeziumValue('P1D', type('interval'), 'string')).toBe('P1D'); // another IntervalStyle: kept as text
  });

  test('bytes, bits, network, geometry, hstore, json, arrays', () => {
    expect(debeziumValue('\\x00ff5c', type('bytea'), 'string')).toBe('AP9c');
    expect(debeziumValue('101', type('bit', 3), 'string')).toBe('BQ==');
    expect(debeziumValue('1', type('bit', 1), 'string')).toBe(true);
    expect(debeziumValue('10.0.0.1/32', type('inet'), 'string')).toBe('10.0.0.1');
    expect(debeziumValue('::1/128', type('inet'), 'string')).toBe('::1');
    expect(debeziumValue('10.0.0.0/8', type('cidr'), 'string')).toBe('10.0.0.0/8');
    expect(debeziumValue('(1.5,2)', type('point'), 'string')).toEqual({ x: 1.5, y: 2, wkb: 'AQEAAAAAAAAAAAD4PwAAAAAAAABA', srid: null });
    expect(hstoreValue('"a"=>"1", "b"=>NULL, "q\\""=>"x"')).toBe('{"a":"1","b":null,"q\\"":"x"}');
    expect(debeziumValue(new RawJson('null'), type('jsonb'), 'string')).toBe('null');
    expect(debeziumValue([new RawJson('{"a": 1}'), null], type('jsonb', -1, true), 'string')).toEqual(['{"a": 1}', null]);
    expect(debeziumValue(['2020-01-02T00:00:00Z'], type('date', -1, true), 'string')).toEqual([18263]);
    // No type (events relayed from Kafka): JSON as its text, the rest as it is.
    expect(debeziumValue({ a: [1, 9007199254740993n] }, undefined, 'string')).toBe('{"a":[1,9007199254740993]}');
    expect(debeziumValue([new RawJson('{"b":2}'), 3], undefined, 'string')).toEqual(['{"b":2}', 3]);
  });

  test('JSON text: every digit of a bigint, -0 as -0.0', () => {
    expect(debeziumJson({ a: 9223372036854775807n, b: -0, c: [null, 'x'] })).toBe('{"a":9223372036854775807,"b":-0.0,"c":[null,"x"]}');
  });
});

const base: ChangeEvent = {
  source: 'pg', host: 'h', database: 'db', schema: 'public', table: 't', action: 'insert', lsn: 100n, commitLsn: 200n, xid: 7,
  commitTime: '2026-01-02T03:04:05.123456Z', timestamp: '2026-01-02T03:04:06.5Z', uuid: 'u', columns: { id: 1, v: 'a' }, key: ['id'],
  columnTypes: { id: type('int4'), v: type('text') },
};
const options = { prefix: 'p', decimalMode: 'string' as const, tombstones: true };
const ops = (event: ChangeEvent, o = options) => debeziumRecords(event, o).map((r) => (r.value === null ? 'tombstone' : (r.value as { op: string }).op));

describe('records', () => {
  test('topic, key, envelope and source of an insert', () => {
    expect(debeziumTopic('p', 'public', 't')).toBe('p.public.t');
    const [r] = debeziumRecords(base, options);
    expect(r!.topic).toBe('p.public.t');
    expect(r!.key).toEqual({ id: 1 });
    const v = r!.value as Record<string, unknown>;
    expect(v.op).toBe('c');
    expect(v.before).toBeNull();
    expect(v.after).toEqual({ id: 1, v: 'a' });
    expect(v.ts_ms).toBe(1767323046500n);
    expect(v.source).toMatchObject({ connector: 'postgresql', name: 'p', db: 'db', schema: 'public', table: 't', txId: 7, lsn: 100n, ts_ms: 1767323045123n, snapshot: 'false', sequence: '["200","100"]' });
  });

  test('snapshot rows are op "r"', () => {
    expect(ops({ ...base, snapshot: true })).toEqual(['r']);
  });

  test('deletes get a tombstone unless turned off; a truncate has no key', () => {
    const del = { ...base, action: 'delete' as const, columns: { id: 1, v: null } };
    expect(ops(del)).toEqual(['d', 'tombstone']);
    expect(ops(del, { ...options, tombstones: false })).toEqual(['d']);
    const [t] = debeziumRecords({ ...base, action: 'truncate', columns: {} }, options);
    expect(t!.key).toBeNull();
    expect((t!.value as { op: string }).op).toBe('t');
    expect(ops({ ...base, action: 'message' })).toEqual([]);
  });

  test('an update that changes the key is a delete, a tombstone and a create; unchanged TOAST gets the placeholder', () => {
    const moved = { ...base, action: 'update' as const, columns: { id: 2, v: 'a' }, old: { id: 1 } };
    expect(ops(moved)).toEqual(['d', 'tombstone', 'c']);
    expect(debeziumRecords(moved, options)[0]!.value).toMatchObject({ before: { id: 1, v: null } });
    const toast = { ...base, action: 'update' as const, columns: { id: 1 }, unchanged: ['v'] };
    const [u] = debeziumRecords(toast, options);
    expect(u!.value).toMatchObject({ op: 'u', before: null, after: { id: 1, v: UNAVAILABLE_VALUE } });
  });
});
