/**
 * TupleData, the column values inside Insert, Update and Delete: the hot path of the decoder.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 *
 * | Int16          | number of columns (generated columns are not sent)          |
 * | then per column one of:                                                      |
 * | Byte1('n')     | NULL                                                         |
 * | Byte1('u')     | unchanged TOASTed value (not sent)                           |
 * | Byte1('t')     | text format: Int32 length, Byten value (no terminator)      |
 * | Byte1('b')     | binary format: Int32 length, Byten value                    |
 */
import type { Cursor } from './cursor.ts';
import { UNCHANGED_TOAST, type TupleValue } from './messages.ts';
import { TextSlicer } from './text.ts';

/** Column kinds of a TupleData. */
export const KIND_NULL = 0x6e; // 'n'
export const KIND_UNCHANGED = 0x75; // 'u'
export const KIND_TEXT = 0x74; // 't'
export const KIND_BINARY = 0x62; // 'b'
/** Markers before a TupleData in Update and Delete: the new row, the old key, the old row. */
export const TUPLE_NEW = 0x4e; // 'N'
export const TUPLE_KEY = 0x4b; // 'K'
export const TUPLE_OLD = 0x4f; // 'O'

/** Reads one TupleData at the cursor; text values become strings, binary values copies. */
export function readTupleData(c: Cursor): TupleValue[] {
  const count = c.u16('tuple column count');
  // Every column takes at least its kind byte: refuse counts the message cannot hold.
  c.checkCount(count, 1, 'tuple column');
  const bytes = c.bytes;
  const values: TupleValue[] = [];
  let text: TextSlicer | undefined;
  for (let i = 0; i < count; i++) {
    const kind = c.u8('tuple column kind');
    if (kind === KIND_TEXT || kind === KIND_BINARY) {
      const length = c.i32('tuple value length');
      if (length < 0) c.fail(`negative length ${length} of column ${i}`, c.pos - 4);
      c.need(length, 'column value');
      const start = c.pos;
      c.pos = start + length;
      if (kind === KIND_TEXT) {
        text ??= new TextSlicer(bytes);
        values.push(text.text(start, start + length));
      } else {
        values.push(bytes.slice(start, start + length));
      }
    } else if (kind === KIND_NULL) {
      values.push(null);
    } else if (kind === KIND_UNCHANGED) {
      values.push(UNCHANGED_TOAST);
    } else {
      c.fail(`unknown kind 0x${kind.toString(16).padStart(2, '0')} of column ${i}`, c.pos - 1);
    }
  }
  return values;
}
