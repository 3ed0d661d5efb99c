/**
 * Timestamps in the original's format: RFC 3339 with fractional seconds (trailing zeros trimmed,
 * as Go's RFC3339Nano) and the local zone offset, `Z` when the offset is zero.
 */

let cachedSecond = Number.NaN;
let cachedPrefix = '';
let cachedSuffix = '';

const pad2 = (n: number) => (n < 10 ? '0' + n : String(n));

function offsetSuffix(date: Date): string {
  const offsetMin = -date.getTimezoneOffset();
  if (offsetMin === 0) return 'Z';
  const sign = offsetMin > 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

function yearText(y: number): string {
  return y >= 0 ? String(y).padStart(4, '0') : '-' + String(-y).padStart(4, '0');
}

/** Caches the calendar part and zone suffix of `second` (epoch seconds). */
function cacheSecond(second: number): void {
  if (second === cachedSecond) return;
  // Formatting the calendar part costs more than the rest of an event; do it once per second.
  const d = new Date(second * 1000);
  cachedPrefix = `${yearText(d.getFullYear())}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  cachedSuffix = offsetSuffix(d);
  cachedSecond = second;
}

/**
 * Epoch microseconds as local RFC 3339 with up to 6 fractional digits, written as ASCII bytes at
 * `buf[at]`; returns the end. Needs room for 40 bytes. For hot paths that build bytes (no string
 * per event); formatLocalTimestamp is the same text as a string.
 */
export function writeLocalTimestamp(buf: Uint8Array, at: number, epochMicros: number): number {
  // The same instant as the last call (a snapshot chunk's rows share one): its bytes again.
  if (epochMicros === lastMicros) {
    for (let i = 0; i < lastLength; i++) buf[at++] = lastBytes[i]!;
    return at;
  }
  const start = at;
  const second = Math.floor(epochMicros / 1_000_000);
  cacheSecond(second);
  const prefix = cachedPrefix;
  for (let i = 0; i < prefix.length; i++) buf[at++] = prefix.charCodeAt(i);
  let micros = epochMicros - second * 1_000_000;
  if (micros > 0) {
    let digits = 6;
    while (micros % 10 === 0) {
      micros /= 10;
      digits--;
    }
    buf[at++] = 46; // '.'
    for (let i = digits - 1; i >= 0; i--) {
      buf[at + i] = 48 + (micros % 10);
      micros = Math.floor(micros / 10);
    }
    at += digits;
  }
  const suffix = cachedSuffix;
  for (let i = 0; i < suffix.length; i++) buf[at++] = suffix.charCodeAt(i);
  lastMicros = epochMicros;
  lastLength = at - start;
  for (let i = 0; i < lastLength; i++) lastBytes[i] = buf[start + i]!;
  return at;
}

let lastMicros = Number.NaN;
const lastBytes = new Uint8Array(40);
let lastLength = 0;

const scratch = new Uint8Array(40);
const ascii = new TextDecoder('latin1');

/** Formats epoch microseconds as local RFC 3339 with up to 6 fractional digits. */
export function formatLocalTimestamp(epochMicros: number): string {
  return ascii.decode(scratch.subarray(0, writeLocalTimestamp(scratch, 0, epochMicros)));
}

/** Current time in epoch microseconds (sub-millisecond from the monotonic clock). */
export function nowMicros(): number {
  return epochMicros(performance.now());
}

/** A performance.now() reading in epoch microseconds. */
export function epochMicros(performanceNow: number): number {
  return Math.floor((performance.timeOrigin + performanceNow) * 1000);
}

/** The processing timestamp of an event being built now (the original's `Timestamp`). */
export function processingTimestamp(): string {
  return formatLocalTimestamp(nowMicros());
}
