/**
 * The byte rules of the PostgreSQL source's hot path (row-bytes.ts): one column value's pgoutput
 * text straight into its JSON, by the kind of its converter (text, integer, bool, timestamps, date,
 * json), or false when the general path must take the value; and that general path's JSON of a
 * converted value (valueJson). Pure functions over bytes.
 */
import type { ColumnValue } from '../../event/event.ts';
import { goJsonString, goJsonValue } from '../../event/go-json.ts';
import { utf8Bytes } from '../../core/bytes.ts';
import type { LineWriter } from '../../core/line-writer.ts';

// How a column's value becomes JSON: by the converter the registry hands out for its type (a
// domain gets its base type's converter, so it gets the same rule).
export const OTHER = 0;
export const TEXT = 1;
export const INTEGER = 2;
export const BOOL = 3;
export const TIMESTAMPTZ = 4;
export const TIMESTAMP = 5;
export const DATE = 6;
export const JSON_TEXT = 7;

const TRUE = utf8Bytes('true');
const FALSE = utf8Bytes('false');
const MIDNIGHT = utf8Bytes('T00:00:00Z"');

/** The JSON of a converted value, taking the text itself where it already is that JSON. */
export function valueJson(kind: number, text: string, value: ColumnValue): string {
  if (kind === TEXT) return goJsonString(text);
  if (kind === INTEGER && typeof value !== 'string' && isCanonicalInteger(text)) return text;
  return goJsonValue(value);
}

/** -?[0-9]+ as JSON writes it: no leading zero, no "-0". Only for text an integer converter accepted. */
function isCanonicalInteger(text: string): boolean {
  const negative = text.charCodeAt(0) === 45;
  return negative ? text.charCodeAt(1) !== 48 : text.charCodeAt(0) !== 48 || text.length === 1;
}

/** Byte rules: writes the value's JSON and returns true, or false when the general path must. */
export function writeValue(w: LineWriter, data: Uint8Array, start: number, end: number, kind: number): boolean {
  switch (kind) {
    case TEXT:
      return writeString(w, data, start, end);
    case INTEGER:
      if (!isIntegerJson(data, start, end)) return false;
      w.copy(data, start, end);
      return true;
    case BOOL:
      if (end - start !== 1) return false;
      if (data[start] === 0x74) w.bytes(TRUE);
      else if (data[start] === 0x66) w.bytes(FALSE);
      else return false;
      return true;
    case TIMESTAMPTZ:
    case TIMESTAMP:
      return writeTimestamp(w, data, start, end, kind === TIMESTAMPTZ);
    case DATE:
      if (end - start !== 10 || !isIsoDate(data, start)) return false;
      w.byte(34);
      w.copy(data, start, end);
      w.bytes(MIDNIGHT);
      return true;
    case JSON_TEXT:
      if (!isVerbatimJson(data, start, end)) return false;
      w.copy(data, start, end);
      return true;
    default:
      return false;
  }
}

// Go's escapes for ASCII. Bytes ≥ 0x80 take the general path. PLAIN[c] is 1 for a byte copied as
// is, 0 for one escaped (a flag table: one typed load per byte in the loop).
const ESCAPES: readonly Uint8Array[] = Array.from({ length: 128 }, (_, c) => {
  const replacement: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x3c: '\\u003c', 0x3e: '\\u003e', 0x26: '\\u0026' };
  if (replacement[c] !== undefined) return utf8Bytes(replacement[c]!);
  if (c < 0x20) return utf8Bytes('\\u00' + c.toString(16).padStart(2, '0'));
  return new Uint8Array(0);
});
const PLAIN = Uint8Array.from({ length: 256 }, (_, c) => (c < 0x80 && ESCAPES[c]!.length === 0 ? 1 : 0));

/** Text bytes escaped per piece: room for the worst case (every byte as \u00XX) is made a piece at a time. */
const STRING_PIECE = 16 * 1024;

/** A JSON string of ASCII text with Go's escapes; false on any byte ≥ 0x80 (UTF-8 checks, U+2028/9). */
function writeString(w: LineWriter, data: Uint8Array, start: number, end: number): boolean {
  w.byte(34);
  let i = start;
  do {
    const stop = Math.min(end, i + STRING_PIECE);
    w.ensure(6 * (stop - i) + 1);
    const buf = w.buf;
    let at = w.at;
    for (; i < stop; i++) {
      const c = data[i]!;
      if (PLAIN[c] === 1) {
        buf[at++] = c;
        continue;
      }
      if (c >= 0x80) return false;
      const escape = ESCAPES[c]!;
      for (let j = 0; j < escape.length; j++) buf[at++] = escape[j]!;
    }
    w.at = at;
  } while (i < end);
  w.byte(34);
  return true;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;

/** -?[0-9]+ without a leading zero (except "0") and not "-0": the text is its own JSON. */
function isIntegerJson(data: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (data[i] === 45) i++;
  if (i === end || end - i > 20) return false;
  if (data[i] === 48 && (end - i > 1 || i > start)) return false;
  for (; i < end; i++) if (!isDigit(data[i])) return false;
  return true;
}

/** "YYYY-MM-DD" at `at`. */
function isIsoDate(data: Uint8Array, at: number): boolean {
  return isDigit(data[at]) && isDigit(data[at + 1]) && isDigit(data[at + 2]) && isDigit(data[at + 3]) && data[at + 4] === 45 &&
    isDigit(data[at + 5]) && isDigit(data[at + 6]) && data[at + 7] === 45 && isDigit(data[at + 8]) && isDigit(data[at + 9]);
}

/**
 * What the UTC session nearly always sends — "YYYY-MM-DD HH:MM:SS[.ffffff]" plus "+00" when zoned —
 * as RFC 3339 with "Z" (the fast path of formatTimestamp in types/datetime.ts).
 */
function writeTimestamp(w: LineWriter, data: Uint8Array, start: number, end: number, zoned: boolean): boolean {
  const stop = zoned ? end - 3 : end;
  if (stop - start < 19 || !isIsoDate(data, start) || data[start + 10] !== 32 ||
      !isDigit(data[start + 11]) || !isDigit(data[start + 12]) || data[start + 13] !== 58 ||
      !isDigit(data[start + 14]) || !isDigit(data[start + 15]) || data[start + 16] !== 58 ||
      !isDigit(data[start + 17]) || !isDigit(data[start + 18])) {
    return false;
  }
  if (zoned && (data[stop] !== 43 || data[stop + 1] !== 48 || data[stop + 2] !== 48)) return false;
  if (stop - start > 19) {
    if (data[start + 19] !== 46 || stop - start === 20 || data[stop - 1] === 48) return false;
    for (let i = start + 20; i < stop; i++) if (!isDigit(data[i])) return false;
  }
  w.byte(34);
  w.copy(data, start, start + 10);
  w.byte(84); // 'T'
  w.copy(data, start + 11, stop);
  w.byte(90); // 'Z'
  w.byte(34);
  return true;
}

const isJsonSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * json/jsonb text that the converter keeps verbatim (types/text-forms.ts makeJson): ASCII, no line
 * breaks, and its ends look like JSON.
 */
function isVerbatimJson(data: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = data[i]!;
    if (c >= 0x80 || c === 10 || c === 13) return false;
  }
  let first = start;
  let last = end - 1;
  while (first <= last && isJsonSpace(data[first]!)) first++;
  while (last > first && isJsonSpace(data[last]!)) last--;
  if (first > last) return false;
  const open = data[first]!;
  const close = data[last]!;
  switch (open) {
    case 123: return close === 125 && last > first;
    case 91: return close === 93 && last > first;
    case 34: return close === 34 && last > first;
    case 116:
    case 102: return close === 101;
    case 110: return close === 108;
    default: return (open === 45 || isDigit(open)) && isDigit(close);
  }
}
