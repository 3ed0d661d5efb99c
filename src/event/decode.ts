/**
 * Kafka message value → ChangeEvent, for events written by the original psql-streamer
 * (docs/compatibility.md) or by us (`encodePassthrough`). Pure. Follows what the original's `json.Unmarshal` into its Event struct
 * accepts, so the same messages are malformed for both:
 *
 * - strict JSON (RFC 8259; a BOM, trailing data or `NaN` are errors); the value must be an object;
 * - keys matched as Go matches struct fields: exactly, else case-insensitively (ASCII folding plus
 *   U+212A KELVIN SIGN ~ k and U+017F LONG S ~ s); the last duplicate wins; unknown keys ignored;
 * - `Host`, `Database`, `Table`, `Action`, `UUID` strings; `WALPosition` a JSON integer in uint64
 *   range (see asUint for the one leniency); `Timestamp` an RFC 3339 string; `Columns` an object;
 *   `null` leaves a field at its zero value; any other type is an error;
 * - an empty or missing `UUID` is malformed ("Malformed event: no UUID").
 *
 * Values are kept exactly (exact-json.ts): integers beyond 2^53 become bigint, fractions doubles as
 * in the original (Go float64), nested objects and arrays stay. `Timestamp` is kept as the received
 * text. Our own fields (`Schema`, `XID`, `CommitLSN`, `CommitTime`, `TxIndex`, `Old`, `Key`, `Unchanged`, `Snapshot`) are
 * read when present and well typed; the original ignores them, so a badly typed one is ignored too
 * rather than failing the event.
 */
import { RawJson, type Action, type ChangeEvent, type Columns } from './event.ts';
import { JsonParser, JsonSyntaxError, quoteInexactNumbers, restoreInexactNumbers, type JsonValue } from './exact-json.ts';

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

/**
 * Decodes the message values of one source. Three ways, fastest first:
 * 1. JSON.parse, when every number it reads is exact and no field is given twice;
 * 2. numbers a double cannot hold (integers beyond 2^53) quoted, JSON.parse, exact values put back;
 * 3. the strict exact parser: syntax errors (reported as Go reports them) and fields given twice
 *    under different spellings (applied in document order, as Go does).
 * After a value that needed (2), e.g. a table with snowflake ids, the next one starts there.
 */
export class EventDecoder {
  private quoteFirst = false;

  constructor(private readonly source: string) {}

  /** Decodes one message value. Throws MalformedEventError when the original would reject it. */
  decode(value: Uint8Array | string | null | undefined): ChangeEvent {
    const text = typeof value === 'string' ? value : value ? utf8.decode(value) : '';
    if (!this.quoteFirst) {
      const parsed = parseOrUndefined(text);
      if (!isObject(parsed)) return strictDecode(text, this.source);
      const event = fromParsed(parsed, this.source);
      if (event !== undefined) return event;
    }
    const quoted = quoteInexactNumbers(text);
    this.quoteFirst = quoted.values.length > 0;
    const parsed = parseOrUndefined(quoted.text);
    if (isObject(parsed)) {
      const event = fromParsed(restoreInexactNumbers(parsed, quoted) as Columns, this.source);
      if (event !== undefined) return event;
    }
    return strictDecode(text, this.source);
  }
}

/** Decodes one message value. Throws MalformedEventError when the original would reject it. */
export function decodeEvent(value: Uint8Array | string | null | undefined, source: string): ChangeEvent {
  return new EventDecoder(source).decode(value);
}

function parseOrUndefined(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

/** The strict parser's verdict: the event, or why the original would reject the value. */
function strictDecode(text: string, source: string): ChangeEvent {
  let document;
  try {
    document = new JsonParser(text).document();
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new MalformedEventError(`Unable to unmarshal event: ${err.message}`);
    throw err;
  }
  if ('value' in document) {
    // Go's Unmarshal of `null` leaves the struct empty: no UUID.
    if (document.value === null) throw new MalformedEventError('Malformed event: no UUID');
    throw new MalformedEventError(`Unable to unmarshal event: cannot unmarshal ${jsonType(document.value)} into an event object`);
  }
  const event = newEvent(source);
  let typeError: string | undefined;
  for (const [key, value] of document.members) {
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
  | 'Schema' | 'XID' | 'CommitLSN' | 'CommitTime' | 'TxIndex' | 'Old' | 'Key' | 'Unchanged' | 'Snapshot';

const FIELD_NAMES = ['Host', 'Database', 'Table', 'Action', 'WALPosition', 'Timestamp', 'UUID', 'Columns',
  'Schema', 'XID', 'CommitLSN', 'CommitTime', 'TxIndex', 'Old', 'Key', 'Unchanged', 'Snapshot'] as const;
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
    case 'XID':
    case 'TxIndex': {
      const n = asUint(value, field === 'XID' ? BigInt(MAX_UINT32) : BigInt(Number.MAX_SAFE_INTEGER));
      if (n !== undefined) {
        if (field === 'XID') event.xid = Number(n);
        else event.txIndex = Number(n);
      }
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
    case 'Snapshot':
      if (value === true) event.snapshot = true;
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

function isObject(value: JsonValue | undefined): value is Columns {
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


function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
