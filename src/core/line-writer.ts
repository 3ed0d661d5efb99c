/**
 * LineWriter: builds short byte strings (event JSON lines) one after another in large shared
 * chunks, so a line costs a view into a chunk instead of an allocation of its own. A chunk is freed
 * once no line cut from it is referenced any more; nothing is ever written twice, so a line handed
 * out stays intact.
 *
 * Usage per line: `ensure(n)` before writing at most n bytes, the write methods, then `finish()`
 * (the line as a view). Offsets given to and returned by `offset` are relative to the start of the
 * line being written; a caller drops what it wrote since an offset by setting `at` back.
 */

import { copyBytes, writeDigits } from './bytes.ts';

/**
 * A chunk stays alive while any line cut from it does (an event not yet delivered): 64 KiB pins
 * less than 256 KiB did (peak RSS a few MB lower, near the runs' noise; CPU unchanged;
 * docs/benchmarks.md).
 */
const DEFAULT_CHUNK = 64 * 1024;
const utf8 = new TextEncoder();

export class LineWriter {
  buf: Uint8Array;
  /** Next byte to write. */
  at = 0;
  /** Start of the line being written. */
  private lineStart = 0;

  constructor(private readonly chunkSize = DEFAULT_CHUNK) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /** Bytes written to the current line so far. */
  get offset(): number {
    return this.at - this.lineStart;
  }

  /** Makes room for n more bytes; moves the line begun so far into a new chunk when this one is full. */
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const partial = this.at - this.lineStart;
    // Not zeroed: every byte handed out was written first (and fresh zeroed pages cost page faults).
    const next = Buffer.allocUnsafe(Math.max(this.chunkSize, 2 * (partial + n)));
    next.set(this.buf.subarray(this.lineStart, this.at));
    this.buf = next;
    this.lineStart = 0;
    this.at = partial;
  }

  /** The line written since the last finish, as a view; the next line starts after it. */
  finish(): Uint8Array {
    const line = this.buf.subarray(this.lineStart, this.at);
    this.lineStart = this.at;
    return line;
  }

  /** Ends the line like finish() without making a view: it is `buf[at - offset, at)` as read just before. */
  finishInPlace(): void {
    this.lineStart = this.at;
  }

  byte(b: number): void {
    this.buf[this.at++] = b;
  }

  /** Copies all of src (constants: keys, heads). */
  bytes(src: Uint8Array): void {
    this.copy(src, 0, src.length);
  }

  /** Copies src[start, end). */
  copy(src: Uint8Array, start: number, end: number): void {
    copyBytes(this.buf, this.at, src, start, end);
    this.at += end - start;
  }

  /** Writes any string as UTF-8 (ensures room itself). */
  utf8(text: string): void {
    this.ensure(text.length * 3);
    this.at += utf8.encodeInto(text, this.buf.subarray(this.at)).written;
  }

  /** Decimal digits of a non-negative safe integer; ensure(16) first. */
  digits(n: number): void {
    this.at = writeDigits(this.buf, this.at, n);
  }
}
