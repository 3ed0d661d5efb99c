/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of a Kafka record batch (magic
 * v2), pure. Slicing-by-16: sixteen 256-entry tables, sixteen bytes per step, read as four
 * little-endian 32-bit words through a DataView. Every byte the Kafka sink writes passes here, so
 * speed matters: in Bun this runs at about 2 GB/s, 1.35× the slicing-by-8 with byte loads it replaced
 * (docs/benchmarks.md, "Snapshot to Kafka: the sink's CPU per row").
 */

const POLY = 0x82f63b78;
const SLICES = 16;

/** Table t maps a byte to the CRC of that byte followed by t zero bytes; all sixteen in one array, table t at t * 256. */
const TABLE: Int32Array = (() => {
  const table = new Int32Array(SLICES * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n] as number;
    for (let t = 1; t < SLICES; t++) {
      c = (table[c & 0xff] as number) ^ (c >>> 8);
      table[t * 256 + n] = c;
    }
  }
  return table;
})();

/** CRC-32C of `data[start, end)` as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  const T = TABLE;
  let crc = -1;
  let i = start;
  const end16 = start + ((end - start) & ~15);
  if (i < end16) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    while (i < end16) {
      const a = crc ^ view.getInt32(i, true);
      const b = view.getInt32(i + 4, true);
      const c = view.getInt32(i + 8, true);
      const d = view.getInt32(i + 12, true);
      crc =
        T[3840 + (a & 0xff)]! ^ T[3584 + ((a >>> 8) & 0xff)]! ^ T[3328 + ((a >>> 16) & 0xff)]! ^ T[3072 + (a >>> 24)]! ^
        T[2816 + (b & 0xff)]! ^ T[2560 + ((b >>> 8) & 0xff)]! ^ T[2304 + ((b >>> 16) & 0xff)]! ^ T[2048 + (b >>> 24)]! ^
        T[1792 + (c & 0xff)]! ^ T[1536 + ((c >>> 8) & 0xff)]! ^ T[1280 + ((c >>> 16) & 0xff)]! ^ T[1024 + (c >>> 24)]! ^
        T[768 + (d & 0xff)]! ^ T[512 + ((d >>> 8) & 0xff)]! ^ T[256 + ((d >>> 16) & 0xff)]! ^ T[d >>> 24]!;
      i += 16;
    }
  }
  while (i < end) crc = T[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
