/**
 * The decoder must fail only with PgoutputDecodeError, whatever the bytes: truncated messages at
 * every length, random bytes, and valid messages with random bytes changed. No other exception,
 * no hang (each case is bounded by the message length).
 */
import { describe, expect, test } from 'bun:test';
import { decodePgoutput } from '../../../src/pgoutput/decode.ts';
import { PgoutputDecodeError } from '../../../src/pgoutput/errors.ts';
import { encodePgoutput, randomSource, sampleMessages } from '../../helpers/pgoutput-frames.ts';

const KNOWN_TYPES = [...'BCORYIUDTMSEcAbPKrp'].map((c) => c.charCodeAt(0));

/** Decodes; returns 'ok' or 'error', and fails the test on any other exception. */
function attempt(bytes: Uint8Array, protoVersion: number, inStream: boolean, context: () => string): 'ok' | 'error' {
  try {
    decodePgoutput(bytes, { protoVersion, inStream });
    return 'ok';
  } catch (error) {
    if (error instanceof PgoutputDecodeError) return 'error';
    throw new Error(`${context()}: ${String(error)}`, { cause: error });
  }
}

describe('decoder fuzzing', () => {
  test('every strict prefix of every message type throws PgoutputDecodeError', () => {
    const seed = Date.now();
    let prefixes = 0;
    for (let round = 0; round < 20; round++) {
      for (const sample of sampleMessages(randomSource(seed + round))) {
        const bytes = encodePgoutput(sample.message);
        for (let length = 0; length < bytes.length; length++) {
          const prefix = bytes.slice(0, length);
          const result = attempt(prefix, sample.protoVersion, sample.inStream, () => `seed ${seed + round} ${sample.message.tag} prefix ${length}`);
          prefixes++;
          // The one legitimate exception: a v4 Stream Abort without its optional parallel-streaming fields.
          const optionalTail = sample.message.tag === 'stream-abort' && length === 9;
          if (!optionalTail) expect(result).toBe('error');
        }
      }
    }
    expect(prefixes).toBeGreaterThan(10_000);
  });

  test('100k random byte strings', () => {
    const seed = Date.now();
    const random = randomSource(seed);
    let decoded = 0;
    for (let i = 0; i < 100_000; i++) {
      const length = Math.floor(random() * (random() < 0.9 ? 48 : 400));
      const bytes = new Uint8Array(length);
      for (let j = 0; j < length; j++) bytes[j] = Math.floor(random() * (random() < 0.5 ? 4 : 256));
      // Mostly known type bytes, so the fuzzing reaches the message decoders.
      if (length > 0 && random() < 0.9) bytes[0] = KNOWN_TYPES[Math.floor(random() * KNOWN_TYPES.length)] as number;
      const protoVersion = 1 + Math.floor(random() * 4);
      const inStream = random() < 0.5;
      if (attempt(bytes, protoVersion, inStream, () => `seed ${seed} case ${i} ${Buffer.from(bytes).toString('hex')}`) === 'ok') decoded++;
    }
    expect(decoded).toBeGreaterThan(0); // some random inputs are valid messages
  });

  test('100k valid messages with random bytes changed', () => {
    const seed = Date.now();
    const random = randomSource(seed);
    const frames = sampleMessages(random).map((s) => ({ ...s, bytes: encodePgoutput(s.message) }));
    for (let i = 0; i < 100_000; i++) {
      const frame = frames[Math.floor(random() * frames.length)]!;
      const bytes = frame.bytes.slice();
      const changes = 1 + Math.floor(random() * 3);
      for (let c = 0; c < changes; c++) {
        const at = Math.floor(random() * bytes.length);
        bytes[at] = random() < 0.5 ? Math.floor(random() * 256) : 0xff;
      }
      attempt(bytes, frame.protoVersion, frame.inStream, () => `seed ${seed} case ${i} ${Buffer.from(bytes).toString('hex')}`);
    }
  });
});
