/**
 * Random (version 4) UUIDs written straight as their lowercase hex text, from a pool of random
 * bytes refilled 4 KiB at a time from the same CSPRNG as crypto.randomUUID: no string per event.
 * Only for the events that have no identity to derive one from (identity.ts; docs/kafka.md,
 * "Event identity (UUID)": snapshot rows without their key columns).
 */
const pool = new Uint8Array(4096);
let poolAt = pool.length;
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** Writes a v4 UUID (36 ASCII bytes, e.g. `0f8fad5b-d9cb-469f-a165-70867728950e`) at buf[at]; returns the end. */
export function writeUuidV4(buf: Uint8Array, at: number): number {
  if (poolAt + 16 > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  for (let i = 0; i < 16; i++) {
    let v = pool[poolAt + i]!;
    if (i === 6) v = (v & 0x0f) | 0x40; // version 4
    else if (i === 8) v = (v & 0x3f) | 0x80; // RFC 4122 variant
    if (i === 4 || i === 6 || i === 8 || i === 10) buf[at++] = 45; // '-'
    buf[at++] = HEX[v >> 4]!;
    buf[at++] = HEX[v & 15]!;
  }
  poolAt += 16;
  return at;
}
