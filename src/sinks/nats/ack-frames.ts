/**
 * Acknowledgement frames read straight from the bytes the connection receives (docs/nats.md,
 * "Delivery"), pure. JetStream answers every publish on the sink's reply subject `<inbox>.<n>` with
 *
 *   MSG <inbox>.<n> <sid> <size>\r\n<payload>\r\n
 *
 * (NATS client protocol, "MSG"; no reply subject — nats-server writes its empty field as a second
 * space before the size —, no headers). The client's parser would read the protocol line byte by
 * byte, split it into strings, build a message object and decode its subject for each one (≈ 0.8 µs
 * per event: docs/benchmarks.md); scanAckFrames() reads the complete ones at the start of a chunk
 * with a few byte comparisons and hands `n` and the payload's place on. It stops at anything else
 * (another subject, a frame with headers — `HMSG`: a 503 "no responders" —, a `PING`), which the
 * client's parser then reads as it always does, or at an acknowledgement the chunk cuts off, which
 * the caller keeps to complete with the next chunk.
 */

const M = 0x4d;
const S = 0x53;
const G = 0x47;
const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const ZERO = 0x30;

/** Largest publish number / sid / size read (beyond it the frame is left to the client). */
const MAX_DIGITS = 15;

/** What scanAckFrames() found at the start of a chunk. */
export interface AckScan {
  /** Bytes of the complete acknowledgement frames read (their payloads went to onAck). */
  consumed: number;
  /**
   * true when the bytes after them are the beginning of an acknowledgement frame that the chunk
   * cuts off (keep them for the next chunk); false when they are something else (or none).
   */
  partial: boolean;
}

/**
 * Reads the acknowledgement frames for subjects `<prefix><n>` at the start of `buf`, calling
 * `onAck(n, buf, start, end)` for each (its payload is `buf[start..end)`); stops at the first byte
 * that does not continue one.
 */
export function scanAckFrames(buf: Uint8Array, prefix: Uint8Array, onAck: (n: number, buf: Uint8Array, start: number, end: number) => void): AckScan {
  let consumed = 0;
  const end = buf.length;
  const stop = (at: number): AckScan => ({ consumed, partial: at >= end });
  for (;;) {
    if (consumed === end) return { consumed, partial: false };
    let at = consumed;
    // "MSG " + prefix
    let k = matching(buf, at, MSG_);
    if (k < MSG_.length) return stop(at + k);
    at += k;
    k = matching(buf, at, prefix);
    if (k < prefix.length) return stop(at + k);
    at += k;
    // <n> " " <sid> " " <size> "\r\n"
    const n = readNumber(buf, at, SPACE);
    if (n < 0) return stop(next);
    at = next;
    if (readNumber(buf, at, SPACE) < 0) return stop(next);
    at = next;
    // nats-server writes the empty reply field as a second space: `MSG <subject> <sid>  <size>`.
    while (at < end && buf[at] === SPACE) at++;
    const size = readNumber(buf, at, CR);
    if (size < 0) return stop(next);
    at = next;
    if (at >= end) return stop(at);
    if (buf[at] !== LF) return stop(at);
    at++;
    if (at + size + 2 > end) return stop(end);
    if (buf[at + size] !== CR || buf[at + size + 1] !== LF) return stop(at);
    onAck(n, buf, at, at + size);
    consumed = at + size + 2;
  }
}

const MSG_ = new Uint8Array([M, S, G, SPACE]);

/** How many bytes of `expected` `buf` has from `at` on (fewer at a difference or at the end of `buf`). */
function matching(buf: Uint8Array, at: number, expected: Uint8Array): number {
  let k = 0;
  while (k < expected.length && at + k < buf.length && buf[at + k] === expected[k]) k++;
  return k;
}

/** Where readNumber() stopped: just after its terminator. */
let next = 0;

/**
 * The decimal number at `at` ending with the byte `terminator` (sets `next` past the terminator),
 * or -1 when there is none (no digit, another byte, too many digits; `next` is then the position
 * of the offending byte), or the chunk ends first (`next` is then the chunk's length).
 */
function readNumber(buf: Uint8Array, at: number, terminator: number): number {
  let value = 0;
  let i = at;
  const limit = at + MAX_DIGITS + 1;
  for (; i < buf.length && i < limit; i++) {
    const b = buf[i]!;
    if (b === terminator) break;
    const digit = b - ZERO;
    if (digit < 0 || digit > 9) {
      next = i;
      return -1;
    }
    value = value * 10 + digit;
  }
  if (i >= buf.length) {
    next = buf.length;
    return -1;
  }
  if (i === at || i >= limit) {
    next = i;
    return -1;
  }
  next = i + 1;
  return value;
}
