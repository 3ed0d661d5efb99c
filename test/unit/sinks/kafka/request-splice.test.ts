/**
 * request-splice.ts: a Produce request's body cut before its first record batch, and a socket whose
 * writes of the library's short frames come out as the whole request (header grown by the rest,
 * then the rest, corked: one send), every other write untouched. On the real broker: test/integration/kafka/sink-transport.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import { encodeProduceRequest } from '../../../../src/kafka/protocol/produce-request.ts';
import { CORK_MAX_BYTES, expectSplice, isFrameOf, splitBody } from '../../../../src/sinks/kafka/request-splice.ts';

/** A request framed as @platformatic/kafka's connection frames it: size, API key, version, correlation id, client id, body. */
function frame(apiKey: number, version: number, correlationId: number, body: Uint8Array): Buffer {
  const clientId = Buffer.from('psql-streamer');
  const header = Buffer.alloc(14 + clientId.length);
  header.writeInt32BE(header.length - 4 + body.length, 0);
  header.writeInt16BE(apiKey, 4);
  header.writeInt16BE(version, 6);
  header.writeInt32BE(correlationId, 8);
  header.writeInt16BE(clientId.length, 12);
  clientId.copy(header, 14);
  return Buffer.concat([header, body]);
}

/** A socket that records what reaches it. */
function socket() {
  const written: Buffer[] = [];
  return {
    written,
    write(data: Uint8Array): boolean {
      written.push(Buffer.from(data));
      return true;
    },
    bytes: () => Buffer.concat(written),
  };
}

const batchA = new Uint8Array(300).fill(7);
const batchB = new Uint8Array(200).fill(9);
const body = (a = batchA, b = batchB) => encodeProduceRequest(7, -1, 1000, [{ topic: 't', partitions: [{ partition: 0, batch: a }, { partition: 1, batch: b }] }]);

describe('splitBody', () => {
  test('cuts before the first record batch; the rest is every chunk after, in order', () => {
    const chunks = body();
    const split = splitBody(chunks, new Set([batchA, batchB]))!;
    const whole = Buffer.concat(chunks);
    expect(Buffer.concat([split.head, ...split.rest]).equals(whole)).toBe(true);
    expect(split.rest[0]).toBe(batchA);
    expect(split.rest).toContain(batchB);
    expect(split.restBytes).toBe(whole.length - split.head.length);
    expect(splitBody(chunks, new Set())).toBeUndefined();
  });
});

describe('a spliced socket', () => {
  test("the library's short frame goes out as the whole request; other writes are untouched", () => {
    const chunks = body();
    const split = splitBody(chunks, new Set([batchA, batchB]))!;
    const s = socket();
    const done = expectSplice(s, { version: 7, body: split })!;
    const metadata = frame(3, 12, 41, new Uint8Array([1, 2, 3]));
    s.write(metadata);
    s.write(frame(0, 7, 42, split.head));
    done();
    expect(s.bytes().equals(Buffer.concat([metadata, frame(0, 7, 42, Buffer.concat(chunks))]))).toBe(true);
    // Once written, the splice is gone: the same short frame again passes as it is.
    const again = frame(0, 7, 43, split.head);
    s.write(again);
    expect(s.written.at(-1)!.equals(again)).toBe(true);
  });

  test('a small request is written corked (one send, not one per piece), a large one and other writes are not', () => {
    const split = splitBody(body(), new Set([batchA, batchB]))!;
    const events: string[] = [];
    const s = Object.assign(socket(), {
      cork: () => events.push('cork'),
      uncork: () => events.push('uncork'),
    });
    const write = s.write;
    s.write = (data: Uint8Array) => { events.push('write'); return write(data); };
    expectSplice(s, { version: 7, body: split });
    s.write(frame(3, 12, 41, new Uint8Array([1])));
    s.write(frame(0, 7, 42, split.head));
    expect(events).toEqual(['write', 'cork', ...split.rest.map(() => 'write'), 'write', 'uncork']);

    // A large request goes piece by piece: corking would copy it whole.
    const large = new Uint8Array(CORK_MAX_BYTES).fill(3);
    const big = splitBody(body(large, batchB), new Set([large, batchB]))!;
    events.length = 0;
    expectSplice(s, { version: 7, body: big });
    s.write(frame(0, 7, 43, big.head));
    expect(events).toEqual([...big.rest.map(() => 'write'), 'write']);
  });

  test('two waiting requests with the same head are written in their order', () => {
    const first = splitBody(body(), new Set([batchA, batchB]))!;
    const otherA = new Uint8Array(300).fill(1);
    const otherB = new Uint8Array(200).fill(2);
    const second = splitBody(body(otherA, otherB), new Set([otherA, otherB]))!;
    expect(first.head.equals(second.head)).toBe(true);
    const s = socket();
    expectSplice(s, { version: 7, body: first });
    expectSplice(s, { version: 7, body: second });
    s.write(frame(0, 7, 1, first.head));
    s.write(frame(0, 7, 2, second.head));
    expect(s.bytes().equals(Buffer.concat([frame(0, 7, 1, Buffer.concat(body())), frame(0, 7, 2, Buffer.concat(body(otherA, otherB)))]))).toBe(true);
  });

  test('a withdrawn splice (its request dropped before its write) is never applied', () => {
    const split = splitBody(body(), new Set([batchA, batchB]))!;
    const s = socket();
    expectSplice(s, { version: 7, body: split })!();
    const short = frame(0, 7, 5, split.head);
    s.write(short);
    expect(s.bytes().equals(short)).toBe(true);
  });

  test('only a whole Produce frame of the same version ending in the head matches', () => {
    const split = splitBody(body(), new Set([batchA, batchB]))!;
    const pending = { version: 7, body: split };
    expect(isFrameOf(frame(0, 7, 1, split.head), pending)).toBe(true);
    expect(isFrameOf(frame(0, 8, 1, split.head), pending)).toBe(false);
    expect(isFrameOf(frame(1, 7, 1, split.head), pending)).toBe(false);
    expect(isFrameOf(frame(0, 7, 1, Buffer.concat([split.head, Buffer.from([0])])), pending)).toBe(false);
    const torn = frame(0, 7, 1, split.head);
    torn.writeInt32BE(torn.length, 0);
    expect(isFrameOf(torn, pending)).toBe(false);
  });

  test('something that is not a socket is not spliced', () => {
    const split = splitBody(body(), new Set([batchA, batchB]))!;
    expect(expectSplice(undefined, { version: 7, body: split })).toBeUndefined();
    expect(expectSplice({}, { version: 7, body: split })).toBeUndefined();
  });
});
