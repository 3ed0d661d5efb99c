/**
 * Produce requests without the library's copy (docs/benchmarks.md, "Session of 2026-12-07:
 * snapshot and Kafka path"). @platformatic/kafka's `connection.send` joins a request's header and
 * body into one fresh buffer (Buffer.concat) before it writes it to the socket: a request-sized
 * allocation and memcpy per request, garbage the size of everything sent. Instead the library is
 * given only the body's first bytes (up to the first record batch), and when it writes that short
 * request to the socket, the write is recognised, its size field grows by the rest of the body, and
 * the rest (the record batches and the few bytes between them) is written right behind it, in the
 * same synchronous call, so nothing can come between them. The library keeps the correlation ids,
 * in-flight bookkeeping, timeouts and the parsing of the answer.
 *
 * Safety: a spliced request is only ever written whole (header, then its rest at once); the rest's
 * buffers must stay unchanged until the request is answered or its connection is gone, which the
 * sink guarantees (record-batches.ts BatchMemory: reused only after the answer). A request whose
 * header somehow goes out unrecognised is a short, well-formed frame the broker refuses, never a
 * mix of two requests. acks = 0 has no answer to wait for, so those requests are not spliced.
 */

/** A request's body cut in two: what the library writes (with its header) and what follows it. */
export interface SplitBody {
  /** The body up to the first record batch (topics, partitions, the batch's length). */
  readonly head: Buffer;
  /** The rest: record batches and the bytes between them, in order. */
  readonly rest: readonly Uint8Array[];
  readonly restBytes: number;
}

/**
 * Cuts an encoded body (produce-request.ts's chunks) before the first chunk that is one of
 * `large` (the record batches); undefined when there is none.
 */
export function splitBody(chunks: readonly Uint8Array[], large: ReadonlySet<Uint8Array>): SplitBody | undefined {
  const at = chunks.findIndex((c) => large.has(c));
  if (at < 0) return undefined;
  const rest = chunks.slice(at);
  let restBytes = 0;
  for (const c of rest) restBytes += c.length;
  return { head: Buffer.concat(chunks.slice(0, at)), rest, restBytes };
}

const PRODUCE_API_KEY = 0;
/** Size, API key, version, correlation id, client id length: the least a request header has. */
const MIN_HEADER_BYTES = 4 + 2 + 2 + 4 + 2;

/** One spliced request waiting for its header to be written. */
export interface PendingSplice {
  readonly version: number;
  readonly body: SplitBody;
}

/**
 * Whether `frame` (one socket write of the library) is the framed request of `pending`: a whole
 * Produce request of its version whose body is exactly its head.
 */
export function isFrameOf(frame: Uint8Array, pending: PendingSplice): boolean {
  const head = pending.body.head;
  if (frame.length < MIN_HEADER_BYTES + head.length) return false;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  if (view.getInt32(0) !== frame.length - 4 || view.getInt16(4) !== PRODUCE_API_KEY || view.getInt16(6) !== pending.version) return false;
  return Buffer.from(frame.buffer, frame.byteOffset + frame.length - head.length, head.length).equals(head);
}

/** The frame with its size grown by the rest of the body (a copy: the library's buffer is left as it is). */
export function grownFrame(frame: Uint8Array, restBytes: number): Buffer {
  const out = Buffer.allocUnsafe(frame.length);
  out.set(frame);
  out.writeInt32BE(frame.length - 4 + restBytes, 0);
  return out;
}

/** What the splice needs of a socket. */
interface WritableSocket {
  write(data: Uint8Array, ...rest: unknown[]): boolean;
  cork?(): void;
  uncork?(): void;
}

/** Requests up to this many bytes of record batches are written in one send (corked). */
export const CORK_MAX_BYTES = 64 * 1024;

/** Splices waiting per socket (the library's Connection keeps one socket for its life). */
const bySocket = new WeakMap<object, PendingSplice[]>();

/**
 * The waiting list of `socket`, whose `write` is wrapped on first use: a write that is the frame of
 * a waiting splice goes out grown, followed by the splice's rest; every other write is untouched.
 */
function splicesOf(socket: WritableSocket): PendingSplice[] {
  let waiting = bySocket.get(socket);
  if (waiting !== undefined) return waiting;
  const list: PendingSplice[] = [];
  waiting = list;
  const write = socket.write;
  socket.write = function spliceWrite(this: WritableSocket, data: Uint8Array, ...rest: unknown[]): boolean {
    if (list.length > 0 && data instanceof Uint8Array) {
      const i = list.findIndex((p) => isFrameOf(data, p));
      if (i >= 0) {
        const { body } = list[i]!;
        list.splice(i, 1);
        // A small request goes corked: one send instead of one per piece. Each send wakes the
        // broker's network thread for a partial request (on loopback, inside our system call) and
        // costs more than copying a few kilobytes; a large one goes piece by piece, as corking
        // copies it whole (docs/benchmarks.md, "Corked produce requests").
        const corked = body.restBytes <= CORK_MAX_BYTES;
        if (corked) this.cork?.();
        let ok = write.call(this, grownFrame(data, body.restBytes));
        for (let k = 0; k < body.rest.length; k++) {
          ok = k === body.rest.length - 1 ? write.call(this, body.rest[k]!, ...rest) : write.call(this, body.rest[k]!);
        }
        if (corked) this.uncork?.();
        return ok;
      }
    }
    return write.call(this, data, ...rest);
  };
  bySocket.set(socket, list);
  return list;
}

/**
 * Registers `pending` on `socket` (undefined: the socket cannot be spliced, send the whole body).
 * Returns the function to call once the request is answered or failed: a splice whose header was
 * never written (the connection closed first, the request timed out in the queue) is withdrawn.
 */
export function expectSplice(socket: unknown, pending: PendingSplice): (() => void) | undefined {
  if (typeof socket !== 'object' || socket === null || typeof (socket as WritableSocket).write !== 'function') return undefined;
  const list = splicesOf(socket as WritableSocket);
  list.push(pending);
  return () => {
    const i = list.indexOf(pending);
    if (i >= 0) list.splice(i, 1);
  };
}
