/**
 * Event identity (src/event/identity.ts; docs/kafka.md, "Event identity (UUID)"): the hash is
 * MurmurHash3_x86_128 as published (SMHasher's verification value), the UUIDs are what the
 * documented recipe computes (known vectors, also computed with Python's mmh3 and hashlib), they
 * are deterministic, distinct for distinct inputs, version 8 with the RFC 9562 variant, and their
 * 122 free bits are balanced.
 */
import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { EventIdentity, lsnHalves, murmur3x86_128, sourceNamespace, uuidV8 } from '../../../src/event/identity.ts';

const V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SYSTEM = '7301234567890123456';
const utf8 = new TextEncoder();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** The documented recipe, step by step, from the general hash: N ‖ uint64 LE commit LSN ‖ uint32 LE txIndex. */
function recipe(systemId: string, slot: string, commitLsn: bigint, txIndex: number): string {
  const message = new Uint8Array(28);
  message.set(sourceNamespace(systemId, slot));
  const view = new DataView(message.buffer);
  view.setBigUint64(16, commitLsn, true);
  view.setUint32(24, txIndex, true);
  return uuidV8(murmur3x86_128(message));
}

describe('MurmurHash3_x86_128', () => {
  test("SMHasher's verification value 0xB3ECE62A", () => {
    // Keys 0..255 bytes long (key[i] = i) hashed with seed 256 - length, the hashes hashed with seed 0.
    const key = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hashes = new Uint8Array(256 * 16);
    for (let i = 0; i < 256; i++) hashes.set(murmur3x86_128(key.subarray(0, i), 256 - i), i * 16);
    const final = murmur3x86_128(hashes, 0);
    expect(new DataView(final.buffer).getUint32(0, true)).toBe(0xb3ece62a);
  });
});

describe('the source namespace', () => {
  test('the first 16 bytes of SHA-256("psql-streamer/postgres" 0 systemId 0 slot)', () => {
    const expected = createHash('sha256').update(`psql-streamer/postgres\0${SYSTEM}\0slot1`).digest().subarray(0, 16);
    expect(hex(sourceNamespace(SYSTEM, 'slot1'))).toBe(hex(expected));
    expect(hex(sourceNamespace(SYSTEM, 'slot1'))).toBe('175ab0777e35c9c7febe700edd1cb195');
  });

  test('differs by cluster and by slot; the separator keeps "1"+"23" from "12"+"3"', () => {
    const all = [sourceNamespace(SYSTEM, 'slot1'), sourceNamespace(SYSTEM, 'slot2'), sourceNamespace('7301234567890123457', 'slot1'),
      sourceNamespace('1', '23'), sourceNamespace('12', '3')].map(hex);
    expect(new Set(all).size).toBe(all.length);
  });

  test('an identity wants 16 bytes', () => {
    expect(() => new EventIdentity(new Uint8Array(32))).toThrow('16 bytes');
  });
});

describe('stream events: (commit LSN, txIndex)', () => {
  const identity = EventIdentity.of(SYSTEM, 'slot1');

  test('known vectors (docs/kafka.md; the same from Python mmh3.hash_bytes(..., x64arch=False))', () => {
    expect(identity.stream(0x1a8e94f0n, 0)).toBe('9af20624-1d27-8b6c-ad2b-76bda1eb362c');
    expect(identity.stream(0x1a8e94f0n, 1)).toBe('bd120427-8214-87a2-bd69-0338d9168a8e');
    expect(identity.stream(0x1_1a8e94f0n, 4_000_000_000)).toBe('d577e25e-1fc2-822f-8d9b-d0c52416fcb0');
  });

  test('equals the documented recipe computed with the general hash, for LSNs across the uint64 range', () => {
    for (const lsn of [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0x1a8e94f0n, 2n ** 53n + 1n, 0xffff_ffff_ffff_ffffn]) {
      for (const index of [0, 1, 2, 1000, 2 ** 31, 2 ** 32 - 1]) expect(identity.stream(lsn, index)).toBe(recipe(SYSTEM, 'slot1', lsn, index));
    }
  });

  test('deterministic: another identity object of the same source, the byte writer and the string agree', () => {
    const again = EventIdentity.of(SYSTEM, 'slot1');
    const buf = new Uint8Array(50).fill(0x2a);
    const [low, high] = lsnHalves(0x3_0000_1234n);
    expect(again.writeStream(buf, 7, low, high, 9)).toBe(43);
    expect(new TextDecoder().decode(buf.subarray(7, 43))).toBe(identity.stream(0x3_0000_1234n, 9));
    // Nothing written outside its 36 bytes.
    expect([...buf.subarray(0, 7), ...buf.subarray(43)].every((b) => b === 0x2a)).toBe(true);
  });

  test('distinct for distinct (commit LSN, txIndex), and across sources', () => {
    const seen = new Set<string>();
    let count = 0;
    for (let t = 0; t < 400; t++) {
      // Neighbouring LSNs, LSNs one high word apart, and indexes that sum alike.
      const lsn = 0x1a8e_0000n + BigInt(t) * 8n + (t % 2 === 0 ? 0n : 2n ** 32n);
      for (let i = 0; i < 250; i++) {
        seen.add(identity.stream(lsn, i));
        count++;
      }
    }
    const other = EventIdentity.of(SYSTEM, 'slot2');
    const otherCluster = EventIdentity.of('7301234567890123457', 'slot1');
    for (let i = 0; i < 5000; i++) {
      seen.add(other.stream(0x1a8e_0000n, i));
      seen.add(otherCluster.stream(0x1a8e_0000n, i));
      count += 2;
    }
    expect(seen.size).toBe(count);
    // The LSN's halves are not interchangeable.
    expect(identity.stream(0x0000_0001_0000_0002n, 0)).not.toBe(identity.stream(0x0000_0002_0000_0001n, 0));
  });

  test('version 8, RFC 9562 variant, and each of the 122 other bits set about half the time', () => {
    const ones = new Array<number>(128).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const uuid = identity.stream(0x1a8e94f0n + BigInt(i >> 4), i & 15);
      expect(uuid).toMatch(V8);
      const bytes = Buffer.from(uuid.replaceAll('-', ''), 'hex');
      for (let bit = 0; bit < 128; bit++) if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) ones[bit]!++;
    }
    const fixed = new Map([[48, 1], [49, 0], [50, 0], [51, 0], [64, 1], [65, 0]]);
    for (let bit = 0; bit < 128; bit++) {
      const expected = fixed.get(bit);
      if (expected !== undefined) expect({ bit, share: ones[bit]! / n }).toEqual({ bit, share: expected });
      // 20,000 fair coins: within ±3.5% of a half is beyond 9 standard deviations.
      else expect({ bit, balanced: Math.abs(ones[bit]! / n - 0.5) < 0.035 }).toEqual({ bit, balanced: true });
    }
  });
});

describe('snapshot rows: (snapshot, row key)', () => {
  const identity = EventIdentity.of(SYSTEM, 'slot1');
  const snapshot = identity.snapshot('initial', '2026-12-07T02:17:00.000Z');

  test('the first 16 bytes of SHA-256(N ‖ "snapshot" 0 id 0 createdAt 0 rowKey) as a v8 UUID; known vector', () => {
    const key = '["public.orders",42]';
    const digest = createHash('sha256').update(identity.namespace).update('snapshot\0initial\0' + '2026-12-07T02:17:00.000Z\0').update(key).digest();
    expect(snapshot.uuid(utf8.encode(key))).toBe(uuidV8(digest.subarray(0, 16)));
    expect(snapshot.uuid(utf8.encode(key))).toBe('2bbfc449-3dbf-8023-93da-d0b9ce879d98');
  });

  test('deterministic, distinct per key, snapshot and creation time; long keys too', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `["public.orders",${i}]`).concat(['["public.t","' + 'x'.repeat(5000) + '"]', '["public.t","' + 'x'.repeat(5001) + '"]']);
    const uuids = keys.map((k) => snapshot.uuid(utf8.encode(k)));
    expect(new Set(uuids).size).toBe(keys.length);
    expect(uuids.every((u) => V8.test(u))).toBe(true);
    // After a long key the buffer grew: short keys still hash the same.
    expect(snapshot.uuid(utf8.encode(keys[0]!))).toBe(uuids[0]!);
    expect(identity.snapshot('initial', '2026-12-07T02:17:00.000Z').uuid(utf8.encode(keys[1]!))).toBe(uuids[1]!);
    expect(identity.snapshot('initial', '2026-12-08T00:00:00.000Z').uuid(utf8.encode(keys[0]!))).not.toBe(uuids[0]!);
    expect(identity.snapshot('s-20261207-021700-3f2a', '2026-12-07T02:17:00.000Z').uuid(utf8.encode(keys[0]!))).not.toBe(uuids[0]!);
    expect(EventIdentity.of(SYSTEM, 'slot2').snapshot('initial', '2026-12-07T02:17:00.000Z').uuid(utf8.encode(keys[0]!))).not.toBe(uuids[0]!);
  });

  test('write() takes the key from a range of a larger buffer', () => {
    const chunk = utf8.encode('xx["public.orders",42]yy');
    const buf = new Uint8Array(36);
    snapshot.write(buf, 0, chunk, 2, chunk.length - 2);
    expect(new TextDecoder().decode(buf)).toBe('2bbfc449-3dbf-8023-93da-d0b9ce879d98');
  });
});
