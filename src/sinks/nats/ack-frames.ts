/**
 * Acknowledgement frames read straight from the bytes the connection receives (docs/nats.md,
 * "Delivery"), pure. JetStream answers every publish on the sink's reply subject `<inbox>.<n>` with
 *
 *   MSG <inbox>.<n> <sid> <size>\r\n<payload>\r\n
 *
 * (NATS client protocol, "MSG"; no reply subject — nats-server writes its empty field as a second
 * space before the size —, no headers). The client's parser would read the
 * protocol line byte by byte, split it into strings, build a message object and decode its subject
 * for each one (≈ 0.8 µs per event: docs/benchmarks.md); scanAckFrames() reads the complete ones at
 * the start of a chunk with a few byte comparisons and hands `n` and the payload on. Anything else —
 * another subject, a frame with headers (`HMSG`: a 503 "no responders"), a `PING`, a frame cut by the
 * end of the chunk — ends the scan, and the client's parser reads the rest as it always does.
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

/**
 * Reads the acknowledgement frames for subjects `<prefix><n>` at the start of `buf`, calling
 * `onAck(n, payload)` for each (payload is a view into `buf`); returns how many bytes they took (0
 * when the chunk does not start with one). Stops at the first byte that does not continue one.
 */
export function scanAckFrames(buf: Uint8Array, prefix: Uint8Array, onAck: (n: number, payload: Uint8Array) => void): number {
  let consumed = 0;
  const end = buf.length;
  for (;;) {
    let at = consumed;
    // "MSG " + prefix
    if (at + 4 + prefix.length > end || buf[at] !== M || buf[at + 1] !== S || buf[at + 2] !== G || buf[at + 3] !== SPACE) return consumed;
    at += 4;
    for (let k = 0; k < prefix.length; k++) if (buf[at + k] !== prefix[k]) return consumed;
    at += prefix.length;
    // <n> " " <sid> " " <size> "\r\n"
    const n = readNumber(buf, at, SPACE);
    if (n < 0) return consumed;
    at = next;
    if (readNumber(buf, at, SPACE) < 0) return consumed;
    at = next;
    // nats-server writes the empty reply field as a second space: `MSG <subject> <sid>  <size>`.
    while (at < end && buf[at] === SPACE) at++;
    const size = readNumber(buf, at, CR);
    if (size < 0 || at >= end) return consumed;
    at = next;
    if (at >= end || buf[at] !== LF) return consumed;
    at++;
    if (at + size + 2 > end || buf[at + size] !== CR || buf[at + size + 1] !== LF) return consumed;
    onAck(n, buf.subarray(at, at + size));
    consumed = at + size + 2;
  }
}

/** Where readNumber() stopped: just after its terminator. */
let next = 0;

/**
 * The decimal number at `at` ending with the byte `terminator` (sets `next` past the terminator),
 * or -1 when there is none (no digit, another byte, the end of the chunk, too many digits).
 */
function readNumber(buf: Uint8Array, at: number, terminator: number): number {
  let value = 0;
  let i = at;
  const limit = Math.min(buf.length, at + MAX_DIGITS + 1);
  for (; i < limit; i++) {
    const b = buf[i]!;
    if (b === terminator) break;
    const digit = b - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  if (i === at || i >= limit) return -1;
  next = i + 1;
  return value;
}
