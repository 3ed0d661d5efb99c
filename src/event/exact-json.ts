/**
 * JSON with exact numbers, for the Kafka source's event decoder (pure). JSON.parse turns every
 * number into a double, losing digits of integers beyond 2^53; two ways around that:
 *
 * - `quoteInexactNumbers` + JSON.parse + `restoreInexactNumbers`: number tokens a double cannot hold
 *   are swapped for marker strings before JSON.parse and turned into bigint (or RawJson) after: close
 *   to JSON.parse's speed;
 * - `JsonParser`: a strict parser of our own that keeps every number exact and reports syntax errors
 *   with their position.
 *
 * Numbers: a safe integer or a finite fraction is a number (as the original, Go float64); an
 * integer beyond 2^53 a bigint (every digit); a number a double cannot hold written with a fraction
 * or exponent (`1e400`, `1e300`) RawJson with its text.
 */
import { RawJson, type ColumnValue, type Columns } from './event.ts';

/** A parsed JSON value: ColumnValue, with numbers kept exact. */
export type JsonValue = ColumnValue;

/** Not JSON; the message says what and where, as Go's decoder does. */
export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The exact value of a valid number token: number when a double holds it, else bigint or RawJson. */
export function exactNumber(token: string): JsonValue {
  const n = Number(token);
  if (Number.isSafeInteger(n) || (Number.isFinite(n) && !Number.isInteger(n))) return n;
  return /[.eE]/.test(token) ? new RawJson(token) : BigInt(token);
}

/** Text for JSON.parse with the inexact number tokens quoted, and their exact values. */
export interface QuotedNumbers {
  text: string;
  marker: string;
  values: JsonValue[];
}

/** Unlikely in any real string value (random per process, starting with NUL): never mistaken for data. */
const MARKER_NAME = `psql-streamer-exact-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}:`;
/** The marker as a parsed string, and as JSON text (a raw NUL is not allowed in a JSON string). */
const MARKER = `\u0000${MARKER_NAME}`;
const MARKER_JSON = `"\\u0000${MARKER_NAME}`;

/**
 * Replaces each number token a double cannot hold exactly with a marker string literal (strings are
 * skipped, escapes honoured). Valid JSON stays valid and invalid JSON invalid (a whole number token
 * becomes a whole string token), so JSON.parse still judges the syntax.
 */
export function quoteInexactNumbers(text: string): QuotedNumbers {
  const values: JsonValue[] = [];
  let out = '';
  let copied = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i);
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue;
    let j = i + 1;
    let exponent = false;
    for (; j < n; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x65 || d === 0x45) exponent = true;
      else if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2d || d === 0x2b)) break;
    }
    // At most 15 digits and no exponent: a double holds it exactly.
    if (j - i > 15 || exponent) {
      const token = text.slice(i, j);
      if (NUMBER.test(token)) {
        const value = exactNumber(token);
        if (typeof value !== 'number') {
          out += text.slice(copied, i) + MARKER_JSON + values.length + '"';
          copied = j;
          values.push(value);
        }
      }
    }
    i = j - 1;
  }
  return { text: values.length === 0 ? text : out + text.slice(copied), marker: MARKER, values };
}

/** Position of the quote that closes the string opened at `open` (text.length when unterminated). */
function closingQuote(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return text.length;
}

/** Puts the exact values back where quoteInexactNumbers left markers (in place; returns the value). */
export function restoreInexactNumbers(value: JsonValue, quoted: QuotedNumbers): JsonValue {
  if (typeof value === 'string') return restoreString(value, quoted);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items = value as JsonValue[];
    for (let i = 0; i < items.length; i++) items[i] = restoreInexactNumbers(items[i] as JsonValue, quoted);
    return items;
  }
  const object = value as Record<string, JsonValue>;
  for (const key in object) object[key] = restoreInexactNumbers(object[key] as JsonValue, quoted);
  return object;
}

function restoreString(value: string, quoted: QuotedNumbers): JsonValue {
  if (value.charCodeAt(0) !== 0 || !value.startsWith(quoted.marker)) return value;
  return quoted.values[Number(value.slice(quoted.marker.length))] as JsonValue;
}

/**
 * Strict JSON parser (RFC 8259, as Go's encoding/json checks it) that keeps every number exact.
 * Objects get own properties only (a `__proto__` key is data, never the prototype). About 5× slower
 * than JSON.parse in Bun (building objects key by key costs most): for errors and the rare cases
 * the JSON.parse paths cannot decide.
 */
export class JsonParser {
  private pos = 0;
  /** Whether a number came out as bigint or RawJson (JSON.parse would have lost it). */
  inexact = false;

  constructor(private readonly text: string) {}

  /**
   * The top-level value as the event decoder needs it: an object's members in order (duplicates
   * included), or any other value as is.
   */
  document(): { members: [string, JsonValue][] } | { value: JsonValue } {
    const isObject = this.next() === 0x7b;
    const members = isObject ? this.members() : undefined;
    const value = isObject ? null : this.value();
    this.next();
    if (this.pos < this.text.length) this.fail('after top-level value');
    return members !== undefined ? { members } : { value };
  }

  /** Parses a whole document as one value. */
  static parse(text: string): JsonValue {
    const parser = new JsonParser(text);
    parser.skipSpace();
    const value = parser.value();
    parser.skipSpace();
    if (parser.pos < text.length) parser.fail('after top-level value');
    return value;
  }

  private value(): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x22: return this.string();
      case 0x7b: return this.object();
      case 0x5b: return this.array();
      case 0x74: this.literal('true'); return true;
      case 0x66: this.literal('false'); return false;
      case 0x6e: this.literal('null'); return null;
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail('looking for beginning of value');
    }
  }

  private members(): [string, JsonValue][] {
    const members: [string, JsonValue][] = [];
    this.pos++; // {
    if (this.next() === 0x7d) {
      this.pos++;
      return members;
    }
    for (;;) {
      const key = this.key();
      members.push([key, this.value()]);
      if (this.endOfObject()) return members;
    }
  }

  private object(): Columns {
    const out: Record<string, JsonValue> = {};
    this.pos++; // {
    if (this.next() === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      const key = this.key();
      const value = this.value();
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      if (this.endOfObject()) return out;
    }
  }

  /** An object key and its colon; leaves pos at the value. */
  private key(): string {
    if (this.next() !== 0x22) this.fail('looking for beginning of object key string');
    const key = this.string();
    if (this.next() !== 0x3a) this.fail('after object key');
    this.pos++;
    this.next();
    return key;
  }

  /** After a member: true at `}`, false at `,` (both consumed). */
  private endOfObject(): boolean {
    const c = this.next();
    this.pos++;
    if (c === 0x7d) return true;
    if (c !== 0x2c) this.fail('after object key:value pair', this.pos - 1);
    return false;
  }

  private array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // [
    if (this.next() === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      const c = this.next();
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail('after array element', this.pos - 1);
      this.next();
    }
  }

  private string(): string {
    const text = this.text;
    const start = ++this.pos; // opening quote
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return text.slice(start, i);
      }
      if (c === 0x5c || c < 0x20 || Number.isNaN(c)) break;
      i++;
    }
    // Slow path: escapes.
    let out = text.slice(start, i);
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('in string literal', i);
      if (c === 0x22) {
        this.pos = i + 1;
        return out;
      }
      if (c < 0x20) this.fail('in string literal', i);
      if (c !== 0x5c) {
        let j = i + 1;
        while (j < text.length) {
          const d = text.charCodeAt(j);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          j++;
        }
        out += text.slice(i, j);
        i = j;
        continue;
      }
      const e = text.charCodeAt(i + 1);
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('in \\u hexadecimal character escape', i + 2);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          this.fail('in string escape code', i + 1);
      }
      i += 2;
    }
  }

  private number(): JsonValue {
    const text = this.text;
    const start = this.pos;
    let i = start;
    const negative = text.charCodeAt(i) === 0x2d;
    if (negative) i++;
    const first = text.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) i = this.digits(i);
    else this.fail('in numeric literal', i);
    const next = text.charCodeAt(i);
    if (next !== 0x2e && next !== 0x65 && next !== 0x45 && i - start <= 15 && !(negative && first === 0x30)) {
      // The common case: a short integer, exact as a double; no slicing, no Number().
      this.pos = i;
      let v = 0;
      for (let j = negative ? start + 1 : start; j < i; j++) v = v * 10 + (text.charCodeAt(j) - 0x30);
      return negative ? -v : v;
    }
    if (text.charCodeAt(i) === 0x2e) {
      if (!isDigit(text.charCodeAt(i + 1))) this.fail('after decimal point in numeric literal', i + 1);
      i = this.digits(i + 1);
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) this.fail('in exponent of numeric literal', i);
      i = this.digits(i);
    }
    this.pos = i;
    const value = exactNumber(text.slice(start, i));
    if (typeof value !== 'number') this.inexact = true;
    return value;
  }

  private digits(i: number): number {
    while (isDigit(this.text.charCodeAt(i))) i++;
    return i;
  }

  private literal(word: string): void {
    if (!this.text.startsWith(word, this.pos)) {
      let i = this.pos;
      while (i < this.text.length && i - this.pos < word.length && this.text[i] === word[i - this.pos]) i++;
      this.fail(`in literal ${word} (expecting '${word[i - this.pos]}')`, i);
    }
    this.pos += word.length;
  }

  /** The next character that is not whitespace, at pos (compact JSON has none: checked first). */
  private next(): number {
    const c = this.text.charCodeAt(this.pos);
    if (c > 0x20) return c;
    this.skipSpace();
    return this.text.charCodeAt(this.pos);
  }

  private skipSpace(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.pos = i;
  }

  private fail(context: string, at = this.pos): never {
    if (at >= this.text.length) throw new JsonSyntaxError('unexpected end of JSON input');
    const ch = this.text.codePointAt(at) as number;
    const shown = ch < 0x20 || ch === 0x27 || ch === 0x5c ? JSON.stringify(String.fromCodePoint(ch)).slice(1, -1) : String.fromCodePoint(ch);
    throw new JsonSyntaxError(`invalid character '${shown}' ${context} (offset ${at})`);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
