import { describe, expect, test } from 'bun:test';
import { RawJson, type ChangeEvent } from '../../../src/event/event.ts';
import { encodePassthrough } from '../../../src/event/passthrough.ts';
import { EventIdentity } from '../../../src/event/identity.ts';
import { ORDER_UUID, ORIGINAL_ORDER_JSON, originalOrderEvent } from '../../contract/events.ts';
import { EventDecoder, GO_ZERO_TIME, MalformedEventError, decodeEvent, fieldFor, isRfc3339 } from '../../../src/event/decode.ts';

const UUID = ORDER_UUID;

/** An event as the original psql-streamer v1.1.0 wrote it. */
const ORIGINAL = ORIGINAL_ORDER_JSON;

function malformed(value: string | Uint8Array | null): string {
  try {
    decodeEvent(value, 'k');
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedEventError);
    return (err as Error).message;
  }
  throw new Error(`expected ${String(value)} to be malformed`);
}

function withField(key: string, json: string): string {
  return `{"UUID":"${UUID}",${JSON.stringify(key)}:${json}}`;
}

describe('decodeEvent: the original format', () => {
  test('reads every field of an original event, Timestamp as received', () => {
    expect(decodeEvent(ORIGINAL, 'relay')).toEqual(originalOrderEvent({ source: 'relay' }));
  });

  test('re-encodes byte for byte (passthrough of a relayed original event)', () => {
    expect(encodePassthrough(decodeEvent(ORIGINAL, 'relay'))).toBe(ORIGINAL);
    expect(encodePassthrough(decodeEvent(new TextEncoder().encode(ORIGINAL), 'relay'))).toBe(ORIGINAL);
  });

  test('a delete with the key columns only, an insert with Go escapes', () => {
    const del = '{"Host":"h","Database":"d","Table":"t","Action":"delete","WALPosition":1,"Timestamp":"2018-07-03T16:04:27.263625156+02:00","UUID":"u1","Columns":{"id":7,"name":null}}';
    expect(encodePassthrough(decodeEvent(del, 'k'))).toBe(del);
    const ins = '{"Host":"h","Database":"d","Table":"t","Action":"insert","WALPosition":2,"Timestamp":"2018-07-03T16:04:27Z","UUID":"u2","Columns":{"html":"\\u003cb\\u003e \\u0026 \\u2028","tab":"a\\tb"}}';
    const event = decodeEvent(ins, 'k');
    expect(event.columns.html).toBe('<b> & \u2028');
    expect(encodePassthrough(event)).toBe(ins);
  });

  test('missing fields take Go zero values; null leaves a field at its zero value', () => {
    const event = decodeEvent(`{"UUID":"${UUID}","Host":null,"WALPosition":null,"Timestamp":null,"Columns":null}`, 'k');
    expect(event).toMatchObject({ host: '', database: '', table: '', action: '', lsn: 0n, timestamp: GO_ZERO_TIME, columns: {} });
  });

  test('unknown fields are ignored, whatever their type', () => {
    const event = decodeEvent(`{"UUID":"${UUID}","Table":"t","Extra":[1,{"a":2}],"Partition":7,"tags":{"x":null}}`, 'k');
    expect(event.table).toBe('t');
    expect(Object.keys(event)).not.toContain('Extra');
  });
});

describe('decodeEvent: keys matched as Go matches struct fields', () => {
  test('case-insensitive: host, HOST, wAlPoSiTiOn, uuid, columns', () => {
    const event = decodeEvent(`{"host":"a","DATABASE":"b","tAbLe":"c","ACTION":"insert","walposition":5,"timestamp":"2020-01-01T00:00:00Z","uuid":"${UUID}","COLUMNS":{"Id":1}}`, 'k');
    expect(event).toMatchObject({ host: 'a', database: 'b', table: 'c', action: 'insert', lsn: 5n, uuid: UUID, columns: { Id: 1 } });
  });

  test('Go special folds: KELVIN SIGN is k, LONG S is s; other non-ASCII letters never match', () => {
    expect(fieldFor('\u212Aey')).toBe('Key');
    expect(fieldFor('HO\u017FT')).toBe('Host');
    expect(fieldFor('UUİD')).toBeUndefined();
    expect(fieldFor('uuıd')).toBeUndefined();
    expect(fieldFor('Host ')).toBeUndefined();
  });

  test('the last of several keys for one field wins, in document order (also for exact duplicates)', () => {
    expect(decodeEvent('{"UUID":"a","uuid":"b"}', 'k').uuid).toBe('b');
    expect(decodeEvent('{"uuid":"a","UUID":"b","uuid":"c"}', 'k').uuid).toBe('c');
    expect(decodeEvent('{"UUID":"a","Table":"x","UUID":"z","Table":"y"}', 'k')).toMatchObject({ uuid: 'z', table: 'y' });
  });

  test('column names keep their case', () => {
    expect(decodeEvent(withField('Columns', '{"ID":1,"id":2}'), 'k').columns).toEqual({ ID: 1, id: 2 });
  });
});

describe('decodeEvent: exact values', () => {
  test('integers beyond 2^53 keep every digit, as column values and nested', () => {
    const json = withField('Columns', '{"max":9223372036854775807,"min":-9223372036854775808,"u64":18446744073709551615,"huge":123456789012345678901234567890,"nested":{"a":[9007199254740993]},"safe":9007199254740991}');
    const event = decodeEvent(json, 'k');
    expect(event.columns.max).toBe(9223372036854775807n);
    expect(event.columns.min).toBe(-9223372036854775808n);
    expect(event.columns.u64).toBe(18446744073709551615n);
    expect(event.columns.huge).toBe(123456789012345678901234567890n);
    expect(event.columns.nested).toEqual({ a: [9007199254740993n] });
    expect(event.columns.safe).toBe(9007199254740991);
    expect(encodePassthrough(event)).toContain('"huge":123456789012345678901234567890,"max":9223372036854775807,"min":-9223372036854775808,"nested":{"a":[9007199254740993]}');
  });

  test('numbers a double cannot hold stay as their text; fractions are doubles as in the original', () => {
    const event = decodeEvent(withField('Columns', '{"inf":1e400,"big":1e300,"frac":1.25,"exp":1.5e-7,"neg0":-0,"small":-12}'), 'k');
    expect(event.columns.inf).toEqual(new RawJson('1e400'));
    expect(event.columns.big).toEqual(new RawJson('1e300'));
    expect(event.columns.frac).toBe(1.25);
    expect(event.columns.exp).toBe(1.5e-7);
    expect(Object.is(event.columns.neg0, -0)).toBe(true);
    expect(event.columns.small).toBe(-12);
    // The same values whether or not the exact parser ran (a big integer elsewhere sends it there).
    const slow = decodeEvent(withField('Columns', '{"frac":1.25,"exp":1.5e-7,"neg0":-0,"small":-12,"x":9223372036854775807}'), 'k');
    expect(slow.columns).toMatchObject({ frac: 1.25, exp: 1.5e-7, small: -12 });
    expect(Object.is(slow.columns.neg0, -0)).toBe(true);
  });

  test('nested objects and arrays survive (jsonb columns, arrays); __proto__ is data', () => {
    const event = decodeEvent(withField('Columns', '{"doc":{"b":[1,"x",null,true,{"c":{}}],"a":[]},"__proto__":{"polluted":1}}'), 'k');
    expect(event.columns.doc).toEqual({ b: [1, 'x', null, true, { c: {} }], a: [] });
    expect(Object.keys(event.columns)).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(encodePassthrough(event)).toContain('"Columns":{"__proto__":{"polluted":1},"doc":{"a":[],"b":[1,"x",null,true,{"c":{}}]}}');
  });

  test('WALPosition: the whole uint64 range', () => {
    expect(decodeEvent(withField('WALPosition', '18446744073709551615'), 'k').lsn).toBe(18446744073709551615n);
    expect(decodeEvent(withField('WALPosition', '0'), 'k').lsn).toBe(0n);
    expect(decodeEvent(withField('WALPosition', '9007199254740993'), 'k').lsn).toBe(9007199254740993n);
  });

  test('strings: escapes, surrogate pairs, invalid UTF-8 bytes become U+FFFD (as Go)', () => {
    expect(decodeEvent(withField('Table', '"\\ud83d\\ude00 \\/ \\" \\\\ \\b\\f\\n\\r\\t \\u00e9"'), 'k').table).toBe('😀 / " \\ \b\f\n\r\t é');
    const bytes = new Uint8Array([...new TextEncoder().encode(`{"UUID":"${UUID}","Table":"a`), 0xff, 0xfe, ...new TextEncoder().encode('b"}')]);
    expect(decodeEvent(bytes, 'k').table).toBe('a\ufffd\ufffdb');
  });
});

describe('decodeEvent: our extra fields', () => {
  const full: ChangeEvent = {
    source: 'db1',
    host: 'db1',
    database: 'shop',
    schema: 'billing',
    table: 'invoices',
    action: 'update',
    lsn: 23861144n,
    commitLsn: 18446744073709551615n,
    txIndex: 4294967296,
    xid: 4294967295,
    commitTime: '2020-03-07T19:40:31.000123Z',
    timestamp: '2020-03-07T20:40:31.1234567+01:00',
    uuid: UUID,
    columns: { id: 42, big: 9223372036854775807n, doc: new RawJson('{"a":[1,2.5,"x"]}'), num: new RawJson('123456789012345678901234.5'), amount: '12.50' },
    old: { id: 41, note: null },
    key: ['id'],
    unchanged: ['blob', 'doc2'],
  };

  test('encodePassthrough → decodeEvent → encodePassthrough is the identity', () => {
    const json = encodePassthrough(full);
    const decoded = decodeEvent(json, 'relay');
    expect(encodePassthrough(decoded)).toBe(json);
    expect(decoded).toMatchObject({ schema: 'billing', xid: 4294967295, commitLsn: 18446744073709551615n, txIndex: 4294967296, commitTime: full.commitTime, old: full.old, key: ['id'], unchanged: ['blob', 'doc2'] });
    expect(decoded.columns.doc).toEqual({ a: [1, 2.5, 'x'] });
    expect(decoded.columns.num).toEqual(new RawJson('123456789012345678901234.5'));
  });

  test('also for truncate and message events, and without the optional fields', () => {
    const { xid: _x, commitLsn: _c, commitTime: _t, txIndex: _i, old: _o, key: _k, unchanged: _u, ...bare } = full;
    const events: ChangeEvent[] = [
      { ...bare, action: 'truncate', columns: {} },
      { ...full, action: 'message', columns: { prefix: 'p', content: 'c', transactional: true } },
      { ...bare, schema: '' },
      // A snapshot row: an insert without a transaction, "Snapshot":true last.
      { ...bare, key: ['id'], snapshot: true },
    ];
    for (const event of events) {
      const json = encodePassthrough(event);
      expect(encodePassthrough(decodeEvent(json, 'relay'))).toBe(json);
    }
  });

  test('a relayed stream event keeps its UUID and TxIndex: a relay of a relay writes the same bytes (docs/kafka.md, "Event identity (UUID)")', () => {
    const identity = EventIdentity.of('7301234567890123456', 'slot1');
    const event: ChangeEvent = { ...full, commitLsn: 0x1a8e94f0n, txIndex: 3, uuid: identity.stream(0x1a8e94f0n, 3) };
    const json = encodePassthrough(event);
    expect(json).toContain(`"UUID":"${identity.stream(0x1a8e94f0n, 3)}"`);
    expect(json).toContain(',"CommitLSN":445551856,"CommitTime":"2020-03-07T19:40:31.000123Z","TxIndex":3,"Old"');
    let relayed = json;
    for (let hop = 0; hop < 3; hop++) relayed = encodePassthrough(decodeEvent(relayed, `relay${hop}`));
    expect(relayed).toBe(json);
    const decoded = decodeEvent(relayed, 'relay');
    expect([decoded.uuid, decoded.commitLsn, decoded.txIndex]).toEqual([event.uuid, 0x1a8e94f0n, 3]);
  });

  test('badly typed extra fields are ignored, as the original ignores them, and the event kept', () => {
    const event = decodeEvent(`{"UUID":"${UUID}","Schema":1,"XID":-1,"CommitLSN":"5","CommitTime":false,"TxIndex":-1,"Old":[1],"Key":[1],"Unchanged":"x"}`, 'k');
    expect(event).toMatchObject({ uuid: UUID, schema: '' });
    for (const key of ['xid', 'commitLsn', 'commitTime', 'txIndex', 'old', 'key', 'unchanged']) expect(event).not.toHaveProperty(key);
    expect(decodeEvent(withField('TxIndex', '1.5'), 'k').txIndex).toBeUndefined();
    expect(decodeEvent(withField('TxIndex', '0'), 'k').txIndex).toBe(0);
    expect(decodeEvent(withField('XID', '4294967296'), 'k').xid).toBeUndefined();
    // Only true marks a snapshot row; anything else is ignored.
    for (const value of ['false', '1', '"true"', 'null']) expect(decodeEvent(withField('Snapshot', value), 'k')).not.toHaveProperty('snapshot');
    expect(decodeEvent(withField('Snapshot', 'true'), 'k').snapshot).toBe(true);
  });
});

describe('decodeEvent: malformed, as the original decides', () => {
  test('no UUID: missing, empty, null, or the document is JSON null', () => {
    expect(malformed('{"Host":"h"}')).toBe('Malformed event: no UUID');
    expect(malformed('{"UUID":""}')).toBe('Malformed event: no UUID');
    expect(malformed('{"UUID":null}')).toBe('Malformed event: no UUID');
    expect(malformed('null')).toBe('Malformed event: no UUID');
    expect(malformed(' null ')).toBe('Malformed event: no UUID');
  });

  test('not JSON', () => {
    for (const bad of ['', ' ', '{', '{"UUID":"x"', '{"UUID":"x",}', '{"UUID":"x"} x', '{"UUID":"x"}{}', '{UUID:"x"}', "{'UUID':'x'}",
      '{"UUID":"x","n":NaN}', '{"UUID":"x","n":01}', '{"UUID":"x","n":1.}', '{"UUID":"x","n":.5}', '{"UUID":"x","n":+1}',
      '{"UUID":"x","n":1e}', '{"UUID":"x","n":-}', '{"UUID":"x","s":"a\tb"}', '{"UUID":"x","s":"\\x"}', '{"UUID":"x","s":"\\u12"}',
      '{"UUID":"x","a":[1,]}', '{"UUID":"x","t":tru}', '{"UUID":"x","t":True}', '\ufeff{"UUID":"x"}', '{"UUID":"x"', '{"UUID" "x"}']) {
      expect(malformed(bad)).toStartWith('Unable to unmarshal event: ');
    }
    expect(malformed(null)).toBe('Unable to unmarshal event: unexpected end of JSON input');
    expect(malformed('{"UUID":"x","s":"a\tb"}')).toContain("invalid character '\\t' in string literal");
  });

  test('not an object', () => {
    for (const bad of ['[]', '[{"UUID":"x"}]', '"x"', '1', 'true']) expect(malformed(bad)).toContain('cannot unmarshal');
    expect(malformed('[1]')).toBe('Unable to unmarshal event: cannot unmarshal array into an event object');
  });

  test('WALPosition negative, fractional, with exponent, beyond uint64 or not a number', () => {
    for (const bad of ['-1', '1.5', '1e-3', '-1e3', '18446744073709551616', '1e20', '"5"', 'true', '{}', '[]']) {
      expect(malformed(withField('WALPosition', bad))).toContain('WALPosition');
    }
  });

  test('WALPosition written as an integral fraction or exponent is taken (Go would skip the event)', () => {
    expect(decodeEvent(withField('WALPosition', '1e3'), 'k').lsn).toBe(1000n);
    expect(decodeEvent(withField('WALPosition', '7.0'), 'k').lsn).toBe(7n);
  });

  test('Timestamp not RFC 3339 (or not a string)', () => {
    for (const bad of ['"2020-03-07 20:40:31Z"', '"2020-03-07T20:40:31"', '"2020-13-01T00:00:00Z"', '"2019-02-29T00:00:00Z"',
      '"2020-01-01T24:00:00Z"', '"2020-01-01T00:60:00Z"', '"2020-01-01T00:00:60Z"', '"2020-01-01T00:00:00.Z"', '"2020-01-01T00:00:00+0100"',
      '"2020-01-01T00:00:00z"', '"2020-01-01t00:00:00Z"', '""', '1583610031', 'true', '{}']) {
      expect(malformed(withField('Timestamp', bad))).toContain('Timestamp');
    }
  });

  test('valid timestamps', () => {
    for (const good of ['2020-03-07T20:40:31Z', '2020-03-07T20:40:31.1234567+01:00', '2020-02-29T23:59:59.999999999-12:30', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59+23:59']) {
      expect(isRfc3339(good)).toBe(true);
      expect(decodeEvent(withField('Timestamp', JSON.stringify(good)), 'k').timestamp).toBe(good);
    }
  });

  test('a string field or Columns with another type', () => {
    expect(malformed(withField('Host', '1'))).toBe('Unable to unmarshal event: cannot unmarshal number into field Host of type string');
    expect(malformed(withField('Action', 'true'))).toContain('field Action');
    expect(malformed(withField('Table', '{}'))).toContain('field Table');
    expect(malformed(withField('UUID', '7'))).toContain('field UUID');
    expect(malformed(withField('Columns', '[1]'))).toContain('field Columns');
    expect(malformed(withField('Columns', '"x"'))).toContain('field Columns');
  });
});

describe('EventDecoder', () => {
  test('whichever path it starts with, every value decodes as a fresh decoder decodes it', () => {
    const big = withField('Columns', '{"id":9223372036854775807,"n":1.5,"s":"12345678901234567890"}');
    const small = withField('Columns', '{"id":7,"n":1.5}');
    const dupes = '{"uuid":"a","Columns":{"x":12345678901234567890},"UUID":"b"}';
    const huge = withField('WALPosition', '18446744073709551615');
    const values = [big, small, big, big, dupes, small, huge, 'nope', big, '{"UUID":""}', small, ORIGINAL];
    const decoder = new EventDecoder('k');
    for (const value of values) {
      const fresh = (() => {
        try {
          return decodeEvent(value, 'k');
        } catch (err) {
          return (err as Error).message;
        }
      })();
      const reused = (() => {
        try {
          return decoder.decode(value);
        } catch (err) {
          return (err as Error).message;
        }
      })();
      expect(reused).toEqual(fresh);
    }
    expect(decoder.decode(dupes)).toMatchObject({ uuid: 'b', columns: { x: 12345678901234567890n } });
  });
});
