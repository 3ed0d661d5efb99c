/**
 * Column values in Debezium's PostgreSQL conventions (docs/debezium.md, "Types"), from our
 * converted values (src/pgtypes) and each column's type. Pure. JSON converter with schemas
 * disabled, Debezium's defaults: time.precision.mode=adaptive, interval.handling.mode=numeric,
 * binary.handling.mode=bytes (base64), hstore.handling.mode=json, and decimal.handling.mode as
 * configured. Types Debezium has no converter for keep our value (Debezium drops the column).
 */
import { RawJson, type ColumnType, type ColumnValue } from '../event.ts';
import { debeziumJson } from './json.ts';

export type { ColumnType } from '../event.ts';

/** `decimal.handling.mode`: numeric/money as a string, a double, or base64 of the unscaled value (precise). */
export type DecimalMode = 'precise' | 'string' | 'double';


/** A value of the envelope: plain JSON, with bigint for exact integers and RawJson for verbatim JSON. */
export type DbzValue = null | boolean | number | bigint | string | RawJson | readonly DbzValue[] | { readonly [key: string]: DbzValue };

/** The placeholder Debezium writes for an unchanged TOAST value (`unavailable.value.placeholder`). */
export const UNAVAILABLE_VALUE = '__debezium_unavailable_value';

/** pgjdbc's infinity timestamps, which Debezium passes through as MicroTimestamp values. */
const TIMESTAMP_INFINITY = 9223372036825200000n;
const TIMESTAMP_MINUS_INFINITY = -9223372036832400000n;
const DAY_MS = 86_400_000;

/** Scale of a numeric(p,s) column, or undefined for an unconstrained numeric. */
function numericScale(typeModifier: number): number | undefined {
  return typeModifier < 4 ? undefined : (typeModifier - 4) & 0xffff;
}

/** Two's complement big-endian bytes of an integer, minimal length (Java's BigInteger.toByteArray), as base64. */
export function unscaledBase64(n: bigint): string {
  let width = 1;
  while (n < -(1n << BigInt(8 * width - 1)) || n >= 1n << BigInt(8 * width - 1)) width++;
  let v = n < 0n ? (1n << BigInt(8 * width)) + n : n;
  const out = Buffer.alloc(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out.toString('base64');
}

/** A decimal's digits as unscaled integer and scale ("-1.50" → -150n, 2). */
function unscaled(text: string): { value: bigint; scale: number } {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const dot = body.indexOf('.');
  const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1);
  const value = BigInt(digits === '' ? '0' : digits);
  return { value: negative ? -value : value, scale: dot < 0 ? 0 : body.length - dot - 1 };
}

/** numeric (and money, scale 2) per decimal.handling.mode. */
export function decimalValue(text: string, mode: DecimalMode, typeModifier: number, fixedScale?: number): DbzValue {
  const special = text === 'NaN' || text === 'Infinity' || text === '-Infinity';
  if (mode === 'string') {
    if (!special) return text;
    return text === 'NaN' ? 'NAN' : text === 'Infinity' ? 'POSITIVE_INFINITY' : 'NEGATIVE_INFINITY';
  }
  if (mode === 'double') return special ? text : Number(text);
  if (special) return null;
  const scale = fixedScale ?? numericScale(typeModifier);
  const { value, scale: textScale } = unscaled(text);
  if (scale !== undefined) return unscaledBase64(value * 10n ** BigInt(Math.max(0, scale - textScale)) / 10n ** BigInt(Math.max(0, textScale - scale)));
  // Unconstrained numeric: VariableScaleDecimal {scale, value}, trailing fraction zeros stripped.
  let v = value;
  let s = textScale;
  while (s > 0 && v % 10n === 0n) {
    v /= 10n;
    s--;
  }
  return { scale: s, value: unscaledBase64(v) };
}

/** money text ("$1,234.56", "-$12.50") as a plain decimal ("1234.56"). */
function moneyDecimal(text: string): string {
  return text.replace(/[^0-9.-]/g, '');
}

/** RFC 3339 text of ours ("2020-01-02T03:04:05.1Z", "-0043-...") → epoch milliseconds and the microseconds below them. */
function parseUtc(text: string): { ms: number; micros: number } {
  const m = /^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z$/.exec(text);
  if (m === null) throw new Error(`not a UTC timestamp: ${text}`);
  const fraction = (m[7] ?? '').padEnd(6, '0');
  const date = new Date(0);
  date.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  date.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
  return { ms: date.getTime(), micros: Number(fraction) };
}

/** date → days since the epoch (io.debezium.time.Date); ±infinity as the int32 extremes. */
function dateValue(text: string): DbzValue {
  if (text === 'infinity') return 2147483647;
  if (text === '-infinity') return -2147483648;
  return Math.floor(parseUtc(text).ms / DAY_MS);
}

/** timestamp → microseconds since the epoch (io.debezium.time.MicroTimestamp). */
function timestampValue(text: string): DbzValue {
  if (text === 'infinity') return TIMESTAMP_INFINITY;
  if (text === '-infinity') return TIMESTAMP_MINUS_INFINITY;
  const { ms, micros } = parseUtc(text);
  return BigInt(ms) * 1000n + BigInt(micros);
}

/** timestamptz → ISO-8601 UTC with six fraction digits (io.debezium.time.ZonedTimestamp). */
function zonedTimestampValue(text: string): DbzValue {
  if (text === 'infinity' || text === '-infinity') return text;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(text);
  return m === null ? text : `${m[1]}.${(m[2] ?? '').padEnd(6, '0')}Z`;
}

/** time → microseconds since midnight (io.debezium.time.MicroTime). */
function timeValue(text: string): DbzValue {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(text);
  if (m === null) return text;
  return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1_000_000 + Number((m[4] ?? '').padEnd(6, '0'));
}

/** timetz → the time in UTC, ISO-8601 with "Z" (io.debezium.time.ZonedTime). */
function zonedTimeValue(text: string): DbzValue {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(text);
  if (m === null) return text;
  const offset = (m[5] === '-' ? -1 : 1) * (Number(m[6]) * 3600 + Number(m[7] ?? 0) * 60 + Number(m[8] ?? 0));
  const seconds = (((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) - offset) % 86400) + 86400) % 86400;
  const pad = (n: number) => String(n).padStart(2, '0');
  const fraction = (m[4] ?? '').replace(/0+$/, '');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}${fraction ? '.' + fraction : ''}Z`;
}

const INTERVAL_UNITS: Record<string, number> = {
  // Debezium's MicroDuration: a month is 365.25 / 12 days.
  year: 365.25 * 86400e6, years: 365.25 * 86400e6, mon: 30.4375 * 86400e6, mons: 30.4375 * 86400e6,
  day: 86400e6, days: 86400e6,
};

/** interval (IntervalStyle postgres) → microseconds (io.debezium.time.MicroDuration). */
function intervalValue(text: string): DbzValue {
  let micros = 0;
  const re = /([+-]?\d+) (years?|mons?|days?)|([+-]?)(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?/g;
  let matched = '';
  for (const m of text.matchAll(re)) {
    matched += m[0];
    if (m[1] !== undefined) micros += Number(m[1]) * INTERVAL_UNITS[m[2]!]!;
    else {
      const sign = m[3] === '-' ? -1 : 1;
      micros += sign * ((Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6])) * 1e6 + Number((m[7] ?? '').padEnd(6, '0')));
    }
  }
  return matched.replace(/\s/g, '') === text.replace(/\s/g, '') ? Math.round(micros) : text;
}

/** bytea text ("\x00ff") → base64. */
function byteaValue(text: string): DbzValue {
  return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex').toString('base64') : text;
}

/** bit(n)/varbit: bit(1) a boolean, else the bits as a little-endian integer's bytes (Java BitSet.toByteArray), base64. */
function bitsValue(text: string, typeModifier: number, varying: boolean): DbzValue {
  if (!varying && typeModifier === 1) return text === '1';
  let v = BigInt('0b' + (text === '' ? '0' : text));
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.from(bytes).toString('base64');
}

/** point "(x,y)" → io.debezium.data.geometry.Point {x, y, wkb, srid}. */
function pointValue(text: string): DbzValue {
  const m = /^\(([^,]+),([^)]+)\)$/.exec(text);
  if (m === null) return text;
  const x = Number(m[1]);
  const y = Number(m[2]);
  const wkb = Buffer.alloc(21);
  wkb[0] = 1;
  wkb.writeUInt32LE(1, 1);
  wkb.writeDoubleLE(x, 5);
  wkb.writeDoubleLE(y, 13);
  return { x, y, wkb: wkb.toString('base64'), srid: null };
}

/** inet: PostgreSQL's own text, which leaves out a host's /32 (/128); ours always writes the prefix. */
function inetValue(text: string): DbzValue {
  return text.replace(/\/32$/, (s) => (text.includes(':') ? s : '')).replace(/\/128$/, '');
}

/** hstore text ("a"=>"1", "b"=>NULL) → a JSON object as text (hstore.handling.mode=json). */
export function hstoreValue(text: string): DbzValue {
  const out: Record<string, string | null> = {};
  const re = /"((?:[^"\\]|\\.)*)"\s*=>\s*(?:"((?:[^"\\]|\\.)*)"|(NULL))/g;
  const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
  for (const m of text.matchAll(re)) out[unescape(m[1]!)] = m[3] !== undefined ? null : unescape(m[2]!);
  return JSON.stringify(out);
}

/** One scalar of a column (or array element) of the given type. */
function scalar(value: ColumnValue, type: ColumnType, mode: DecimalMode): DbzValue {
  if (value === null) return null;
  if (value instanceof RawJson) return value.json; // json, jsonb: the JSON text as a string
  if (typeof value !== 'string') return value as DbzValue;
  switch (type.name) {
    case 'numeric': return decimalValue(value, mode, type.typeModifier);
    case 'money': return decimalValue(moneyDecimal(value), mode, -1, 2);
    case 'date': return dateValue(value);
    case 'timestamp': return timestampValue(value);
    case 'timestamptz': return zonedTimestampValue(value);
    case 'time': return timeValue(value);
    case 'timetz': return zonedTimeValue(value);
    case 'interval': return intervalValue(value);
    case 'bytea': return byteaValue(value);
    case 'bit': return bitsValue(value, type.typeModifier, false);
    case 'varbit': return bitsValue(value, type.typeModifier, true);
    case 'point': return pointValue(value);
    case 'inet': return inetValue(value);
    case 'hstore': return hstoreValue(value);
    default: return value;
  }
}

/**
 * A value of unknown type (an event without column types, e.g. relayed from Kafka): JSON (RawJson,
 * or an object, which only json/jsonb become) as its text, like Debezium's json; the rest as it is.
 */
function untyped(value: ColumnValue): DbzValue {
  if (value instanceof RawJson) return value.json;
  if (Array.isArray(value)) return value.map(untyped);
  if (value !== null && typeof value === 'object') return debeziumJson(value as DbzValue);
  return value as DbzValue;
}

/** A column's value in Debezium's conventions. */
export function debeziumValue(value: ColumnValue, type: ColumnType | undefined, mode: DecimalMode): DbzValue {
  if (type === undefined) return untyped(value);
  if (type.array && Array.isArray(value)) return value.map((v) => (Array.isArray(v) ? debeziumValue(v, type, mode) : scalar(v, type, mode)));
  return scalar(value, type, mode);
}
