/**
 * Kafka message value → ChangeEvent, for events written by the original psql-streamer or by us
 * (`encodePassthrough`). Pure. Follows what the original's `json.Unmarshal` into its Event struct
 * accepts, so the same messages are malformed for both:
 *
 * - strict JSON (RFC 8259; a BOM, trailing data or `NaN` are errors); the value must be an object;
 * - keys matched as Go matches struct fields: exactly, else case-insensitively (ASCII folding plus
 *   U+212A KELVIN SIGN ~ k and U+017F LONG S ~ s); the last duplicate wins; unknown keys ignored;
 * - `Host`, `Database`, `Table`, `Action`, `UUID` strings; `WALPosition` a JSON integer in uint64
 *   range (see asUint for the one leniency); `Timestamp` an RFC 3339 string; `Columns` an object; `null` leaves a field at its zero
 *   value; any other type is an error;
 * - an empty or missing `UUID` is malformed ("Malformed event: no UUID").
 *
 * Values are kept exactly: integers beyond 2^53 become bigint (every digit), numbers a double
 * cannot hold (`1e400`, `1e300`) RawJson with their text; fractions are doubles, as in the original
 * (Go float64), which round-trips every double PostgreSQL or Go wrote. Nested objects and arrays
 * are kept. `Timestamp` is kept as the received text. Our own fields (`Schema`,
 * `XID`, `CommitLSN`, `CommitTime`, `Old`, `Key`, `Unchanged`) are read when present and well
 * typed; the original ignores them, so a badly typed one is ignored too rather than failing the event.
 */
import { RawJson, type Action, type ChangeEvent, type ColumnValue, type Columns } from '../core/event.ts';

/** Why a message is not an event; `message` is what the log and the dead-letter header say. */
export class MalformedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedEventError';
  }
}

/** Zero value of Go's time.Time as the original re-encodes it, for events without a Timestamp. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;
const MAX_UINT32 = 0xffff_ffff;

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Decodes one message value. Throws MalformedEventError when the original would reject it. */
export function decodeEvent(value: Uint8Array | string | null | undefined, source: string): ChangeEvent {
  const text = typeof value === 'string' ? value : value ? utf8.decode(value) : '';
  // Fast path: the native parser, 5× faster than ours, when every number it read is exact. Syntax
  // errors, duplicate fields and unsafe numbers go to the exact parser, which reports errors as
  // Go does, applies keys in Go's order and keeps every digit.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const event = fromParsed(parsed as Record<string, JsonValue>, source);
    if (event !== undefined) return event;
  }
  const members = new JsonParser(text).document();
  // Go's Unmarshal of `null` leaves the struct empty: no UUID.
  if (members === null) throw new MalformedEventError('Malformed event: no UUID');
  const event = newEvent(source);
  let typeError: string | undefined;
  for (const [key, value] of members) {
    const field = fieldFor(key);
    if (field === undefined || value === null) continue;
    typeError ??= assign(event, field, value);
  }
  return checked(event, typeError);
}

/** The event from JSON.parse's object, or undefined when the exact parser must decide. */
function fromParsed(object: Record<string, JsonValue>, source: string): ChangeEvent | undefined {
  // Messages written by psql-streamer spell every key exactly: look the fields up directly, and
  // fold keys one by one only when some other key is present.
  const event = newEvent(source);
  let matched = 0;
  let typeError: string | undefined;
  for (let i = 0; i < FIELD_NAMES.length; i++) {
    const field = FIELD_NAMES[i] as Field;
    const value = object[field];
    if (value === undefined) continue; // JSON values are never undefined, and no field is inherited
    matched++;
    if (value === null) continue;
    if (!isExact(value)) return undefined;
    typeError ??= assign(event, field, value);
  }
  if (matched === Object.keys(object).length) return checked(event, typeError);
  return fromParsedFolded(object, source);
}

/** As fromParsed, for objects with keys that are not exact field names. */
function fromParsedFolded(object: Record<string, JsonValue>, source: string): ChangeEvent | undefined {
  const event = newEvent(source);
  let seen = 0;
  let typeError: string | undefined;
  for (const key in object) {
    const field = fieldFor(key);
    if (field === undefined) continue;
    // Two keys for one field: JSON.parse merged exact duplicates, so Go's order is lost.
    const bit = FIELD_BITS[field];
    if (seen & bit) return undefined;
    seen |= bit;
    const value = object[key] as JsonValue;
    if (value === null) continue;
    if (!isExact(value)) return undefined;
    typeError ??= assign(event, field, value);
  }
  return checked(event, typeError);
}

function newEvent(source: string): ChangeEvent {
  return {
    source,
    host: '',
    database: '',
    schema: '',
    table: '',
    action: '' as Action,
    lsn: 0n,
    timestamp: GO_ZERO_TIME,
    uuid: '',
    columns: {},
  };
}

function checked(event: ChangeEvent, typeError: string | undefined): ChangeEvent {
  if (typeError !== undefined) throw new MalformedEventError(`Unable to unmarshal event: ${typeError}`);
  if (event.uuid === '') throw new MalformedEventError('Malformed event: no UUID');
  return event;
}

/**
 * Whether JSON.parse's value holds its JSON text exactly enough: no integer beyond 2^53 (digits
 * lost) and no infinity (an overflowing exponent). Fractions are left as doubles, as the original
 * (Go float64) did; a double written by PostgreSQL or Go round-trips.
 */
function isExact(value: JsonValue): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) || (Number.isFinite(value) && !Number.isInteger(value));
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!isExact(item)) return false;
    return true;
  }
  const object = value as Record<string, JsonValue>;
  for (const key in object) if (!isExact(object[key] as JsonValue)) return false;
  return true;
}

type Field =
  | 'Host' | 'Database' | 'Table' | 'Action' | 'WALPosition' | 'Timestamp' | 'UUID' | 'Columns'
  | 'Schema' | 'XID' | 'CommitLSN' | 'CommitTime' | 'Old' | 'Key' | 'Unchanged';

const FIELD_NAMES = ['Host', 'Database', 'Table', 'Action', 'WALPosition', 'Timestamp', 'UUID', 'Columns',
  'Schema', 'XID', 'CommitLSN', 'CommitTime', 'Old', 'Key', 'Unchanged'] as const;
const EXACT: ReadonlyMap<string, Field> = new Map(FIELD_NAMES.map((f) => [f, f]));
const FOLDED: ReadonlyMap<string, Field> = new Map(FIELD_NAMES.map((f) => [f.toLowerCase(), f]));
const FIELD_BITS = Object.fromEntries(FIELD_NAMES.map((f, i) => [f, 1 << i])) as Record<Field, number>;

/** Go's field lookup: exact name, else simple case folding (ASCII letters, K/KELVIN SIGN, s/LONG S). */
export function fieldFor(key: string): Field | undefined {
  const exact = EXACT.get(key);
  if (exact !== undefined) return exact;
  let folded = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) folded += String.fromCharCode(c + 32);
    else if (c === 0x212a) folded += 'k';
    else if (c === 0x017f) folded += 's';
    else if (c < 0x80) folded += key[i];
    else return undefined; // field names are ASCII: no other non-ASCII character folds onto them
  }
  return FOLDED.get(folded);
}

/** Sets one field from a non-null JSON value; returns a type problem when the original would fail. */
function assign(event: ChangeEvent, field: Field, value: JsonValue): string | undefined {
  switch (field) {
    case 'Host':
    case 'Database':
    case 'Table':
    case 'Action':
    case 'UUID': {
      if (typeof value !== 'string') return `cannot unmarshal ${jsonType(value)} into field ${field} of type string`;
      if (field === 'Host') event.host = value;
      else if (field === 'Database') event.database = value;
      else if (field === 'Table') event.table = value;
      else if (field === 'Action') event.action = value as Action;
      else event.uuid = value;
      return undefined;
    }
    case 'WALPosition': {
      const lsn = asUint(value, MAX_UINT64);
      if (lsn === undefined) return `cannot unmarshal ${numberText(value)} into field WALPosition of type uint64`;
      event.lsn = lsn;
      return undefined;
    }
    case 'Timestamp':
      if (typeof value !== 'string') return `Timestamp: cannot parse ${numberText(value)} as a JSON string`;
      if (!isRfc3339(value)) return `Timestamp: cannot parse ${JSON.stringify(value)} as RFC 3339`;
      event.timestamp = value;
      return undefined;
    case 'Columns':
      if (!isObject(value)) return `cannot unmarshal ${jsonType(value)} into field Columns of type map[string]interface {}`;
      event.columns = value;
      return undefined;
    // Our additions: taken when well typed, otherwise ignored as the original ignores them.
    case 'Schema':
      if (typeof value === 'string') event.schema = value;
      return undefined;
    case 'XID': {
      const xid = asUint(value, BigInt(MAX_UINT32));
      if (xid !== undefined) event.xid = Number(xid);
      return undefined;
    }
    case 'CommitLSN': {
      const lsn = asUint(value, MAX_UINT64);
      if (lsn !== undefined) event.commitLsn = lsn;
      return undefined;
    }
    case 'CommitTime':
      if (typeof value === 'string') event.commitTime = value;
      return undefined;
    case 'Old':
      if (isObject(value)) event.old = value;
      return undefined;
    case 'Key':
    case 'Unchanged':
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
        if (field === 'Key') event.key = value as string[];
        else event.unchanged = value as string[];
      }
      return undefined;
  }
}

/**
 * An integral JSON number in [0, max], else undefined. Go also rejects `1.0`, `1e3` and `-0`
 * (strconv.ParseUint syntax); they are accepted here, where a double cannot tell them from `1`,
 * `1000` and `0`: no psql-streamer writes them, and taking an event beats skipping it.
 */
function asUint(value: JsonValue, max: bigint): bigint | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) return undefined;
    const n = BigInt(value);
    return n <= max ? n : undefined;
  }
  if (typeof value === 'bigint') return value >= 0n && value <= max ? value : undefined;
  return undefined;
}

function isObject(value: JsonValue): value is Columns {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RawJson);
}

function jsonType(value: JsonValue): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof RawJson) return 'number';
  return Array.isArray(value) ? 'array' : 'object';
}

function numberText(value: JsonValue): string {
  if (value instanceof RawJson) return `number ${value.json}`;
  if (typeof value === 'number' || typeof value === 'bigint') return `number ${value}`;
  return jsonType(value);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * What Go's time.Time.UnmarshalJSON accepts: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, every
 * field in range (the day within its month). Hand-written: a regex cost 4× more per event.
 */
export function isRfc3339(t: string): boolean {
  const n = t.length;
  if (n < 20 || t.charCodeAt(4) !== 0x2d || t.charCodeAt(7) !== 0x2d || t.charCodeAt(10) !== 0x54 ||
      t.charCodeAt(13) !== 0x3a || t.charCodeAt(16) !== 0x3a) return false;
  const year = num(t, 0, 4);
  const month = num(t, 5, 2);
  const day = num(t, 8, 2);
  const hour = num(t, 11, 2);
  const minute = num(t, 14, 2);
  const second = num(t, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number))) return false;
  let i = 19;
  if (t.charCodeAt(i) === 0x2e) {
    i++;
    if (!isDigit(t.charCodeAt(i))) return false;
    while (isDigit(t.charCodeAt(i))) i++;
  }
  const zone = t.charCodeAt(i);
  if (zone === 0x5a) return i + 1 === n;
  if (zone !== 0x2b && zone !== 0x2d) return false;
  if (i + 6 !== n || t.charCodeAt(i + 3) !== 0x3a) return false;
  const zh = num(t, i + 1, 2);
  const zm = num(t, i + 4, 2);
  return zh >= 0 && zh <= 23 && zm >= 0 && zm <= 59;
}

/** The decimal number of `length` digits at `start`, or -1 when one is not a digit. */
function num(t: string, start: number, length: number): number {
  let v = 0;
  for (let i = start; i < start + length; i++) {
    const d = t.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** A parsed JSON value: ColumnValue, with numbers kept exact (bigint or RawJson where a double would not). */
export type JsonValue = ColumnValue;

/**
 * Strict JSON parser that keeps every number exact. Objects get own properties only (a `__proto__`
 * key is data, never the prototype).
 */
export class JsonParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  /**
   * The top-level value as the event decoder needs it: the object's members in order (duplicates
   * included), or null for a JSON `null`. Anything else is malformed.
   */
  document(): [string, JsonValue][] | null {
    this.skipSpace();
    const isObject = this.text.charCodeAt(this.pos) === 0x7b;
    const members = isObject ? this.members() : undefined;
    const value = isObject ? null : this.value();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('after top-level value');
    if (members !== undefined) return members;
    if (value === null) return null; // Go: `null` leaves the struct at its zero value
    throw new MalformedEventError(`Unable to unmarshal event: cannot unmarshal ${jsonType(value)} into an event object`);
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
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return members;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('looking for beginning of object key string');
      const key = this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail('after object key');
      this.pos++;
      this.skipSpace();
      members.push([key, this.value()]);
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return members;
      if (c !== 0x2c) this.fail('after object key:value pair', this.pos - 1);
      this.skipSpace();
    }
  }

  private object(): Columns {
    const out: Record<string, JsonValue> = {};
    this.pos++; // {
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('looking for beginning of object key string');
      const key = this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail('after object key');
      this.pos++;
      this.skipSpace();
      const value = this.value();
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.fail('after object key:value pair', this.pos - 1);
      this.skipSpace();
    }
  }

  private array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // [
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail('after array element', this.pos - 1);
      this.skipSpace();
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
    let integer = true;
    if (text.charCodeAt(i) === 0x2e) {
      integer = false;
      if (!isDigit(text.charCodeAt(i + 1))) this.fail('after decimal point in numeric literal', i + 1);
      i = this.digits(i + 1);
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) this.fail('in exponent of numeric literal', i);
      i = this.digits(i);
    }
    this.pos = i;
    const token = text.slice(start, i);
    const n = Number(token);
    if (Number.isSafeInteger(n) || (Number.isFinite(n) && !Number.isInteger(n))) return n;
    return integer ? BigInt(token) : new RawJson(token);
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
    if (at >= this.text.length) throw new MalformedEventError('Unable to unmarshal event: unexpected end of JSON input');
    const ch = this.text.codePointAt(at) as number;
    const shown = ch < 0x20 || ch === 0x27 || ch === 0x5c ? JSON.stringify(String.fromCodePoint(ch)).slice(1, -1) : String.fromCodePoint(ch);
    throw new MalformedEventError(`Unable to unmarshal event: invalid character '${shown}' ${context} (offset ${at})`);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
