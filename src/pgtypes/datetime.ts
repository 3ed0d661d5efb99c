/**
 * date, timestamp and timestamptz: PostgreSQL's ISO output (DateStyle=ISO) rewritten as RFC 3339,
 * the form the original produced through Go's time.Time (`2020-01-02T03:04:05.123456Z`, fraction
 * without trailing zeros). What Go could not represent is kept instead of dropped:
 * `infinity`/`-infinity` stay those strings, BC dates use the astronomical year (44 BC → `-0043`),
 * years after 9999 keep all their digits. Text in another DateStyle is reported and kept as is.
 */
import type { Converter, Fail } from './converter.ts';

const SPACE = 32;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const COLON = 58;
const UPPER_B = 66;
const UPPER_C = 67;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= ZERO + 9;
}

function twoDigits(text: string, at: number): boolean {
  return isDigit(text.charCodeAt(at)) && isDigit(text.charCodeAt(at + 1));
}

function twoDigitValue(text: string, at: number): number {
  return (text.charCodeAt(at) - ZERO) * 10 + text.charCodeAt(at + 1) - ZERO;
}

/** Formats an astronomical year as Go does: at least four digits, '-' before negative ones. */
function formatYear(year: number): string {
  const digits = String(Math.abs(year)).padStart(4, '0');
  return year < 0 ? '-' + digits : digits;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** True when the text ends with " BC" (PostgreSQL's era suffix). */
function isBC(text: string): boolean {
  const n = text.length;
  return n > 3 && text.charCodeAt(n - 1) === UPPER_C && text.charCodeAt(n - 2) === UPPER_B && text.charCodeAt(n - 3) === SPACE;
}

/**
 * Index just past "YYYY-MM-DD" (a year of four or more digits) starting at 0, or -1.
 * `yearEnd` receives the index of the first '-'.
 */
function scanDate(text: string, end: number, out: { yearEnd: number }): number {
  let i = 0;
  while (i < end && isDigit(text.charCodeAt(i))) i++;
  if (i < 4) return -1;
  out.yearEnd = i;
  if (text.charCodeAt(i) !== MINUS || !twoDigits(text, i + 1) || text.charCodeAt(i + 3) !== MINUS || !twoDigits(text, i + 4)) {
    return -1;
  }
  return i + 6;
}

/** The date part "YYYY-MM-DD" of the output, with a BC year turned astronomical. */
function datePart(text: string, yearEnd: number, dateEnd: number, bc: boolean): string {
  if (!bc) return text.slice(0, dateEnd);
  return formatYear(1 - Number(text.slice(0, yearEnd))) + text.slice(yearEnd, dateEnd);
}

const scratch = { yearEnd: 0 };

/** Formats date output as RFC 3339 midnight UTC, or undefined when it is not ISO date output. */
export function formatDate(text: string): string | undefined {
  // Fast path: "2020-01-02".
  if (text.length === 10 && text.charCodeAt(4) === MINUS && text.charCodeAt(7) === MINUS &&
      twoDigits(text, 0) && twoDigits(text, 2) && twoDigits(text, 5) && twoDigits(text, 8)) {
    return text + 'T00:00:00Z';
  }
  if (text === 'infinity' || text === '-infinity') return text;
  const bc = isBC(text);
  const end = bc ? text.length - 3 : text.length;
  const dateEnd = scanDate(text, end, scratch);
  if (dateEnd !== end) return undefined;
  return datePart(text, scratch.yearEnd, dateEnd, bc) + 'T00:00:00Z';
}

/**
 * Formats timestamp (zoned = false) or timestamptz (zoned = true) output as RFC 3339, or returns
 * undefined when it is not ISO output.
 */
export function formatTimestamp(text: string, zoned: boolean): string | undefined {
  return formatCommonTimestamp(text, zoned) ?? formatAnyTimestamp(text, zoned);
}

/**
 * Fast path for what the streamer's session (TimeZone=UTC) sends nearly always:
 * "YYYY-MM-DD HH:MM:SS[.ffffff]" plus "+00" when zoned. Anything else: undefined.
 */
function formatCommonTimestamp(text: string, zoned: boolean): string | undefined {
  const length = text.length;
  const end = zoned ? length - 3 : length;
  if (end < 19 || text.charCodeAt(4) !== MINUS || text.charCodeAt(7) !== MINUS || text.charCodeAt(10) !== SPACE ||
      text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON ||
      !twoDigits(text, 0) || !twoDigits(text, 2) || !twoDigits(text, 5) || !twoDigits(text, 8) ||
      !twoDigits(text, 11) || !twoDigits(text, 14) || !twoDigits(text, 17)) {
    return undefined;
  }
  if (zoned && (text.charCodeAt(end) !== PLUS || text.charCodeAt(end + 1) !== ZERO || text.charCodeAt(end + 2) !== ZERO)) {
    return undefined;
  }
  if (end > 19) {
    // A fraction without trailing zeros (PostgreSQL never prints them; the general path trims).
    if (text.charCodeAt(19) !== DOT || end === 20 || text.charCodeAt(end - 1) === ZERO) return undefined;
    for (let i = 20; i < end; i++) if (!isDigit(text.charCodeAt(i))) return undefined;
  }
  return text.slice(0, 10) + 'T' + text.slice(11, end) + 'Z';
}

function formatAnyTimestamp(text: string, zoned: boolean): string | undefined {
  if (text === 'infinity' || text === '-infinity') return text;
  const bc = isBC(text);
  const end = bc ? text.length - 3 : text.length;
  const dateEnd = scanDate(text, end, scratch);
  if (dateEnd < 0) return undefined;
  const yearEnd = scratch.yearEnd;
  // " HH:MM:SS"
  const t = dateEnd + 1;
  if (text.charCodeAt(dateEnd) !== SPACE || !twoDigits(text, t) || text.charCodeAt(t + 2) !== COLON ||
      !twoDigits(text, t + 3) || text.charCodeAt(t + 5) !== COLON || !twoDigits(text, t + 6)) {
    return undefined;
  }
  const secondsEnd = t + 8;
  let fractionEnd = secondsEnd;
  if (text.charCodeAt(secondsEnd) === DOT) {
    fractionEnd++;
    while (fractionEnd < end && isDigit(text.charCodeAt(fractionEnd))) fractionEnd++;
    if (fractionEnd === secondsEnd + 1) return undefined;
  }
  // Go's RFC3339Nano drops trailing zeros of the fraction, and the dot when nothing is left.
  let keep = fractionEnd;
  while (keep > secondsEnd + 1 && text.charCodeAt(keep - 1) === ZERO) keep--;
  if (keep === secondsEnd + 1) keep = secondsEnd;

  let zone = 'Z';
  if (zoned && end - fractionEnd === 3) {
    // Fast path, no allocation: "+HH" (TimeZone=UTC sends "+00").
    const sign = text.charCodeAt(fractionEnd);
    if ((sign !== PLUS && sign !== MINUS) || !twoDigits(text, fractionEnd + 1)) return undefined;
    if (twoDigitValue(text, fractionEnd + 1) !== 0) zone = text.slice(fractionEnd, end) + ':00';
  } else if (zoned) {
    const offset = parseOffset(text, fractionEnd, end);
    if (offset === undefined) return undefined;
    if (offset.seconds !== 0) return shiftToUtc(text, yearEnd, bc, t, secondsEnd, keep, offset.total);
    zone = offset.total === 0 ? 'Z' : offset.text;
  } else if (fractionEnd !== end) {
    return undefined;
  }
  return datePart(text, yearEnd, dateEnd, bc) + 'T' + text.slice(t, keep) + zone;
}

interface Offset {
  /** RFC 3339 form "+HH:MM". */
  text: string;
  /** The seconds part (PostgreSQL prints it for historical local mean time offsets). */
  seconds: number;
  /** The whole offset in seconds, signed. */
  total: number;
}

/** Parses "+HH", "+HH:MM" or "+HH:MM:SS" spanning exactly [from, end). */
function parseOffset(text: string, from: number, end: number): Offset | undefined {
  const sign = text.charCodeAt(from);
  if ((sign !== PLUS && sign !== MINUS) || !twoDigits(text, from + 1)) return undefined;
  const hours = twoDigitValue(text, from + 1);
  let minutes = 0;
  let seconds = 0;
  let i = from + 3;
  if (i < end) {
    if (text.charCodeAt(i) !== COLON || !twoDigits(text, i + 1)) return undefined;
    minutes = twoDigitValue(text, i + 1);
    i += 3;
    if (i < end) {
      if (text.charCodeAt(i) !== COLON || !twoDigits(text, i + 1)) return undefined;
      seconds = twoDigitValue(text, i + 1);
      i += 3;
    }
  }
  if (i !== end) return undefined;
  const total = (sign === MINUS ? -1 : 1) * (hours * 3600 + minutes * 60 + seconds);
  return { text: text.slice(from, from + 3) + ':' + pad2(minutes), seconds, total };
}

/**
 * RFC 3339 cannot carry an offset with seconds (Go silently truncates it, changing the instant),
 * so such a value is converted to UTC. The fraction is unaffected: offsets are whole seconds.
 */
function shiftToUtc(text: string, yearEnd: number, bc: boolean, t: number, secondsEnd: number, keep: number,
  offsetSeconds: number): string | undefined {
  const year = Number(text.slice(0, yearEnd));
  const date = new Date(0);
  date.setUTCFullYear(bc ? 1 - year : year, twoDigitValue(text, yearEnd + 1) - 1, twoDigitValue(text, yearEnd + 4));
  date.setUTCHours(twoDigitValue(text, t), twoDigitValue(text, t + 3), twoDigitValue(text, t + 6) - offsetSeconds);
  if (Number.isNaN(date.getTime())) return undefined; // beyond the range of Date (±275760 years)
  return formatYear(date.getUTCFullYear()) + '-' + pad2(date.getUTCMonth() + 1) + '-' + pad2(date.getUTCDate()) +
    'T' + pad2(date.getUTCHours()) + ':' + pad2(date.getUTCMinutes()) + ':' + pad2(date.getUTCSeconds()) +
    text.slice(secondsEnd, keep) + 'Z';
}

/** date → "2020-01-02T00:00:00Z". */
export function makeDate(fail: Fail): Converter {
  return (text) => formatDate(text) ?? fail(text, 'not an ISO date (DateStyle ISO expected)');
}

/** timestamp (without time zone) → "2020-01-02T03:04:05.123456Z" (read as UTC, as the original did). */
export function makeTimestamp(fail: Fail): Converter {
  return (text) => formatTimestamp(text, false) ?? fail(text, 'not an ISO timestamp (DateStyle ISO expected)');
}

/** timestamptz → RFC 3339 with the server's offset ("Z" for UTC, "+05:30", "+02" → "+02:00"). */
export function makeTimestamptz(fail: Fail): Converter {
  return (text) => formatTimestamp(text, true) ?? fail(text, 'not an ISO timestamptz (DateStyle ISO expected)');
}
