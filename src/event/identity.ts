/**
 * Event identity: the event `UUID` as a function of what the event is, not of its delivery, so a
 * change delivered twice (crash, retry, replay) carries the same UUID both times. The derivation is
 * specified in docs/kafka.md, "Event identity (UUID)"; this module is its implementation. Pure.
 *
 * - Source namespace N: the first 16 bytes of
 *   SHA-256("psql-streamer/postgres" 0x00 systemId 0x00 slot), once per replication session.
 * - Stream event (commit LSN, index in its transaction): MurmurHash3_x86_128, seed 0, of the
 *   28 bytes N ‖ commitLsn (uint64 little-endian) ‖ txIndex (uint32 little-endian). N is exactly one
 *   of the hash's 16-byte blocks, so its state after N is computed once; per event only the 12-byte
 *   tail and the finalization remain (a few dozen integer operations, no allocation). For a given N
 *   the hash is injective in (commitLsn, txIndex): each tail word enters its own lane through a
 *   bijection and the finalization is a bijection of the 128-bit state.
 * - Snapshot row: the first 16 bytes of
 *   SHA-256(N ‖ "snapshot" 0x00 snapshotId 0x00 createdAt 0x00 rowKey), createdAt being the
 *   snapshot's creation time as its record keeps it and rowKey the row's Kafka key JSON
 *   (`["public.orders",42]`, event/key.ts). SHA-256 here because key values are user data of any
 *   length (MurmurHash3 is no defence against crafted collisions).
 *
 * The 16 bytes become an RFC 9562 version-8 UUID: the high nibble of byte 6 is set to 8 and the two
 * high bits of byte 8 to 10 (the variant), leaving 122 bits of the hash; written as lowercase hex
 * with hyphens (8-4-4-4-12).
 */
import { createHash } from 'node:crypto';
import { copyBytes } from '../core/bytes.ts';

/** Length of a UUID's text form. */
export const UUID_TEXT_LENGTH = 36;

const NAMESPACE_LABEL = 'psql-streamer/postgres';
const SNAPSHOT_LABEL = 'snapshot';
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const latin1 = new TextDecoder('latin1');
const utf8 = new TextEncoder();

// MurmurHash3_x86_128 (Austin Appleby, public domain): constants and the 32-bit helpers.
const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function readUint32LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** MurmurHash3_x86_128's body: the 16-byte block at bytes[at] mixed into the state h (h1..h4). */
function mixBlock(h: Int32Array, bytes: Uint8Array, at: number): void {
  let h1 = h[0]!;
  let h2 = h[1]!;
  let h3 = h[2]!;
  let h4 = h[3]!;
  h1 ^= Math.imul(rotl(Math.imul(readUint32LE(bytes, at), C1), 15), C2);
  h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
  h2 ^= Math.imul(rotl(Math.imul(readUint32LE(bytes, at + 4), C2), 16), C3);
  h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
  h3 ^= Math.imul(rotl(Math.imul(readUint32LE(bytes, at + 8), C3), 17), C4);
  h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
  h4 ^= Math.imul(rotl(Math.imul(readUint32LE(bytes, at + 12), C4), 18), C1);
  h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  h[0] = h1;
  h[1] = h2;
  h[2] = h3;
  h[3] = h4;
}

/** The 16 bytes of MurmurHash3_x86_128(bytes, seed): h1‖h2‖h3‖h4, each little-endian (the reference code's output on x86). */
export function murmur3x86_128(bytes: Uint8Array, seed = 0): Uint8Array {
  const h = new Int32Array(4).fill(seed | 0);
  const length = bytes.length;
  const blocks = length - (length & 15);
  for (let i = 0; i < blocks; i += 16) mixBlock(h, bytes, i);
  // The tail: up to 15 bytes, little-endian into k1..k4 (a missing byte is 0).
  const tail = length & 15;
  if (tail > 0) {
    const k = [0, 0, 0, 0];
    for (let i = 0; i < tail; i++) k[i >> 2]! |= bytes[blocks + i]! << ((i & 3) * 8);
    if (tail > 12) h[3]! ^= Math.imul(rotl(Math.imul(k[3]!, C4), 18), C1);
    if (tail > 8) h[2]! ^= Math.imul(rotl(Math.imul(k[2]!, C3), 17), C4);
    if (tail > 4) h[1]! ^= Math.imul(rotl(Math.imul(k[1]!, C2), 16), C3);
    h[0]! ^= Math.imul(rotl(Math.imul(k[0]!, C1), 15), C2);
  }
  finalize(h, length);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (h[i >> 2]! >>> ((i & 3) * 8)) & 0xff;
  return out;
}

/** MurmurHash3_x86_128's finalization of the state h (h1..h4) after `length` bytes, in place. */
function finalize(h: Int32Array, length: number): void {
  let h1 = h[0]! ^ length;
  let h2 = h[1]! ^ length;
  let h3 = h[2]! ^ length;
  let h4 = h[3]! ^ length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h[0] = h1;
  h[1] = (h2 + h1) | 0;
  h[2] = (h3 + h1) | 0;
  h[3] = (h4 + h1) | 0;
}

/** The source namespace N of a PostgreSQL source: from IDENTIFY_SYSTEM's system identifier (decimal text) and the slot name. */
export function sourceNamespace(systemId: string, slot: string): Uint8Array {
  const digest = createHash('sha256').update(`${NAMESPACE_LABEL}\0${systemId}\0${slot}`, 'utf8').digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, 16).slice();
}

/** Writes 16 bytes as a version-8 UUID's text at buf[at] (36 bytes); returns the end. */
export function writeUuidV8(buf: Uint8Array, at: number, bytes: Uint8Array): number {
  return writeUuidWords(buf, at,
    readUint32LE(bytes, 0) | 0, readUint32LE(bytes, 4) | 0, readUint32LE(bytes, 8) | 0, readUint32LE(bytes, 12) | 0);
}

/** The version-8 UUID text of 16 bytes. */
export function uuidV8(bytes: Uint8Array): string {
  const buf = new Uint8Array(UUID_TEXT_LENGTH);
  writeUuidV8(buf, 0, bytes);
  return latin1.decode(buf);
}

/**
 * Writes the UUID of the 16 bytes w1‖w2‖w3‖w4 (each word little-endian) at buf[at], with the
 * version-8 and variant bits set; returns the end.
 */
function writeUuidWords(buf: Uint8Array, at: number, w1: number, w2: number, w3: number, w4: number): number {
  at = writeHexLE(buf, at, w1, 4);
  buf[at++] = 45; // '-'
  at = writeHexLE(buf, at, w2, 2);
  buf[at++] = 45;
  // Bytes 6-7 (byte 6 first): version 8 in byte 6's high nibble.
  at = writeHexLE(buf, at, ((w2 >>> 16) & 0xff0f) | 0x80, 2);
  buf[at++] = 45;
  // Bytes 8-9: variant 10 in byte 8's two high bits.
  at = writeHexLE(buf, at, (w3 & 0xff3f) | 0x80, 2);
  buf[at++] = 45;
  at = writeHexLE(buf, at, w3 >>> 16, 2);
  return writeHexLE(buf, at, w4, 4);
}

/** The low `count` bytes of `word`, least significant first, as hex. */
function writeHexLE(buf: Uint8Array, at: number, word: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const v = (word >>> (i * 8)) & 0xff;
    buf[at++] = HEX[v >> 4]!;
    buf[at++] = HEX[v & 15]!;
  }
  return at;
}

/**
 * The identities of one source's events (one namespace). Stream events: from (commit LSN,
 * txIndex); snapshot rows: from (snapshot id, row key).
 */
export class EventIdentity {
  readonly namespace: Uint8Array;
  // MurmurHash3_x86_128 state after its first block, N.
  private readonly s1: number;
  private readonly s2: number;
  private readonly s3: number;
  private readonly s4: number;
  private readonly scratch = new Uint8Array(UUID_TEXT_LENGTH);
  /** The hash state of the event at hand (no allocation per event). */
  private readonly state = new Int32Array(4);

  constructor(namespace: Uint8Array) {
    if (namespace.length !== 16) throw new RangeError(`an event namespace is 16 bytes, not ${namespace.length}`);
    this.namespace = namespace;
    const h = this.state;
    mixBlock(h, namespace, 0);
    this.s1 = h[0]!;
    this.s2 = h[1]!;
    this.s3 = h[2]!;
    this.s4 = h[3]!;
  }

  /** The namespace of a PostgreSQL source (sourceNamespace). */
  static of(systemId: string, slot: string): EventIdentity {
    return new EventIdentity(sourceNamespace(systemId, slot));
  }

  /**
   * Writes the UUID text of the stream event (commit LSN lsnHigh·2^32 + lsnLow, txIndex) at buf[at];
   * returns the end. The hot path: the LSN comes as its two 32-bit halves (see lsnHalves).
   */
  writeStream(buf: Uint8Array, at: number, lsnLow: number, lsnHigh: number, txIndex: number): number {
    // MurmurHash3_x86_128's 12-byte tail: k1 = LSN low, k2 = LSN high, k3 = txIndex; length 28.
    const h = this.state;
    h[0] = this.s1 ^ Math.imul(rotl(Math.imul(lsnLow, C1), 15), C2);
    h[1] = this.s2 ^ Math.imul(rotl(Math.imul(lsnHigh, C2), 16), C3);
    h[2] = this.s3 ^ Math.imul(rotl(Math.imul(txIndex, C3), 17), C4);
    h[3] = this.s4;
    finalize(h, 28);
    return writeUuidWords(buf, at, h[0]!, h[1]!, h[2]!, h[3]!);
  }

  /** The UUID of the stream event (commitLsn, txIndex). */
  stream(commitLsn: bigint, txIndex: number): string {
    const [low, high] = lsnHalves(commitLsn);
    this.writeStream(this.scratch, 0, low, high, txIndex);
    return latin1.decode(this.scratch);
  }

  /** The rows of one snapshot (its id and creation time, as its record keeps them). */
  snapshot(snapshotId: string, createdAt: string): SnapshotIdentity {
    return new SnapshotIdentity(this.namespace, snapshotId, createdAt);
  }
}

/** The identities of one snapshot's rows: from each row's key (its Kafka key JSON, event/key.ts). */
export class SnapshotIdentity {
  /** What every row's hash input starts with, followed by the row key of the row at hand. */
  private input: Uint8Array;
  /** Views of `input` by length: rows' keys have few lengths, and a view costs more than a hash block. */
  private views: (Uint8Array | undefined)[] = [];
  private readonly prefixLength: number;
  private readonly digest = new Uint8Array(32);

  constructor(namespace: Uint8Array, snapshotId: string, createdAt: string) {
    const label = utf8.encode(`${SNAPSHOT_LABEL}\0${snapshotId}\0${createdAt}\0`);
    this.prefixLength = namespace.length + label.length;
    this.input = new Uint8Array(this.prefixLength + 256);
    this.input.set(namespace);
    this.input.set(label, namespace.length);
  }

  /** Writes the UUID text of the row whose key JSON is rowKey[start, end) at buf[at]; returns the end. */
  write(buf: Uint8Array, at: number, rowKey: Uint8Array, start = 0, end = rowKey.length): number {
    const length = this.prefixLength + end - start;
    if (length > this.input.length) {
      const bigger = new Uint8Array(length * 2);
      bigger.set(this.input.subarray(0, this.prefixLength));
      this.input = bigger;
      this.views = [];
    }
    copyBytes(this.input, this.prefixLength, rowKey, start, end);
    const view = this.views[length] ?? (this.views[length] = this.input.subarray(0, length));
    // One native call (a node:crypto Hash per row costs about twice as much).
    Bun.SHA256.hash(view, this.digest);
    return writeUuidV8(buf, at, this.digest);
  }

  /** The UUID of the row whose key JSON (UTF-8) is rowKey. */
  uuid(rowKey: Uint8Array): string {
    const buf = new Uint8Array(UUID_TEXT_LENGTH);
    this.write(buf, 0, rowKey);
    return latin1.decode(buf);
  }
}

/** An LSN (uint64) as its low and high 32-bit halves, as writeStream takes it. */
export function lsnHalves(lsn: bigint): [number, number] {
  return [Number(lsn & 0xffffffffn) | 0, Number((lsn >> 32n) & 0xffffffffn) | 0];
}
