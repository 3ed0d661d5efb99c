import { describe, expect, test } from 'bun:test';
import { goJsonNumber, goJsonString, goJsonValue, sortedKeys } from '../../../src/event/go-json.ts';

describe('goJsonString', () => {
  test('plain strings are quoted unchanged', () => {
    expect(goJsonString('hello world')).toBe('"hello world"');
    expect(goJsonString('')).toBe('""');
    expect(goJsonString('naïve – 日本 😀')).toBe('"naïve – 日本 😀"');
  });

  test('escapes HTML characters and line/paragraph separators as Go does', () => {
    expect(goJsonString('<a href="x">&</a>')).toBe('"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
    expect(goJsonString('a\u2028b\u2029c')).toBe('"a\\u2028b\\u2029c"');
  });

  test('escapes control characters: \\n \\r \\t short, the rest as \\u00XX (Go 1.14)', () => {
    expect(goJsonString('a\nb\rc\td')).toBe('"a\\nb\\rc\\td"');
    expect(goJsonString('\u0000\u0001\b\f\u001f')).toBe('"\\u0000\\u0001\\u0008\\u000c\\u001f"');
    expect(goJsonString('back\\slash "q"')).toBe('"back\\\\slash \\"q\\""');
  });

  test('replaces lone surrogates with U+FFFD but keeps valid pairs', () => {
    expect(goJsonString('x\ud800y')).toBe('"x\ufffdy"');
    expect(goJsonString('x\udc00')).toBe('"x\ufffd"');
    expect(goJsonString('😀<')).toBe('"😀\\u003c"');
  });

  test('output always parses back to the input (for valid strings)', () => {
    for (let i = 0; i < 2000; i++) {
      let s = '';
      for (let j = 0; j < 20; j++) s += String.fromCharCode(Math.floor(Math.random() * 0xd7ff));
      expect(JSON.parse(goJsonString(s))).toBe(s);
    }
  });
});

describe('goJsonNumber', () => {
  test('formats like Go strconv for JSON', () => {
    expect(goJsonNumber(1)).toBe('1');
    expect(goJsonNumber(1.5)).toBe('1.5');
    expect(goJsonNumber(1e21)).toBe('1e+21');
    expect(goJsonNumber(1e20)).toBe('100000000000000000000');
    expect(goJsonNumber(0.000001)).toBe('0.000001');
    expect(goJsonNumber(1e-7)).toBe('1e-7');
    expect(goJsonNumber(-0)).toBe('-0');
  });

  test('never produces invalid JSON for NaN or infinities', () => {
    expect(goJsonNumber(Number.NaN)).toBe('"NaN"');
    expect(goJsonNumber(Number.POSITIVE_INFINITY)).toBe('"Infinity"');
    expect(goJsonNumber(Number.NEGATIVE_INFINITY)).toBe('"-Infinity"');
  });
});

describe('goJsonValue', () => {
  test('nested arrays and objects with sorted keys', () => {
    expect(goJsonValue({ b: [1, null, 'x', [true]], a: { d: 1n, c: false } })).toBe(
      '{"a":{"c":false,"d":1},"b":[1,null,"x",[true]]}',
    );
  });

  test('sorts keys by code point (as Go sorts UTF-8 bytes)', () => {
    expect(sortedKeys({ '\uff01': 1, '😀': 2, b: 3, B: 4 })).toEqual(['B', 'b', '\uff01', '😀']);
  });
});
