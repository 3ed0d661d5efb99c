/**
 * Types whose value stays text but whose text needs a small fix so that it is lossless, valid
 * inside a JSON event, or compatible with the original: inet, bytea, json and jsonb.
 */
import { RawJson } from '../event/event.ts';
import type { Converter, Fail } from './converter.ts';

const BACKSLASH = 92;
const LOWER_X = 120;
const QUOTE = 34;

/**
 * inet: PostgreSQL's text with host bits kept (the original masked them to the network). A bare
 * address gets its full-length prefix, `/32` or `/128`, as the original always printed it, so
 * consumers that parse every value as CIDR keep working.
 */
export const inetText: Converter = (text) => {
  if (text.length === 0 || text.indexOf('/') !== -1) return text;
  return text.indexOf(':') === -1 ? text + '/32' : text + '/128';
};

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Bytes as bytea hex output (`\\x6162`): how a binary value is kept losslessly as text. */
export function byteaHex(bytes: Uint8Array): string {
  let out = '\\x';
  for (const byte of bytes) out += HEX_BYTE[byte];
  return out;
}

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55;
}

/**
 * Rewrites bytea `escape` output (`abc\\\001`) as `hex` output (`\x6162635c01`), or undefined when
 * the text is not valid escape output. Escape output is ASCII: printable bytes as themselves, a
 * backslash doubled, anything else as a three-digit octal escape.
 */
export function byteaEscapeToHex(text: string): string | undefined {
  let out = '\\x';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== BACKSLASH) {
      if (c < 0x20 || c > 0x7e) return undefined; // escape output prints only these unescaped
      out += HEX_BYTE[c];
    } else if (text.charCodeAt(i + 1) === BACKSLASH) {
      out += '5c';
      i++;
    } else {
      const a = text.charCodeAt(i + 1);
      const b = text.charCodeAt(i + 2);
      const d = text.charCodeAt(i + 3);
      if (!isOctal(a) || !isOctal(b) || !isOctal(d) || a > 51) return undefined; // max \377
      out += HEX_BYTE[(a - 48) * 64 + (b - 48) * 8 + (d - 48)];
      i += 3;
    }
  }
  return out;
}

/**
 * bytea: always PostgreSQL's hex form `\x0a1b…` (lossless ASCII; the original decoded the bytes
 * into a string and corrupted binary data). `escape` output is rewritten to hex.
 */
export function makeBytea(fail: Fail): Converter {
  return (text) => {
    if (text.charCodeAt(0) === BACKSLASH && text.charCodeAt(1) === LOWER_X) {
      return (text.length & 1) === 0 ? text : fail(text, 'odd number of hex digits in bytea');
    }
    return byteaEscapeToHex(text) ?? fail(text, 'not bytea hex or escape output');
  };
}

function isJsonSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Whether the first and last characters (around whitespace) can open and close one JSON value:
 * `{…}`, `[…]`, `"…"`, a number, true, false or null. Not a validation — PostgreSQL validated the
 * text on input — but it catches text that is not JSON at all or was cut short.
 */
function looksLikeJson(text: string): boolean {
  let first = 0;
  let last = text.length - 1;
  while (first <= last && isJsonSpace(text.charCodeAt(first))) first++;
  while (last > first && isJsonSpace(text.charCodeAt(last))) last--;
  if (first > last) return false;
  const open = text.charCodeAt(first);
  const close = text.charCodeAt(last);
  switch (open) {
    case 123: return close === 125 && last > first; // { }
    case 91: return close === 93 && last > first; // [ ]
    case QUOTE: return close === QUOTE && last > first;
    case 116: // true
    case 102: return close === 101; // false
    case 110: return close === 108; // null
    default: return (open === 45 || (open >= 48 && open <= 57)) && close >= 48 && close <= 57;
  }
}

/**
 * Removes the whitespace outside strings from JSON text. `json` keeps its input verbatim, line
 * breaks included, and a line break inside an event would break line-based sinks (JSON lines);
 * returns undefined when a string is left unterminated.
 */
export function compactJson(text: string): string | undefined {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
      if (i >= text.length) return undefined;
    } else if (isJsonSpace(c)) {
      out += text.slice(start, i);
      start = i + 1;
    }
  }
  return out + text.slice(start);
}

/**
 * json and jsonb: nested JSON, the server's text written verbatim (RawJson), so numbers such as
 * 1e1000 or 0.10000000000000000001 keep every digit. PostgreSQL validated the text on input; here
 * only its ends are checked (looksLikeJson), and json text with line breaks is compacted.
 */
export function makeJson(fail: Fail): Converter {
  return (text) => {
    if (!looksLikeJson(text)) return fail(text, 'not JSON');
    if (text.indexOf('\n') === -1 && text.indexOf('\r') === -1) return new RawJson(text);
    const compact = compactJson(text);
    return compact === undefined ? fail(text, 'unterminated JSON string') : new RawJson(compact);
  };
}
