/**
 * Hands the sink the acknowledgement frames of a connection before the client parses them
 * (docs/nats.md, "Delivery"): every chunk the connection receives goes first through
 * scanAckFrames() (ack-frames.ts) when the client's parser is between frames, and only the rest to
 * the client's parser; an acknowledgement cut off by the end of a chunk is held and completed by the
 * next one. The client replaces its parser at every (re)connect (dropping what was held with it), so
 * the wrapping follows the connection's `parser` property.
 *
 * The client's internals (`protocol.parser`, a parser's `state` and `parse`) are not in its typings:
 * checked here; a client without them keeps its own parsing (the acknowledgements then come through
 * the subscription's callback, as before), so nothing is lost, only the saving.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { scanAckFrames } from './ack-frames.ts';

interface ClientParser {
  state: unknown;
  parse(buf: Uint8Array): void;
}

function isParser(p: unknown): p is ClientParser {
  return typeof p === 'object' && p !== null && 'state' in p && typeof (p as { parse?: unknown }).parse === 'function';
}

/**
 * Makes `nc` pass the acknowledgement frames for `<replyPrefix><n>` to `onAck(n, buf, start, end)`
 * (the payload is `buf[start..end)`) without the client's parsing. Returns false when the client's
 * internals are not as expected (nothing changed).
 */
export function readAcksFirst(nc: NatsConnection, replyPrefix: string, onAck: (n: number, buf: Uint8Array, start: number, end: number) => void): boolean {
  const protocol = (nc as unknown as { protocol?: { parser?: unknown } }).protocol;
  const first = protocol?.parser;
  if (protocol === undefined || !isParser(first)) return false;
  // A new parser starts between frames: its state is the one in which a chunk may be scanned.
  let between: unknown;
  try {
    between = new (first.constructor as new (dispatcher: unknown) => ClientParser)({}).state;
  } catch {
    return false;
  }
  const prefix = Buffer.from(replyPrefix);
  const wrap = (parser: unknown): unknown => {
    if (!isParser(parser)) return parser;
    const parse = parser.parse.bind(parser);
    /** The start of an acknowledgement the last chunk cut off (the client's parser has not seen it). */
    let held: Uint8Array | undefined;
    parser.parse = (chunk: Uint8Array) => {
      let buf = chunk;
      if (held !== undefined) {
        buf = new Uint8Array(held.length + chunk.length);
        buf.set(held);
        buf.set(chunk, held.length);
        held = undefined;
      }
      if (parser.state !== between) return parse(buf);
      const { consumed, partial } = scanAckFrames(buf, prefix, onAck);
      if (partial) held = buf.slice(consumed);
      else if (consumed < buf.length) parse(consumed === 0 ? buf : buf.subarray(consumed));
    };
    return parser;
  };
  let current = wrap(first);
  Object.defineProperty(protocol, 'parser', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (parser: unknown) => void (current = wrap(parser)),
  });
  return true;
}
