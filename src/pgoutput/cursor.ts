/**
 * A bounds-checked reader over one pgoutput message. Every read checks the remaining length first
 * and throws PgoutputDecodeError (never a RangeError or a silent `undefined`), so truncated or
 * corrupt input can only ever produce that one error type. Integers are big-endian (network order).
 */
import { readInt32BE } from '../core/bytes.ts';
import { PgoutputDecodeError } from './errors.ts';
import { utf8Slice } from './text.ts';

export class Cursor {
  /** Offset of the next byte to read. */
  pos: number;
  private view: DataView | undefined;

  constructor(
    readonly bytes: Uint8Array,
    /** The message type as a character, for error messages. */
    readonly messageType: string,
    start = 0,
  ) {
    this.pos = start;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Throws a PgoutputDecodeError at the current (or given) offset. */
  fail(message: string, offset = this.pos): never {
    throw new PgoutputDecodeError(`pgoutput '${this.messageType}' message at byte ${offset}: ${message}`, {
      offset,
      messageType: this.messageType,
    });
  }

  /** Ensures `n` more bytes exist; `what` names the field in the error. */
  need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) {
      this.fail(`truncated ${what}: needs ${n} bytes, ${this.bytes.length - this.pos} left`);
    }
  }

  /** Byte1 / Int8, unsigned. */
  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++] as number;
  }

  /** Int16, unsigned (counts). */
  u16(what: string): number {
    this.need(2, what);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 2;
    return ((b[p] as number) << 8) | (b[p + 1] as number);
  }

  /** Int32, signed (lengths, type modifiers). */
  i32(what: string): number {
    this.need(4, what);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return readInt32BE(b, p);
  }

  /** Int32, unsigned (OIDs, transaction ids). */
  u32(what: string): number {
    return this.i32(what) >>> 0;
  }

  /** Int64, unsigned (LSNs). */
  u64(what: string): bigint {
    this.need(8, what);
    const value = this.dataView().getBigUint64(this.pos);
    this.pos += 8;
    return value;
  }

  /** Int64, signed (timestamps: µs since 2000-01-01). */
  i64(what: string): bigint {
    this.need(8, what);
    const value = this.dataView().getBigInt64(this.pos);
    this.pos += 8;
    return value;
  }

  /** String: UTF-8 up to a zero byte, which is consumed. */
  cstring(what: string): string {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0) this.fail(`unterminated ${what}: no zero byte before the end of the message`);
    const text = utf8Slice(this.bytes, this.pos, end);
    this.pos = end + 1;
    return text;
  }

  /** Byten: a copy of the next `n` bytes (the message buffer is reused after decoding). */
  copy(n: number, what: string): Uint8Array {
    if (n < 0) this.fail(`negative length ${n} of ${what}`);
    this.need(n, what);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Ensures a count of items of at least `minBytes` each can fit before allocating for it. */
  checkCount(count: number, minBytes: number, what: string): void {
    if (count < 0) this.fail(`negative ${what} count ${count}`);
    if (count * minBytes > this.bytes.length - this.pos) {
      this.fail(`${what} count ${count} does not fit in the ${this.bytes.length - this.pos} bytes left`);
    }
  }

  private dataView(): DataView {
    // Created lazily: inserts and updates read no 64-bit fields.
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.view;
  }
}

/**
 * Int32 xid of the transaction, present in data messages (Relation, Type, Insert, Update, Delete,
 * Truncate, Message) only inside a streamed transaction (protocol 2+).
 */
export function readStreamXid(c: Cursor, streamed: boolean): number | undefined {
  return streamed ? c.u32('xid') : undefined;
}
