import { describe, expect, test } from 'bun:test';
import { RawJson } from '../../../src/event/event.ts';
import { JsonParser, JsonSyntaxError, exactNumber, quoteInexactNumbers, restoreInexactNumbers, type JsonValue } from '../../../src/event/exact-json.ts';

/** JSON.parse with the inexact numbers quoted and restored: what the event decoder's second path does. */
function viaQuotes(text: string): JsonValue {
  const quoted = quoteInexactNumbers(text);
  return restoreInexactNumbers(JSON.parse(quoted.text) as JsonValue, quoted);
}

describe('exactNumber', () => {
  test('numbers a double holds stay numbers; other integers bigint; other forms their text', () => {
    expect(exactNumber('42')).toBe(42);
    expect(exactNumber('-9007199254740991')).toBe(-9007199254740991);
    expect(exactNumber('9007199254740992')).toBe(9007199254740992n);
    expect(exactNumber('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(exactNumber('1.25')).toBe(1.25);
    expect(exactNumber('1e3')).toBe(1000);
    expect(Object.is(exactNumber('-0'), -0)).toBe(true);
    expect(exactNumber('1e400')).toEqual(new RawJson('1e400'));
    expect(exactNumber('1e300')).toEqual(new RawJson('1e300'));
    expect(exactNumber('12345678901234567890.5')).toEqual(new RawJson('12345678901234567890.5'));
  });
});

describe('quoteInexactNumbers', () => {
  test('leaves a document without inexact numbers as it is', () => {
    const text = '{"a":[1,2.5,-3,1e3,123456789012345],"b":"12345678901234567890"}';
    const quoted = quoteInexactNumbers(text);
    expect(quoted.values).toEqual([]);
    expect(quoted.text).toBe(text);
  });

  test('quotes only unsafe number tokens, never digits inside strings (escaped quotes included)', () => {
    const text = '{"s":"x\\"12345678901234567890","n":12345678901234567890,"a":[1e400, -9223372036854775808 ],"t":"\\\\","m":9007199254740993}';
    const quoted = quoteInexactNumbers(text);
    expect(quoted.values).toEqual([12345678901234567890n, new RawJson('1e400'), -9223372036854775808n, 9007199254740993n]);
    expect(viaQuotes(text)).toEqual(JsonParser.parse(text));
    expect(viaQuotes(text)).toEqual({ s: 'x"12345678901234567890', n: 12345678901234567890n, a: [new RawJson('1e400'), -9223372036854775808n], t: '\\', m: 9007199254740993n });
  });

  test('invalid JSON stays invalid', () => {
    for (const bad of ['{"a":12345678901234567890 1}', '{"a":012345678901234567890}', '{"a":1234567890123456789e}', '[99999999999999999999true]', '{"a":-12345678901234567890-}']) {
      expect(() => JSON.parse(quoteInexactNumbers(bad).text)).toThrow();
    }
  });

  test('a string that looks like a marker is data (the marker is random per process)', () => {
    const text = '{"a":"\\u0000psql-streamer-exact-x:0","b":12345678901234567890}';
    expect(viaQuotes(text)).toEqual({ a: '\u0000psql-streamer-exact-x:0', b: 12345678901234567890n });
  });
});

describe('JsonParser', () => {
  test('agrees with JSON.parse on generated documents (safe numbers)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const gen = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) {
        const k = Math.floor(random() * 6);
        if (k === 0) return Math.floor(random() * 2e9) - 1e9;
        if (k === 1) return random() * 1e6 - 5e5;
        if (k === 2) return String.fromCharCode(...Array.from({ length: Math.floor(random() * 8) }, () => Math.floor(random() * 0x3000)));
        if (k === 3) return random() < 0.5;
        if (k === 4) return null;
        return 'plain text';
      }
      if (r < 0.65) return Array.from({ length: Math.floor(random() * 5) }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, (_, i) => [`k${i}${String.fromCharCode(Math.floor(random() * 0x400))}`, gen(depth + 1)]));
    };
    for (let i = 0; i < 2000; i++) {
      const doc = gen(0);
      const text = JSON.stringify(doc, null, i % 3 === 0 ? 2 : undefined);
      expect(JsonParser.parse(text)).toEqual(JSON.parse(text));
    }
  });

  test('rejects what JSON.parse rejects', () => {
    for (const bad of ['', '{', '[', '{"a"}', '{"a":}', '[1 2]', '{"a":1 "b":2}', '"\u0001"', '1 2', '-a', '0x10', 'Infinity', 'undefined', '[1,,2]']) {
      expect(() => JSON.parse(bad)).toThrow();
      expect(() => JsonParser.parse(bad)).toThrow(JsonSyntaxError);
    }
  });
  test('the quoting path agrees with the strict parser on documents with big numbers', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const token = (): string => {
      const k = Math.floor(random() * 5);
      if (k === 0) return String(BigInt(Math.floor(random() * 2 ** 52)) * 4099n + 9007199254740993n);
      if (k === 1) return `-${Math.floor(random() * 1e9)}${Math.floor(random() * 1e9)}${Math.floor(random() * 1e9)}`;
      if (k === 2) return `${(random() * 100).toFixed(3)}`;
      if (k === 3) return JSON.stringify(`n ${Math.floor(random() * 1e9)}1234567890123456 "q" \\`);
      return String(Math.floor(random() * 1000));
    };
    for (let i = 0; i < 1000; i++) {
      const items = Array.from({ length: 1 + Math.floor(random() * 8) }, (_, j) => `"k${j}":${random() < 0.3 ? `[${token()},${token()}]` : token()}`);
      const text = `{${items.join(random() < 0.5 ? ',' : ' , ')}}`;
      expect(viaQuotes(text)).toEqual(JsonParser.parse(text));
    }
  });
});
