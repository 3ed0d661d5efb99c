/**
 * Builds frontend messages: a growable big-endian buffer with the int32 length back-patched when a
 * message is finished (https://www.postgresql.org/docs/current/protocol-message-formats.html:
 * the length counts itself but not the type byte).
 */
import { ProtocolError } from './errors.ts';

const utf8 = new TextEncoder();

/** Appends integers, strings and bytes; `begin(type)` … `end()` frames one message. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  /** Offset of the length field of the message being built, or -1. */
  private lengthAt = -1;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Reserves `n` bytes and returns their offset. Call it before touching buf/view: it may replace them. */
  private ensure(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.pos = at + n;
    return at;
  }

  /** Starts a message with a type byte; `type` undefined for the untyped startup-phase messages. */
  begin(type?: string): this {
    if (this.lengthAt >= 0) throw new Error('Writer.begin: previous message not ended');
    if (type !== undefined) this.u8(type.charCodeAt(0));
    this.lengthAt = this.ensure(4);
    return this;
  }

  /** Back-patches the length of the message started by `begin`. */
  end(): this {
    if (this.lengthAt < 0) throw new Error('Writer.end: no message begun');
    this.view.setInt32(this.lengthAt, this.pos - this.lengthAt);
    this.lengthAt = -1;
    return this;
  }

  u8(value: number): this {
    const at = this.ensure(1);
    this.buf[at] = value;
    return this;
  }

  i16(value: number): this {
    const at = this.ensure(2);
    this.view.setInt16(at, value);
    return this;
  }

  i32(value: number): this {
    const at = this.ensure(4);
    this.view.setInt32(at, value);
    return this;
  }

  u64(value: bigint): this {
    const at = this.ensure(8);
    this.view.setBigUint64(at, value);
    return this;
  }

  i64(value: bigint): this {
    const at = this.ensure(8);
    this.view.setBigInt64(at, value);
    return this;
  }

  /** UTF-8 text followed by NUL; a NUL inside would silently cut the string, so it is refused. */
  cstring(text: string): this {
    if (text.includes('\0')) throw new ProtocolError('a string sent to the server cannot contain a NUL character');
    return this.string(text).u8(0);
  }

  /** UTF-8 text without terminator. */
  string(text: string): this {
    const encoded = utf8.encode(text);
    return this.bytes(encoded);
  }

  bytes(data: Uint8Array): this {
    const at = this.ensure(data.length);
    this.buf.set(data, at);
    return this;
  }

  /** The bytes written so far (a copy-free view; the Writer must not be reused afterwards). */
  finish(): Uint8Array {
    if (this.lengthAt >= 0) throw new Error('Writer.finish: message not ended');
    return this.buf.subarray(0, this.pos);
  }
}
