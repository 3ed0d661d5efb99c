import { describe, expect, test } from 'bun:test';
import { RawJson } from '../../../src/event/event.ts';
import { asText } from '../../../src/pgtypes/converter.ts';
import { parseArrayLiteral } from '../../../src/pgtypes/array.ts';
import { OID } from '../../../src/pgtypes/oids.ts';
import { convert, jsonOf, recordingRegistry } from '../../helpers/pgtypes.ts';

describe('array literals', () => {
  test('flat arrays with NULL elements', () => {
    expect(convert(OID._int4, '{1,2,NULL}').value).toEqual([1, 2, null]);
    expect(jsonOf(OID._int8, '{1,9223372036854775807,-9223372036854775808}')).toBe('[1,9223372036854775807,-9223372036854775808]');
    expect(jsonOf(OID._bool, '{t,f,NULL}')).toBe('[true,false,null]');
    expect(jsonOf(OID._text, '{null,Null}')).toBe('[null,null]'); // unquoted NULL in any case
  });

  test('empty arrays', () => {
    expect(jsonOf(OID._int4, '{}')).toBe('[]');
    expect(jsonOf(OID._text, '{}')).toBe('[]');
  });

  test('quoted elements with backslash escapes; a quoted "NULL" is text', () => {
    expect(convert(OID._text, '{"a,b","c\\"d","e\\\\f","NULL",""," x "}').value)
      .toEqual(['a,b', 'c"d', 'e\\f', 'NULL', '', ' x ']);
    expect(convert(OID._text, '{"{}","a}b","\\\\"}').value).toEqual(['{}', 'a}b', '\\']);
    expect(convert(OID._varchar, '{"日本語 😀",ü}').value).toEqual(['日本語 😀', 'ü']);
  });

  test('multi-dimensional arrays nest', () => {
    expect(jsonOf(OID._int4, '{{1,2},{3,4}}')).toBe('[[1,2],[3,4]]');
    expect(jsonOf(OID._text, '{{{a,b}},{{"c d",NULL}}}')).toBe('[[["a","b"]],[["c d",null]]]');
  });

  test('the lower-bound prefix is dropped', () => {
    expect(jsonOf(OID._int4, '[0:2]={1,2,3}')).toBe('[1,2,3]');
    expect(jsonOf(OID._int4, '[-2:-1][1:2]={{1,2},{3,4}}')).toBe('[[1,2],[3,4]]');
  });

  test('box[] uses ";" between elements', () => {
    expect(convert(OID._box, '{(1,1),(0,0);(3,3),(2,2)}').value).toEqual(['(1,1),(0,0)', '(3,3),(2,2)']);
  });

  test('elements go through the element conversion: json, timestamps, numeric, bytea, floats', () => {
    expect(jsonOf(OID._jsonb, '{"{\\"a\\": 1}","[1, 2]","\\"s\\"",null,"null"}')).toBe('[{"a": 1},[1, 2],"s",null,null]');
    expect(jsonOf(OID._timestamptz, '{"2020-01-02 03:04:05.5+00",infinity,NULL}'))
      .toBe('["2020-01-02T03:04:05.5Z","infinity",null]');
    expect(jsonOf(OID._date, '{2020-01-02,"0044-03-15 BC"}')).toBe('["2020-01-02T00:00:00Z","-0043-03-15T00:00:00Z"]');
    expect(jsonOf(OID._numeric, '{1.50,NaN,-0.0001}')).toBe('["1.50","NaN","-0.0001"]');
    expect(jsonOf(OID._bytea, '{"\\\\x0102","\\\\x"}')).toBe('["\\\\x0102","\\\\x"]');
    expect(jsonOf(OID._float8, '{1.5,NaN,-Infinity}')).toBe('[1.5,"NaN","-Infinity"]');
    expect(jsonOf(OID._uuid, '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}')).toBe('["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]');
    expect(jsonOf(OID._inet, '{10.0.0.1,192.168.1.5/24}')).toBe('["10.0.0.1/32","192.168.1.5/24"]');
  });

  test('elements of composite and range types stay text', () => {
    expect(convert(OID._int4range, '{"[1,3)",empty}').value).toEqual(['[1,3)', 'empty']);
  });

  test('whitespace around elements is ignored, as array_in does', () => {
    expect(convert(OID._int4, ' { 1 , 2 ,\t{3} } '.trim()).value).toEqual([1, 2, [3]]);
    expect(convert(OID._text, '{ a b , "c" }').value).toEqual(['a b', 'c']);
  });

  test('backslashes in unquoted elements escape the next character', () => {
    expect(parseArrayLiteral('{a\\,b,c\\ ,\\NULL}', ',', asText)).toEqual(['a,b', 'c ', 'NULL']);
  });

  test('a bad element becomes its text; the rest of the array is converted', () => {
    const { registry, problems } = recordingRegistry();
    expect(convert(OID._int4, '{1,x,3}', registry).value).toEqual([1, 'x', 3]);
    expect(problems).toEqual([{ oid: OID.int4, text: 'x', why: 'not an integer' }]);
  });

  test('malformed literals are reported and kept as text', () => {
    const { registry, problems } = recordingRegistry();
    const bad = ['', '1,2', '{1,2', '{1,,2}', '{,}', '{1,2}x', '{"a}', '{"a"b}', '{a"b}', '{{1},2', '[1:2]{1,2}', '{1}}', '{\\}', '{"a\\'];
    for (const text of bad) expect(convert(OID._int4, text, registry).value).toBe(text);
    // Elements read before the syntax error was found may be reported too (here "a" as an int4).
    expect(problems.filter((p) => p.oid === OID._int4).map((p) => p.text)).toEqual(bad);
  });

  test('absurd nesting is malformed rather than a stack overflow', () => {
    const deep = '{'.repeat(100_000) + '}'.repeat(100_000);
    expect(parseArrayLiteral(deep, ',', asText)).toBeUndefined();
    expect(parseArrayLiteral('{{{{{{1}}}}}}', ',', asText)).toEqual([[[[[['1']]]]]]);
  });

  test('element values are converted by the element converter, which receives the unescaped text', () => {
    const seen: string[] = [];
    const element = (text: string) => {
      seen.push(text);
      return new RawJson(JSON.stringify(text));
    };
    parseArrayLiteral('{plain,"quo\\"ted",NULL}', ',', element);
    expect(seen).toEqual(['plain', 'quo"ted']);
  });
});
