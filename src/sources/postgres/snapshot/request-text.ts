/**
 * The text of a snapshot request, checked before any SQL runs (docs/snapshots.md, "How a chunk is
 * read"): table names (`schema.table`, `table`, parts in double quotes when they hold a dot or a
 * quote) and the shape of a `where` condition (one self-contained expression: it cannot close the
 * parentheses it is put in, end the statement or comment out what follows). Pure.
 */
import { SnapshotRequestError } from './types.ts';

/** A table as an operator names it. */
export interface TableName {
  schema: string;
  name: string;
}

/**
 * Parses `schema.table` or `table` (schema `public`). A part is taken as written, case and all
 * (the names events carry, not SQL's case folding); a part in double quotes may hold anything,
 * with `""` for a quote: `"My Schema"."odd.table"`. Throws SnapshotRequestError 400 otherwise.
 */
export function parseTableName(text: string): TableName {
  const input = text.trim();
  const bad = (why: string) => new SnapshotRequestError(`table ${JSON.stringify(text)}: ${why}; write schema.table or table (schema public), and a part holding "." or '"' in double quotes ("My Schema"."odd.table", "" for a quote)`, 400);
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let part = '';
    if (input[i] === '"') {
      i++;
      for (;;) {
        if (i >= input.length) throw bad('unterminated quoted name');
        if (input[i] === '"') {
          if (input[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += input[i++];
      }
      if (i < input.length && input[i] !== '.') throw bad('text after a quoted name');
    } else {
      const end = input.indexOf('.', i);
      part = input.slice(i, end < 0 ? input.length : end);
      if (part.includes('"')) throw bad('a quote inside an unquoted name');
      i += part.length;
    }
    if (part === '') throw bad('empty name');
    parts.push(part);
    if (i >= input.length) break;
    i++; // the dot
    if (i >= input.length) throw bad('empty name');
  }
  if (parts.length > 2) throw bad('more than two parts');
  return parts.length === 1 ? { schema: 'public', name: parts[0]! } : { schema: parts[0]!, name: parts[1]! };
}

/** A name part as parseTableName reads it back: quoted only when it must be. */
function requestPart(part: string): string {
  return /[".]/.test(part) || part.trim() !== part ? '"' + part.replaceAll('"', '""') + '"' : part;
}

/** `schema.table` in the request syntax (what to ask for), e.g. in error messages. */
export function requestName(schema: string, name: string): string {
  return `${requestPart(schema)}.${requestPart(name)}`;
}

/**
 * Sets standard_conforming_strings on for the rest of the transaction (an expression, to go in a
 * SELECT): with it off, the server would read a backslash in '...' as an escape where
 * checkWhereShape does not, and a `where` could close its parentheses unseen.
 */
export const STANDARD_STRINGS = "set_config('standard_conforming_strings', 'on', true)";

const isIdentChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/**
 * Checks that `where` is one self-contained SQL expression: not blank, parentheses balanced (never
 * closing one it did not open), no `;`, no unterminated string, quoted name or comment. What is
 * inside strings ('...', E'...', $tag$...$tag$), quoted names and comments does not count. The
 * server checks the rest (validateWhere); it reads the condition with standard_conforming_strings
 * on (STANDARD_STRINGS), as this does. Throws SnapshotRequestError 400.
 */
export function checkWhereShape(where: string): void {
  const bad = (why: string) => new SnapshotRequestError(`where: ${why}`, 400);
  if (where.trim() === '') throw bad('empty condition; leave where out to read every row');
  let depth = 0;
  let i = 0;
  const n = where.length;
  while (i < n) {
    const c = where[i]!;
    if (c === "'") {
      const escapes = (where[i - 1] === 'E' || where[i - 1] === 'e') && !isIdentChar(where[i - 2]);
      i++;
      for (;;) {
        if (i >= n) throw bad('unterminated string');
        if (escapes && where[i] === '\\') {
          i += 2;
          continue;
        }
        if (where[i] === "'") {
          if (where[i + 1] === "'") {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      i++;
    } else if (c === '"') {
      const end = where.indexOf('"', i + 1);
      if (end < 0) throw bad('unterminated quoted name');
      i = end + 1; // a doubled quote is two quoted names back to back: the same for counting
    } else if (c === '$' && !isIdentChar(where[i - 1]) && /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.test(where.slice(i))) {
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(where.slice(i))![0];
      const end = where.indexOf(tag, i + tag.length);
      if (end < 0) throw bad(`unterminated ${tag}-quoted string`);
      i = end + tag.length;
    } else if (c === '-' && where[i + 1] === '-') {
      const end = where.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && where[i + 1] === '*') {
      let nesting = 1;
      i += 2;
      while (nesting > 0) {
        if (i >= n) throw bad('unterminated /* comment');
        if (where[i] === '/' && where[i + 1] === '*') {
          nesting++;
          i += 2;
        } else if (where[i] === '*' && where[i + 1] === '/') {
          nesting--;
          i += 2;
        } else i++;
      }
    } else {
      if (c === ';') throw bad('";" outside a string: give one condition, not statements');
      if (c === '(') depth++;
      if (c === ')' && --depth < 0) throw bad('")" without its "(": give one self-contained condition');
      i++;
    }
  }
  if (depth > 0) throw bad('"(" without its ")"');
}
