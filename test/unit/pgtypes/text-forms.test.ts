import { describe, expect, test } from 'bun:test';
import { RawJson } from '../../../src/event/event.ts';
import { byteaEscapeToHex, compactJson } from '../../../src/pgtypes/text-forms.ts';
import { OID } from '../../../src/pgtypes/oids.ts';
import { convert, jsonOf, recordingRegistry } from '../../helpers/pgtypes.ts';

describe('text types', () => {
  test('text, varchar, name, "char" and bpchar (padding kept) are strings', () => {
    expect(jsonOf(OID.text, 'hello <world> & "you"\n')).toBe('"hello \\u003cworld\\u003e \\u0026 \\"you\\"\\n"');
    expect(jsonOf(OID.varchar, '')).toBe('""');
    expect(jsonOf(OID.bpchar, 'ab   ')).toBe('"ab   "');
    expect(jsonOf(OID.name, 'pg_class')).toBe('"pg_class"');
    expect(jsonOf(OID.char, 'x')).toBe('"x"');
  });

  test('uuid is a string (the original dropped it)', () => {
    expect(jsonOf(OID.uuid, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')).toBe('"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"');
  });

  test('other types are their text', () => {
    for (const [oid, text] of [
      [OID.macaddr, '08:00:2b:01:02:03'], [OID.macaddr8, '08:00:2b:01:02:03:04:05'], [OID.cidr, '10.0.0.0/8'],
      [OID.bit, '101'], [OID.varbit, '10101'], [OID.tsvector, "'a':1 'fat':2"], [OID.tsquery, "'fat' & 'rat'"],
      [OID.xml, '<a>b</a>'], [OID.point, '(1,2)'], [OID.polygon, '((0,0),(1,1))'], [OID.pg_lsn, '16/B374D848'],
      [OID.txid_snapshot, '10:20:10,14,15'], [OID.tid, '(0,1)'], [OID.int4range, '[1,10)'], [OID.regclass, 'pg_class'],
      [OID.int2vector, '1 2'], [OID.interval, '-1 days +02:03:00'], [OID.jsonpath, '$."a"'],
    ] as const) {
      expect(convert(oid, text).value).toBe(text);
    }
  });
});

describe('inet', () => {
  test('host bits are kept (the original masked them)', () => {
    expect(jsonOf(OID.inet, '192.168.1.5/24')).toBe('"192.168.1.5/24"');
    expect(jsonOf(OID.inet, '2001:db8::1/64')).toBe('"2001:db8::1/64"');
  });

  test('a bare address gets its full prefix, as the original printed it', () => {
    expect(jsonOf(OID.inet, '10.0.0.1')).toBe('"10.0.0.1/32"');
    expect(jsonOf(OID.inet, '::1')).toBe('"::1/128"');
    expect(jsonOf(OID.inet, '::ffff:1.2.3.4')).toBe('"::ffff:1.2.3.4/128"');
  });
});

describe('bytea', () => {
  test('hex output is kept as is (lossless)', () => {
    expect(convert(OID.bytea, '\\xdeadbeef00ff').value).toBe('\\xdeadbeef00ff');
    expect(jsonOf(OID.bytea, '\\x')).toBe('"\\\\x"');
  });

  test('escape output is rewritten as hex', () => {
    expect(convert(OID.bytea, 'abc').value).toBe('\\x616263');
    expect(convert(OID.bytea, 'a\\\\b').value).toBe('\\x615c62');
    expect(convert(OID.bytea, '\\000\\001\\377~ ').value).toBe('\\x0001ff7e20');
    expect(convert(OID.bytea, '').value).toBe('\\x');
    expect(byteaEscapeToHex('\\\\x41')).toBe('\\x5c783431'); // a literal backslash then "x41"
  });

  test('malformed bytea is reported and kept as text', () => {
    const { registry, problems } = recordingRegistry();
    for (const bad of ['\\xabc', '\\400', '\\12', 'a\\', 'é']) expect(convert(OID.bytea, bad, registry).value).toBe(bad);
    expect(problems.length).toBe(5);
  });
});

describe('json and jsonb', () => {
  test('nested JSON written verbatim', () => {
    const { value, json } = convert(OID.jsonb, '{"a": [1, 2.50, {"b": null}], "c": "x<y"}');
    expect(value).toBeInstanceOf(RawJson);
    expect(json).toBe('{"a": [1, 2.50, {"b": null}], "c": "x<y"}');
  });

  test('numbers beyond float precision and range keep every digit', () => {
    expect(jsonOf(OID.jsonb, '1e1000')).toBe('1e1000');
    expect(jsonOf(OID.jsonb, '{"n": 123456789012345678901234567890.000000000000000000001}'))
      .toBe('{"n": 123456789012345678901234567890.000000000000000000001}');
  });

  test('scalars', () => {
    expect(jsonOf(OID.jsonb, '"str"')).toBe('"str"');
    expect(jsonOf(OID.json, 'null')).toBe('null');
    expect(jsonOf(OID.json, 'true')).toBe('true');
    expect(jsonOf(OID.json, '-1')).toBe('-1');
  });

  test('json keeps its text, but line breaks are removed so the event stays one line', () => {
    expect(jsonOf(OID.json, '{"a" : 1,  "b":[1,2]}')).toBe('{"a" : 1,  "b":[1,2]}');
    expect(jsonOf(OID.json, '{\n  "a": "x\\n y",\r\n  "b": [ 1, 2 ]\n}')).toBe('{"a":"x\\n y","b":[1,2]}');
    expect(compactJson('{"a\\"\\\\": " \\" "}')).toBe('{"a\\"\\\\":" \\" "}');
  });

  test('text that cannot be JSON is reported and kept as a string', () => {
    const { registry, problems } = recordingRegistry();
    for (const bad of ['', '   ', 'undefined', '{\n"a', '{"a": [1, 2', '[1, 2, ']) {
      expect(convert(OID.json, bad, registry).value).toBe(bad);
    }
    expect(problems.length).toBe(6);
    // PostgreSQL validated the JSON on input, so only its first and last characters are checked.
    expect(convert(OID.json, "{'a': 1}").value).toBeInstanceOf(RawJson);
  });
});
