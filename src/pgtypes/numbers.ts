/**
 * bool, the integer types and the float types. Integers are exact: a value that fits in a JS
 * number without rounding (|n| ≤ 2^53 − 1) is a number, a larger int8/xid8 is a bigint, which the
 * JSON encoder writes with every digit. Floats are numbers, except NaN and ±Infinity, which are
 * not JSON numbers and become the strings "NaN", "Infinity", "-Infinity".
 */
import type { ColumnValue } from '../event/event.ts';
import type { Converter, Fail } from './converter.ts';

const MINUS = 45; // '-'
const PLUS = 43; // '+'
const DOT = 46; // '.'
const ZERO = 48; // '0'
const LOWER_E = 101; // 'e'
const UPPER_E = 69; // 'E'

// Up to 15 digits always fit in a double exactly (10^15 < 2^53), so the digit loop cannot round.
const EXACT_DIGITS = 15;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** bool: PostgreSQL prints `t` or `f`. */
export function makeBool(fail: Fail): Converter {
  return (text) => (text === 't' ? true : text === 'f' ? false : fail(text, 'not a bool (t/f)'));
}

/**
 * Parses a decimal integer as PostgreSQL prints it (optional '-', digits, nothing else):
 * a number when exact, else a bigint; undefined when the text is not such an integer.
 */
export function parseInteger(text: string): number | bigint | undefined {
  const length = text.length;
  let i = text.charCodeAt(0) === MINUS ? 1 : 0;
  if (i === length) return undefined; // '' or '-'
  if (length - i > EXACT_DIGITS) return parseLongInteger(text, i);
  let value = 0;
  for (; i < length; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  // `0 - value` rather than `-value`: "-0" must not become the float -0.
  return text.charCodeAt(0) === MINUS ? 0 - value : value;
}

function parseLongInteger(text: string, start: number): number | bigint | undefined {
  for (let i = start; i < text.length; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return undefined;
  }
  const big = BigInt(text); // cannot throw: validated above
  return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
}

/** int2, int4, int8, oid, xid, cid, xid8: exact integers. */
export function makeInteger(fail: Fail): Converter {
  return (text) => parseInteger(text) ?? fail(text, 'not an integer');
}

/** True when every character may appear in a finite float as PostgreSQL prints it. */
function isFloatText(text: string): boolean {
  const length = text.length;
  if (length === 0) return false;
  let digits = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= ZERO && c <= ZERO + 9) digits++;
    else if (c !== MINUS && c !== PLUS && c !== DOT && c !== LOWER_E && c !== UPPER_E) return false;
  }
  return digits > 0;
}

/** Parses float text; the three specials come back as strings, bad text as undefined. */
export function parseFloatText(text: string): ColumnValue | undefined {
  if (isFloatText(text)) {
    const value = +text;
    return value === value ? value : undefined; // NaN here means malformed, like "1-2"
  }
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return text;
  return undefined;
}

/** float4, float8: numbers, with NaN/Infinity/-Infinity as strings so the event stays valid JSON. */
export function makeFloat(fail: Fail): Converter {
  return (text) => parseFloatText(text) ?? fail(text, 'not a float');
}
