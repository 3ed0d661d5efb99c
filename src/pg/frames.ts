/**
 * Splits the backend byte stream into messages. Every backend message is
 * `Byte1(type) Int32(length, counting itself) Byte[length - 4](payload)`
 * (https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS).
 *
 * Pure and pull-based: `push(chunk)` hands over a received chunk, `next()` exposes the following
 * complete message as `type`/`payload`, where `payload` is a view into the chunk (no copy). Only a
 * message split across chunks is copied, into an assembly buffer that grows by doubling, so a 100 MB
 * message arriving in 64 KB chunks costs about two copies, not a quadratic series. Because the caller pulls, stopping (for
 * back-pressure) simply means not calling `next()`: the rest of the chunk waits here.
 *
 * Buffers handed out are never written again, so a payload view stays intact; callers should still
 * treat it as valid only until they return, so this can change.
 */
import { readInt32BE } from '../core/bytes.ts';
import { ProtocolError } from './errors.ts';

/** Largest message length accepted: PostgreSQL itself caps a message at 1 GiB (MaxAllocSize). */
export const MAX_MESSAGE_LENGTH = 0x4000_0000;

/** Type byte plus int32 length. */
export const HEADER_SIZE = 5;

const EMPTY = new Uint8Array(0);

/** One backend message: its type byte and its payload (without the 5-byte header). */
export interface Frame {
  type: number;
  payload: Uint8Array;
}

/** Incremental frame splitter; see the module comment. */
export class FrameDecoder {
  /** Type byte of the message returned by the last successful `next()`. */
  type = 0;
  /** The buffer holding that message's payload, at [payloadStart, payloadEnd) (no view made: see `payload`). */
  chunk: Uint8Array = EMPTY;
  payloadStart = 0;
  payloadEnd = 0;

  /** Payload of that message as a view (made on each call), valid until the next call of `next()`. */
  get payload(): Uint8Array {
    return this.chunk.subarray(this.payloadStart, this.payloadEnd);
  }

  /** Buffer being read: a pushed chunk, or an assembly buffer of ours. */
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  private end = 0;
  /** Whether `buf` is an assembly buffer we allocated (and may write into). */
  private owned = false;
  /** Chunks pushed while `buf` still held unread bytes. */
  private readonly queue: Uint8Array[] = [];
  /** Bytes of the stream before `buf[pos]`, for error offsets. */
  private consumed = 0;

  /** Hands over a received chunk. The decoder keeps a reference; the caller must not modify it. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pos === this.end && this.queue.length === 0) {
      this.buf = chunk;
      this.pos = 0;
      this.end = chunk.length;
      this.owned = false;
    } else {
      this.queue.push(chunk);
    }
  }

  /**
   * Advances to the next complete message; false when more bytes are needed. Throws ProtocolError
   * on a length below 4 or above 1 GiB (the stream cannot be trusted after that).
   */
  next(): boolean {
    for (;;) {
      const buf = this.buf;
      const pos = this.pos;
      const available = this.end - pos;
      if (available >= HEADER_SIZE) {
        // Int32 length read with shifts: a DataView per chunk would cost more.
        const length = readInt32BE(buf, pos + 1);
        if (length < 4 || length > MAX_MESSAGE_LENGTH) {
          throw new ProtocolError(`message '${printable(buf[pos]!)}' has an invalid length ${length}`, this.consumed + 1);
        }
        const total = length + 1;
        if (available >= total) {
          this.type = buf[pos]!;
          this.chunk = buf;
          this.payloadStart = pos + HEADER_SIZE;
          this.payloadEnd = pos + total;
          this.pos = pos + total;
          this.consumed += total;
          return true;
        }
        if (!this.fill(total)) return false;
      } else if (!this.fill(HEADER_SIZE)) {
        return false;
      }
    }
  }

  /** Bytes received but not yet returned by `next()`. */
  get buffered(): number {
    let n = this.end - this.pos;
    for (const chunk of this.queue) n += chunk.length;
    return n;
  }

  /**
   * Moves queued bytes behind the unread rest of `buf` until it holds `need` bytes (or the queue is
   * empty). Returns false when nothing could be added.
   *
   * The assembly buffer grows by doubling up to `need`, sized by the bytes actually received, never
   * by the length a message claims: a corrupt or hostile length of 1 GiB costs no more memory than
   * the bytes that really arrive, and the copying stays linear.
   */
  private fill(need: number): boolean {
    if (this.queue.length === 0) return false;
    const available = this.end - this.pos;
    if (available === 0) {
      this.buf = this.queue.shift()!;
      this.pos = 0;
      this.end = this.buf.length;
      this.owned = false;
      return true;
    }
    let queued = 0;
    for (const chunk of this.queue) queued += chunk.length;
    const target = Math.min(need, available + queued);
    if (!this.owned || this.pos !== 0 || this.buf.length < target) {
      const capacity = this.owned && this.pos === 0 ? Math.min(need, Math.max(target, this.buf.length * 2)) : target;
      const assembled = new Uint8Array(capacity);
      assembled.set(this.buf.subarray(this.pos, this.end));
      this.buf = assembled;
      this.pos = 0;
      this.end = available;
      this.owned = true;
    }
    while (this.end < target) {
      const chunk = this.queue[0]!;
      const take = Math.min(chunk.length, target - this.end);
      this.buf.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.end);
      this.end += take;
      if (take === chunk.length) this.queue.shift();
      else this.queue[0] = chunk.subarray(take);
    }
    return true;
  }
}

function printable(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `0x${byte.toString(16).padStart(2, '0')}`;
}

/** Every complete message in `chunks` (copies of the payloads), plus the count of leftover bytes. */
export function splitFrames(chunks: Iterable<Uint8Array>): { frames: Frame[]; leftover: number } {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    while (decoder.next()) frames.push({ type: decoder.type, payload: decoder.payload.slice() });
  }
  return { frames, leftover: decoder.buffered };
}
