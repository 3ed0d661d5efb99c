/**
 * JSON encoding that produces the same bytes as Go's `encoding/json` (as built into the original
 * psql-streamer with Go 1.14), so consumers comparing messages byte for byte see no difference:
 * `<`, `>`, `&`, U+2028 and U+2029 are escaped, control characters other than \n \r \t use `\u00XX`,
 * map keys are sorted, and invalid UTF-16 (lone surrogates, JavaScript's form of invalid UTF-8)
 * becomes U+FFFD.
 */
import { RawJson, type ColumnValue } from './event.ts';

// Everything Go escapes, plus surrogates (checked pairwise in the slow path).
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;
const HEX = '0123456789abcdef';

/** Encodes a string as a Go-compatible JSON string literal, quotes included. */
export function goJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) {
      rep = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = '\\\\';
    else if (c === 0x3c) rep = '\\u003c';
    else if (c === 0x3e) rep = '\\u003e';
    else if (c === 0x26) rep = '\\u0026';
    else if (c === 0x2028) rep = '\\u2028';
    else if (c === 0x2029) rep = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair is copied as is
        continue;
      }
      rep = '\ufffd';
    }
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/**
 * Encodes a finite number as Go's `strconv.FormatFloat(f, 'f' or 'e', -1, 64)` does for JSON.
 * JavaScript's shortest round-trip form and exponent thresholds (1e-6, 1e21) match Go's; only -0
 * differs. Non-finite numbers are not valid JSON and are written as strings ("NaN", "Infinity").
 */
export function goJsonNumber(n: number): string {
  if (!Number.isFinite(n)) return '"' + String(n) + '"';
  if (n === 0 && Object.is(n, -0)) return '-0';
  return String(n);
}

/** Sorted keys as Go sorts map keys (byte order of UTF-8, which equals code point order). */
export function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  // Rows are usually built in name order already (see RelationInfo.nameOrder): checking is cheaper than sorting.
  for (let i = 1; i < keys.length; i++) {
    if (compareCodePoints(keys[i - 1] as string, keys[i] as string) > 0) return keys.sort(compareCodePoints);
  }
  return keys;
}

/** Compares strings by code point (Go's map key order). */
export function compareCodePoints(a: string, b: string): number {
  // UTF-16 code unit order differs from code point order only when a surrogate meets U+E000..U+FFFF.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys && (x >= 0xe000 || y >= 0xe000)) return xs ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Encodes a column value (and nested values) as Go-compatible JSON. */
export function goJsonValue(v: ColumnValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return goJsonString(v);
    case 'number':
      return goJsonNumber(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof RawJson) return v.json;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + goJsonValue(v[i] as ColumnValue);
    return out + ']';
  }
  return goJsonObject(v as { readonly [key: string]: ColumnValue });
}

/** Encodes an object with sorted keys, as Go marshals a map. */
export function goJsonObject(obj: { readonly [key: string]: ColumnValue }): string {
  let out = '{';
  let first = true;
  for (const key of sortedKeys(obj)) {
    out += (first ? '' : ',') + goJsonString(key) + ':' + goJsonValue(obj[key] as ColumnValue);
    first = false;
  }
  return out + '}';
}
