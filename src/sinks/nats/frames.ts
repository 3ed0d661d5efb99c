/**
 * NATS `HPUB` frames, encoded by the sink itself (docs/nats.md, "Delivery"), pure. The client's
 * `publish()` costs several µs per message (a header object, a protocol line string, an encode and a
 * buffer entry each); the sink instead writes a chunk of frames into one buffer and hands it to the
 * connection in one piece, as the Kafka sink writes its own record batches. One frame:
 *
 *   HPUB <subject> <reply> <header bytes> <total bytes>\r\n
 *   NATS/1.0\r\nNats-Msg-Id: <uuid>\r\n[Nats-Expected-Stream: <stream>\r\n]\r\n<payload>\r\n
 *
 * (NATS client protocol, "HPUB"; header block as in HTTP/1.)
 */
import { writeDigits } from '../../core/bytes.ts';

/** Frames of one chunk, appended into a growing buffer handed over by take(). */
export class FrameWriter {
  private buf: Buffer;
  private at = 0;
  private readonly headerStart: Buffer;
  private readonly headerEnd: Buffer;
  private readonly subjects = new Map<string, Buffer>();
  private readonly replyPrefix: Buffer;
  /** The buffer's start was handed out by take() and not reclaimed. */
  private lent = false;

  /**
   * @param replyPrefix reply subjects are `<replyPrefix><n>` (the sink's acknowledgement inbox).
   * @param expectedStream sets `Nats-Expected-Stream` on every frame.
   */
  constructor(replyPrefix: string, expectedStream: string | undefined, private readonly chunkBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.replyPrefix = Buffer.from(replyPrefix);
    this.headerStart = Buffer.from('NATS/1.0\r\nNats-Msg-Id: ');
    this.headerEnd = Buffer.from(`\r\n${expectedStream === undefined ? '' : `Nats-Expected-Stream: ${expectedStream}\r\n`}\r\n`);
  }

  /** Bytes of the frames written since the last take(). */
  get size(): number {
    return this.at;
  }

  /** Bytes the server counts against `max_payload` for a message with this id and payload. */
  messageBytes(msgId: string, payload: Uint8Array): number {
    return this.headerStart.length + Buffer.byteLength(msgId) + this.headerEnd.length + payload.length;
  }

  /** Appends the frame publishing `payload` to `subject`, reply `<replyPrefix><n>`, header `Nats-Msg-Id: msgId`. */
  add(subject: string, n: number, msgId: string, payload: Uint8Array): void {
    let subjectBytes = this.subjects.get(subject);
    if (subjectBytes === undefined) {
      subjectBytes = Buffer.from(subject);
      this.subjects.set(subject, subjectBytes);
    }
    // Event ids are ASCII UUIDs: one byte per character (else their UTF-8 length).
    const ascii = isAscii(msgId);
    const idBytes = ascii ? msgId.length : Buffer.byteLength(msgId);
    const headerBytes = this.headerStart.length + idBytes + this.headerEnd.length;
    const total = headerBytes + payload.length;
    // "HPUB " + subject + " " + prefix + n + " " + hlen + " " + total + CRLF: numbers have at most 16 digits.
    this.reserve(5 + subjectBytes.length + 1 + this.replyPrefix.length + 16 + 1 + 16 + 1 + 16 + 2 + total + 2);
    const buf = this.buf;
    let at = this.at;
    buf[at] = 0x48; // HPUB
    buf[at + 1] = 0x50;
    buf[at + 2] = 0x55;
    buf[at + 3] = 0x42;
    buf[at + 4] = 0x20;
    at += 5;
    buf.set(subjectBytes, at);
    at += subjectBytes.length;
    buf[at++] = 0x20;
    buf.set(this.replyPrefix, at);
    at += this.replyPrefix.length;
    at = writeDigits(buf, at, n);
    buf[at++] = 0x20;
    at = writeDigits(buf, at, headerBytes);
    buf[at++] = 0x20;
    at = writeDigits(buf, at, total);
    buf[at++] = 0x0d;
    buf[at++] = 0x0a;
    buf.set(this.headerStart, at);
    at += this.headerStart.length;
    if (ascii) {
      for (let i = 0; i < msgId.length; i++) buf[at + i] = msgId.charCodeAt(i);
      at += msgId.length;
    } else {
      at += buf.write(msgId, at, 'utf8');
    }
    buf.set(this.headerEnd, at);
    at += this.headerEnd.length;
    buf.set(payload, at);
    at += payload.length;
    buf[at++] = 0x0d;
    buf[at++] = 0x0a;
    this.at = at;
  }

  /**
   * The frames written so far, as a view of the writer's buffer; the writer starts over. Until
   * reclaim() says the connection is done with them (written to the socket), the next frames go to
   * a new buffer.
   */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.at);
    this.at = 0;
    this.lent = true;
    return out;
  }

  /** The chunk take() returned was written (copied by the socket): its buffer is used again. */
  reclaim(): void {
    this.lent = false;
    // A chunk of unusual size (one huge event) does not keep its buffer.
    if (this.buf.length > 4 * this.chunkBytes) this.buf = Buffer.allocUnsafe(this.chunkBytes);
  }

  /** Drops the frames written since the last take() (never sent). */
  discard(): void {
    this.at = 0;
  }

  private reserve(bytes: number): void {
    if (this.lent) {
      // The connection still holds the last chunk: a new buffer (the usual size again after one huge event).
      this.lent = false;
      this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, bytes));
      return;
    }
    if (this.at + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}

/** Whether every character of `s` is ASCII (short strings: the ids). */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
