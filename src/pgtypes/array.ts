/**
 * Array literals (the output of array_out) → JSON arrays, for arrays of any element type:
 * `{1,2,NULL}`, quoted elements with backslash escapes `{"a,b","c\"d"}`, nested dimensions
 * `{{1,2},{3,4}}`, the lower-bound prefix `[0:1]={…}` (dropped: JSON arrays start at 0 anyway),
 * the element type's delimiter (';' for box), and `{}`. Each element goes through the element
 * type's converter; an unquoted NULL is null. See
 * https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO
 */
import type { ColumnValue } from '../event/event.ts';
import type { Converter, Fail } from './converter.ts';

const LEFT_BRACE = 123;
const RIGHT_BRACE = 125;
const LEFT_BRACKET = 91;
const QUOTE = 34;
const BACKSLASH = 92;
// PostgreSQL allows 6 dimensions (MAXDIM); a deeper literal is malformed, and the limit keeps
// the recursion far from the stack's end.
const MAX_DEPTH = 64;

// array_in's scanner_isspace: space, \t, \n, \r, \v, \f.
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function skipSpace(text: string, i: number): number {
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

// Unquoted NULL in any letter case is the null element; a quoted "NULL" is the text.
function isNullWord(s: string): boolean {
  return s.length === 4 &&
    (s.charCodeAt(0) | 32) === 110 && (s.charCodeAt(1) | 32) === 117 &&
    (s.charCodeAt(2) | 32) === 108 && (s.charCodeAt(3) | 32) === 108;
}

/** Parser state for one literal; per call, because an element converter may parse arrays itself. */
interface Cursor {
  readonly text: string;
  readonly delimiter: number;
  readonly element: Converter;
  i: number;
  depth: number;
}

/**
 * Parses an array literal with the given element delimiter (a character) and element converter;
 * returns undefined when the text is not an array literal.
 */
export function parseArrayLiteral(text: string, delimiter: string, element: Converter): ColumnValue[] | undefined {
  let i = 0;
  if (text.charCodeAt(0) === LEFT_BRACKET) {
    // Dimension decoration "[lo:hi][lo:hi]=" appears when a lower bound is not 1.
    i = text.indexOf('=');
    if (i < 0) return undefined;
    i++;
  }
  i = skipSpace(text, i);
  if (text.charCodeAt(i) !== LEFT_BRACE) return undefined;
  const cursor: Cursor = { text, delimiter: delimiter.charCodeAt(0), element, i, depth: 0 };
  const items = parseLevel(cursor);
  if (items === undefined || skipSpace(text, cursor.i) !== text.length) return undefined;
  return items;
}

/** Parses one brace level starting at '{'; leaves the cursor after its '}'. */
function parseLevel(cursor: Cursor): ColumnValue[] | undefined {
  const { text, delimiter, element } = cursor;
  const items: ColumnValue[] = [];
  let i = cursor.i + 1;
  if (isSpace(text.charCodeAt(i))) i = skipSpace(text, i);
  if (text.charCodeAt(i) === RIGHT_BRACE) {
    cursor.i = i + 1;
    return items;
  }
  for (;;) {
    let c = text.charCodeAt(i);
    if (isSpace(c)) c = text.charCodeAt((i = skipSpace(text, i)));
    if (c === LEFT_BRACE) {
      if (cursor.depth === MAX_DEPTH) return undefined;
      cursor.i = i;
      cursor.depth++;
      const inner = parseLevel(cursor);
      cursor.depth--;
      if (inner === undefined) return undefined;
      items.push(inner);
      i = cursor.i;
    } else if (c === QUOTE) {
      i = parseQuoted(cursor, i, items);
      if (i < 0) return undefined;
    } else {
      // Fast path: a plain element (what array_out prints unquoted) up to the delimiter or '}'.
      let j = i;
      while (c !== delimiter && c !== RIGHT_BRACE && c > 32 && c !== BACKSLASH && c !== QUOTE && c !== LEFT_BRACE) {
        c = text.charCodeAt(++j); // NaN at the end stops the loop
      }
      if (j > i && (c === delimiter || c === RIGHT_BRACE)) {
        const value = text.slice(i, j);
        items.push(isNullWord(value) ? null : element(value));
        i = j;
      } else {
        i = parseUnquoted(cursor, i, items); // escapes or whitespace
        if (i < 0) return undefined;
      }
    }
    let next = text.charCodeAt(i);
    if (isSpace(next)) next = text.charCodeAt((i = skipSpace(text, i)));
    if (next === delimiter) {
      i++;
    } else if (next === RIGHT_BRACE) {
      cursor.i = i + 1;
      return items;
    } else {
      return undefined;
    }
  }
}

/** Reads a quoted element starting at '"'; returns the index after the closing quote, or -1. */
function parseQuoted(cursor: Cursor, open: number, items: ColumnValue[]): number {
  const text = cursor.text;
  let value = '';
  let start = open + 1;
  let j = start;
  for (;;) {
    const c = text.charCodeAt(j);
    if (c !== c) return -1; // NaN: the text ended inside the quotes
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      // A backslash keeps the next character, whatever it is.
      value += text.slice(start, j);
      j++;
      start = j;
      if (j >= text.length) return -1;
    }
    j++;
  }
  value += text.slice(start, j);
  items.push(cursor.element(value));
  return j + 1;
}

/** Reads an unquoted element (NULL or a value); returns the index after it, or -1. */
function parseUnquoted(cursor: Cursor, from: number, items: ColumnValue[]): number {
  const { text, delimiter } = cursor;
  let value = '';
  let start = from;
  let escaped = false;
  let j = from;
  let lastNonSpace = from; // array_in ignores whitespace after an unquoted element
  for (;;) {
    const c = text.charCodeAt(j);
    if (c !== c || c === LEFT_BRACE || c === QUOTE) return -1;
    if (c === delimiter || c === RIGHT_BRACE) break;
    if (c === BACKSLASH) {
      value += text.slice(start, j);
      j++;
      start = j;
      escaped = true;
      if (j >= text.length) return -1;
      lastNonSpace = j + 1;
    } else if (!isSpace(c)) {
      lastNonSpace = j + 1;
    }
    j++;
  }
  if (lastNonSpace === from) return -1; // an empty unquoted element is a syntax error
  value += text.slice(start, Math.max(start, lastNonSpace));
  items.push(!escaped && isNullWord(value) ? null : cursor.element(value));
  return j;
}

/** Builds the converter of an array type from its element converter and the element delimiter. */
export function makeArray(element: Converter, delimiter: string, fail: Fail): Converter {
  return (text) => parseArrayLiteral(text, delimiter, element) ?? fail(text, 'not an array literal');
}
