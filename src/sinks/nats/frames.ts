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

const CRLF = Buffer.from('\r\n');

/** Frames of one chunk, appended into a growing buffer handed over by take(). */
export class FrameWriter {
  private buf: Buffer;
  private at = 0;
  private readonly headerStart: Buffer;
  private readonly headerEnd: Buffer;
  private readonly subjects = new Map<string, Buffer>();
  private readonly replyPrefix: Buffer;

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
    const idBytes = Buffer.byteLength(msgId);
    const headerBytes = this.headerStart.length + idBytes + this.headerEnd.length;
    const total = headerBytes + payload.length;
    // "HPUB " + subject + " " + prefix + n + " " + hlen + " " + total + CRLF: numbers have at most 16 digits.
    this.reserve(5 + subjectBytes.length + 1 + this.replyPrefix.length + 16 + 1 + 16 + 1 + 16 + 2 + total + 2);
    const buf = this.buf;
    let at = this.at;
    at += buf.write('HPUB ', at, 'latin1');
    at += subjectBytes.copy(buf, at);
    buf[at++] = 0x20;
    at += this.replyPrefix.copy(buf, at);
    at += buf.write(`${n} ${headerBytes} ${total}\r\n`, at, 'latin1');
    at += this.headerStart.copy(buf, at);
    at += buf.write(msgId, at, 'utf8');
    at += this.headerEnd.copy(buf, at);
    buf.set(payload, at);
    at += payload.length;
    at += CRLF.copy(buf, at);
    this.at = at;
  }

  /** A copy of the frames written so far (the connection keeps it until sent); the writer starts over. */
  take(): Uint8Array {
    const out = Buffer.from(this.buf.subarray(0, this.at));
    this.at = 0;
    // A chunk of unusual size (one huge event) does not keep its buffer.
    if (this.buf.length > 4 * this.chunkBytes) this.buf = Buffer.allocUnsafe(this.chunkBytes);
    return out;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}
