/**
 * The Kafka sink's pure encoders against the protocol: CRC-32C test vectors (RFC 3720 B.4), zig-zag
 * varints, the record batch (magic v2) byte by byte, and the library's own reader decoding what we
 * write (uncompressed and compressed). The broker reading them: test/integration/kafka/sink*.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import { Reader, compressionsAlgorithms, crc32c as libraryCrc32c, readRecordsBatch } from '@platformatic/kafka';
import { crc32c } from '../../../../src/kafka/protocol/crc32c.ts';
import { messageHeaders } from '../../../../src/kafka/headers.ts';
import {
  BATCH_HEADER_BYTES, COMPRESSION_CODES, encodeCompressedRecordBatch, encodeHeaders, encodeRecordBatch, encodeRecords, varintBytes, writeVarint,
  type BatchRecord,
} from '../../../../src/kafka/protocol/record-batch.ts';

const b = (text: string) => Buffer.from(text);
const record = (key: string | undefined, value: string | undefined, headers: Array<[string, string]> = []): BatchRecord => ({
  key: key === undefined ? undefined : b(key),
  value: value === undefined ? undefined : b(value),
  headers: messageHeaders(headers.map(([k, v]) => [b(k), b(v)])),
});

describe('CRC-32C', () => {
  test('RFC 3720 B.4 vectors and "123456789"', () => {
    expect(crc32c(b('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  test('a range equals the CRC of the same bytes on their own, for every length around the 16-byte steps', () => {
    const data = Uint8Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff);
    for (let start = 0; start < 17; start++) {
      for (let end = start; end <= 70; end++) expect(crc32c(data, start, end)).toBe(crc32c(data.slice(start, end)));
    }
  });

  test('equals the Kafka client\'s CRC-32C on views at any offset of their buffer, for lengths up to a few KB', () => {
    const backing = Uint8Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24);
    for (const [offset, length] of [[0, 0], [1, 15], [3, 16], [5, 17], [7, 100], [13, 1023], [2, 4096], [11, 4987]] as const) {
      const view = backing.subarray(offset, offset + length);
      expect(crc32c(view)).toBe(libraryCrc32c(Buffer.from(view)) >>> 0);
      expect(crc32c(backing, offset, offset + length)).toBe(crc32c(view));
    }
  });
});

describe('varints (zig-zag, 7 bits a byte, low group first)', () => {
  const cases: Array<[number, number[]]> = [
    [0, [0x00]], [-1, [0x01]], [1, [0x02]], [-2, [0x03]], [63, [0x7e]], [-64, [0x7f]], [64, [0x80, 0x01]], [300, [0xd8, 0x04]],
    [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]], [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [n, bytes] of cases) {
    test(`${n}`, () => {
      const out = new Uint8Array(8);
      expect(writeVarint(out, 1, n)).toBe(1 + bytes.length);
      expect([...out.subarray(1, 1 + bytes.length)]).toEqual(bytes);
      expect(varintBytes(n)).toBe(bytes.length);
    });
  }
});

test('headers section: count, then name and value each with its length', () => {
  expect([...encodeHeaders([[b('h'), b('xy')], [b('ab'), b('')]])]).toEqual([0x04, 0x02, 0x68, 0x04, 0x78, 0x79, 0x04, 0x61, 0x62, 0x00]);
  expect([...encodeHeaders([])]).toEqual([0x00]);
});

describe('record batch', () => {
  test('header fields, CRC and records byte by byte', () => {
    const ts = 1_764_000_000_123;
    const batch = encodeRecordBatch([record('k', 'v', [['h', 'x']]), record(undefined, undefined)], ts);
    const view = new DataView(batch.buffer, batch.byteOffset, batch.length);
    expect(view.getBigInt64(0)).toBe(0n); // baseOffset
    expect(view.getInt32(8)).toBe(batch.length - 12); // batchLength
    expect(view.getInt32(12)).toBe(-1); // partitionLeaderEpoch
    expect(view.getInt8(16)).toBe(2); // magic
    expect(view.getUint32(17)).toBe(crc32c(batch.subarray(21)));
    expect(view.getInt16(21)).toBe(0); // attributes: no compression, CreateTime
    expect(view.getInt32(23)).toBe(1); // lastOffsetDelta
    expect(view.getBigInt64(27)).toBe(BigInt(ts)); // baseTimestamp
    expect(view.getBigInt64(35)).toBe(BigInt(ts)); // maxTimestamp
    expect(view.getBigInt64(43)).toBe(-1n); // producerId
    expect(view.getInt16(51)).toBe(-1); // producerEpoch
    expect(view.getInt32(53)).toBe(-1); // baseSequence
    expect(view.getInt32(57)).toBe(2); // records
    expect([...batch.subarray(BATCH_HEADER_BYTES)]).toEqual([
      // length 12 | attributes | timestampDelta 0 | offsetDelta 0 | key "k" | value "v" | 1 header "h" = "x"
      0x18, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x02, 0x76, 0x02, 0x02, 0x68, 0x02, 0x78,
      // length 6 | attributes | timestampDelta 0 | offsetDelta 1 | key null | value null | no headers
      0x0c, 0x00, 0x00, 0x02, 0x01, 0x01, 0x00,
    ]);
  });

  test('the library reads back what we write: keys, values, headers, offsets, large values', () => {
    const big = 'x'.repeat(70_000); // lengths of 3-byte varints
    const records = [record('["public.users",1]', '{"a":1}', [['psql-streamer-source', 'db1'], ['psql-streamer-action', 'insert']]), record(undefined, big), record('é', undefined)];
    const decoded = readRecordsBatch(Reader.from(encodeRecordBatch(records, 42)));
    expect(decoded.magic).toBe(2);
    expect(decoded.firstTimestamp).toBe(42n);
    expect(decoded.records.map((r) => [r.offsetDelta, r.timestampDelta, r.key?.toString() ?? null, r.value?.toString().length ?? null, r.headers.map(([k, v]) => `${k}=${v}`)])).toEqual([
      [0, 0n, '["public.users",1]', 7, ['psql-streamer-source=db1', 'psql-streamer-action=insert']],
      [1, 0n, null, 70_000, []],
      [2, 0n, 'é', null, []],
    ]);
  });

  test('a key given as a range of a larger buffer is written as those bytes alone', () => {
    const chunk = new TextEncoder().encode('{"line":1}["public.users",1]{"next":2}');
    const [start, end] = [10, 28];
    const ranged = { key: chunk, keyStart: start, keyEnd: end, value: new TextEncoder().encode('{"a":1}'), headers: { encoded: new Uint8Array([0]) } };
    const alone = { ...ranged, key: chunk.slice(start, end), keyStart: undefined, keyEnd: undefined };
    expect(encodeRecordBatch([ranged, ranged], 42)).toEqual(encodeRecordBatch([alone, alone], 42));
    const decoded = readRecordsBatch(Reader.from(encodeRecordBatch([ranged], 42)));
    expect(decoded.records[0]!.key?.toString()).toBe('["public.users",1]');
  });

  test('a transactional producer\'s batch: producer id, epoch, base sequence and attribute bit 4, under the CRC', () => {
    const stamp = { producerId: 4242n, producerEpoch: 7, baseSequence: 1000, transactional: true };
    const batch = encodeRecordBatch([record('k', 'v'), record('k2', 'v2')], 42, stamp);
    expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21)));
    const decoded = readRecordsBatch(Reader.from(batch));
    expect([decoded.producerId, decoded.producerEpoch, decoded.firstSequence, decoded.attributes]).toEqual([4242n, 7, 1000, 0x10]);
    const compressed = encodeCompressedRecordBatch(compressionsAlgorithms.gzip.compressSync(Buffer.from(encodeRecords([record('k', 'v')]))), 1, COMPRESSION_CODES.gzip!, 1, stamp);
    expect(readRecordsBatch(Reader.from(compressed)).attributes).toBe(0x10 | COMPRESSION_CODES.gzip!);
    const plain = readRecordsBatch(Reader.from(encodeRecordBatch([record('k', 'v')], 42)));
    expect([plain.producerId, plain.producerEpoch, plain.firstSequence, plain.attributes]).toEqual([-1n, -1, -1, 0]);
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    test(`compressed (${codec}): attributes name the codec, the library decompresses the records`, () => {
      const records = Array.from({ length: 50 }, (_, i) => record(`k${i}`, `{"i":${i},"pad":"${'p'.repeat(100)}"}`, [['n', String(i)]]));
      const algorithm = compressionsAlgorithms[codec];
      const compressed = algorithm.compressSync(Buffer.from(encodeRecords(records)));
      const batch = encodeCompressedRecordBatch(compressed, records.length, COMPRESSION_CODES[codec]!, 7);
      expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21)));
      const decoded = readRecordsBatch(Reader.from(batch));
      expect(decoded.attributes & 7).toBe(COMPRESSION_CODES[codec]!);
      expect(decoded.lastOffsetDelta).toBe(49);
      expect(decoded.records.map((r) => r.key?.toString())).toEqual(records.map((r) => r.key!.toString()));
      expect(decoded.records[49]!.headers.map(([k, v]) => `${k}=${v}`)).toEqual(['n=49']);
    });
  }
});
