import { describe, expect, test } from 'bun:test';
import { ProtocolError } from '../../../src/pg/errors.ts';
import { FrameDecoder, MAX_MESSAGE_LENGTH, splitFrames } from '../../../src/pg/frames.ts';
import { concat, copyData, dataRow, message, readyForQuery } from '../../helpers/pg-backend-messages.ts';

/** A deterministic PRNG so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const payloadOf = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** Cuts `bytes` into pieces at the given sizes (the last piece takes the rest). */
function cut(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  if (at < bytes.length) pieces.push(bytes.subarray(at));
  return pieces;
}

describe('FrameDecoder', () => {
  const stream = concat(copyData(payloadOf(150, 1)), readyForQuery(), message('c'), copyData(payloadOf(3000, 2)), dataRow(['a', null]));
  const expected = splitFrames([stream]).frames;

  test('many messages in one chunk: views into the chunk, in order', () => {
    const decoder = new FrameDecoder();
    decoder.push(stream);
    const seen: string[] = [];
    while (decoder.next()) {
      expect(decoder.payload.buffer).toBe(stream.buffer);
      seen.push(`${String.fromCharCode(decoder.type)}${decoder.payload.length}`);
    }
    expect(seen).toEqual(['d150', 'Z1', 'c0', 'd3000', 'D11']);
    expect(decoder.buffered).toBe(0);
  });

  test('every split of the stream into two chunks gives the same messages', () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(splitFrames([stream.subarray(0, at), stream.subarray(at)]).frames).toEqual(expected);
    }
  });

  test('one byte at a time', () => {
    const bytes = [...stream].map((b) => Uint8Array.of(b));
    const { frames, leftover } = splitFrames(bytes);
    expect(frames).toEqual(expected);
    expect(leftover).toBe(0);
  });

  test('random chunk sizes (seeded)', () => {
    const random = rng(42);
    for (let round = 0; round < 200; round++) {
      const sizes = Array.from({ length: 40 }, () => 1 + Math.floor(random() * 400));
      expect(splitFrames(cut(stream, sizes)).frames).toEqual(expected);
    }
  });

  test('a large message across many chunks is assembled into a buffer of its size', () => {
    const big = copyData(payloadOf(1_000_000, 9));
    const decoder = new FrameDecoder();
    const chunks = cut(big, Array(100).fill(16_384));
    let got: Uint8Array | undefined;
    for (const chunk of chunks) {
      decoder.push(chunk);
      while (decoder.next()) got = decoder.payload;
    }
    expect(got?.length).toBe(1_000_000);
    expect(got!.buffer.byteLength).toBe(1_000_005); // the final doubling is capped at the message size
    expect(got!.every((b) => b === 9)).toBe(true);
  });

  test('an incomplete message waits; buffered counts the bytes held', () => {
    const decoder = new FrameDecoder();
    const msg = copyData(payloadOf(10, 1));
    decoder.push(msg.subarray(0, 3));
    expect(decoder.next()).toBe(false);
    decoder.push(msg.subarray(3, 8));
    expect(decoder.next()).toBe(false);
    expect(decoder.buffered).toBe(8);
    decoder.push(msg.subarray(8));
    expect(decoder.next()).toBe(true);
    expect(decoder.payload.length).toBe(10);
    expect(decoder.next()).toBe(false);
  });

  test('a caller that stops pulling (paused) keeps later chunks queued in order', () => {
    const decoder = new FrameDecoder();
    decoder.push(concat(readyForQuery('I'), readyForQuery('T')));
    expect(decoder.next()).toBe(true);
    decoder.push(concat(readyForQuery('E'), readyForQuery('I').subarray(0, 2)));
    decoder.push(readyForQuery('I').subarray(2));
    const statuses: string[] = [];
    while (decoder.next()) statuses.push(String.fromCharCode(decoder.payload[0]!));
    expect(statuses).toEqual(['T', 'E', 'I']);
  });

  test.each([
    ['a length below 4', [0x64, 0, 0, 0, 3]],
    ['a negative length', [0x64, 0xff, 0xff, 0xff, 0xff]],
    ['a length above 1 GiB', [0x64, 0x40, 0, 0, 1]],
  ])('%s is a ProtocolError', (_name, header) => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.from(header));
    expect(() => decoder.next()).toThrow(ProtocolError);
  });

  test('exactly 1 GiB is accepted as a length (and waits for its bytes)', () => {
    const decoder = new FrameDecoder();
    const header = Uint8Array.of(0x64, 0, 0, 0, 0);
    new DataView(header.buffer).setInt32(1, MAX_MESSAGE_LENGTH);
    decoder.push(header.subarray(0, 5));
    expect(decoder.next()).toBe(false);
  });

  test('fuzz: random and truncated bytes give messages or ProtocolError, nothing else, and always terminate', () => {
    const random = rng(7);
    let protocolErrors = 0;
    let frames = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = new Uint8Array(1 + Math.floor(random() * 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = random() < 0.6 ? Math.floor(random() * 8) : Math.floor(random() * 256);
      // Sometimes start from a valid stream and corrupt or truncate it.
      const input = round % 3 === 0 ? stream.subarray(0, Math.floor(random() * stream.length)) : bytes;
      const decoder = new FrameDecoder();
      try {
        for (const chunk of cut(input, [1 + Math.floor(random() * 7), 1 + Math.floor(random() * 30)])) {
          decoder.push(chunk);
          let guard = 0;
          while (decoder.next()) {
            frames += 1;
            if (++guard > input.length) throw new Error('decoder loops');
          }
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        protocolErrors += 1;
      }
    }
    expect(protocolErrors).toBeGreaterThan(100);
    expect(frames).toBeGreaterThan(100);
  });
});
