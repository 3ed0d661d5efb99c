/**
 * A bounds-checked cursor over one protocol message (big-endian, as every PostgreSQL integer).
 * Every read checks the remaining length first and throws ProtocolError with the offset, so a
 * truncated or hostile message can never read past its end or return garbage.
 */
import { ProtocolError } from './errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Reads integers, C strings and byte ranges from a Uint8Array, front to back. */
export class Reader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Current offset from the start of the message. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.data.length - this.pos;
  }

  private need(n: number, what: string): number {
    const at = this.pos;
    if (n > this.data.length - at) {
      throw new ProtocolError(`${what} needs ${n} bytes, ${this.data.length - at} left`, at);
    }
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.data[this.need(1, 'u8')]!;
  }

  i16(): number {
    return this.view.getInt16(this.need(2, 'int16'));
  }

  u16(): number {
    return this.view.getUint16(this.need(2, 'uint16'));
  }

  i32(): number {
    return this.view.getInt32(this.need(4, 'int32'));
  }

  u32(): number {
    return this.view.getUint32(this.need(4, 'uint32'));
  }

  /** Unsigned 64-bit integer (an LSN, a timestamp) as a bigint: no precision is lost. */
  u64(): bigint {
    return this.view.getBigUint64(this.need(8, 'uint64'));
  }

  /** Signed 64-bit integer as a bigint. */
  i64(): bigint {
    return this.view.getBigInt64(this.need(8, 'int64'));
  }

  /** A NUL-terminated UTF-8 string (the terminator is consumed, not returned). */
  cstring(): string {
    const start = this.pos;
    const end = this.data.indexOf(0, start);
    if (end < 0) throw new ProtocolError('string without a NUL terminator', start);
    this.pos = end + 1;
    return utf8.decode(this.data.subarray(start, end));
  }

  /** `n` bytes as a view into the message (no copy). */
  bytes(n: number): Uint8Array {
    if (n < 0) throw new ProtocolError(`negative length ${n}`, this.pos);
    const at = this.need(n, `${n}-byte field`);
    return this.data.subarray(at, at + n);
  }

  /** `n` bytes decoded as UTF-8. */
  string(n: number): string {
    return utf8.decode(this.bytes(n));
  }

  /** The rest of the message as a view. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** Throws unless every byte was read: a message longer than its format is as suspect as a short one. */
  end(what: string): void {
    if (this.pos !== this.data.length) {
      throw new ProtocolError(`${what}: ${this.data.length - this.pos} unexpected trailing bytes`, this.pos);
    }
  }
}
