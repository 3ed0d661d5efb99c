/**
 * Kafka record batches (message format v2, "magic 2"), pure: what a Produce request carries per
 * partition. Layout (Kafka protocol guide, "Record Batch"; all integers big-endian):
 *
 *   baseOffset int64 (0) | batchLength int32 (bytes after this field) | partitionLeaderEpoch int32 (-1)
 *   | magic int8 (2) | crc uint32 (CRC-32C of everything after it) | attributes int16 (bits 0-2
 *   compression) | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64
 *   | producerId int64 (-1) | producerEpoch int16 (-1) | baseSequence int32 (-1) | recordCount int32
 *   | records (compressed as one block when attributes say so)
 *
 *   record: length varint | attributes int8 (0) | timestampDelta varlong | offsetDelta varint
 *   | keyLength varint (-1: null) | key | valueLength varint (-1: null) | value
 *   | headerCount varint | per header: nameLength varint | name | valueLength varint | value
 *
 * varint/varlong are zig-zag encoded, 7 bits per byte, least significant group first. Every record
 * of a batch gets the batch's timestamp (delta 0), as the Kafka client did per request. Without
 * producer id, epoch and sequence (-1) the batch is not idempotent; the brokers assign offsets. A
 * transactional producer's batch carries its producer id, epoch and the partition's next sequence
 * number, and attribute bit 4 (isTransactional): read_committed consumers see it only once the
 * transaction commits (docs/kafka.md, "Exactly once").
 */
import { copyBytes } from '../../core/bytes.ts';
import { crc32c } from './crc32c.ts';

/**
 * What a record batch needs of one message. `headers` is the record's encoded headers section
 * (encodeHeaders()). The key is `key` whole, or key[keyStart, keyEnd) when both are set.
 */
export interface BatchRecord {
  readonly key: Uint8Array | undefined;
  readonly keyStart?: number;
  readonly keyEnd?: number;
  readonly value: Uint8Array | undefined;
  readonly headers: { readonly encoded: Uint8Array };
}

/** The producer fields of an idempotent or transactional batch. */
export interface ProducerStamp {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** Sequence number of the batch's first record in its partition for this producer id and epoch. */
  readonly baseSequence: number;
  readonly transactional: boolean;
}

/** Attribute bit 4: the batch belongs to a transaction. */
const TRANSACTIONAL_ATTRIBUTE = 0x10;

/** Bytes of the batch header, from baseOffset to recordCount. */
export const BATCH_HEADER_BYTES = 61;
const MAGIC = 2;
/** Offset of the CRC and of the first byte it covers (attributes). */
const CRC_OFFSET = 17;
const CRC_START = 21;

/** Compression codes of the attributes' bits 0-2. */
export const COMPRESSION_CODES: Readonly<Record<string, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** Bytes of a zig-zag varint of a signed 32-bit integer. */
export function varintBytes(n: number): number {
  const z = ((n << 1) ^ (n >> 31)) >>> 0;
  return z < 0x80 ? 1 : z < 0x4000 ? 2 : z < 0x200000 ? 3 : z < 0x10000000 ? 4 : 5;
}

/** Writes a zig-zag varint of a signed 32-bit integer at `pos`; returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  while (z >= 0x80) {
    out[pos++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  out[pos++] = z;
  return pos;
}

/** Bytes of a length-prefixed field (varint length, then the bytes; -1 for null). */
function fieldBytes(bytes: Uint8Array | undefined): number {
  return bytes === undefined ? 1 : varintBytes(bytes.length) + bytes.length;
}

/** The headers section of a record: count, then each name and value with their lengths. Header values are never null here. */
export function encodeHeaders(pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Uint8Array {
  let size = varintBytes(pairs.length);
  for (const [name, value] of pairs) size += fieldBytes(name) + fieldBytes(value);
  const out = new Uint8Array(size);
  let pos = writeVarint(out, 0, pairs.length);
  for (const [name, value] of pairs) {
    pos = writeVarint(out, pos, name.length);
    out.set(name, pos);
    pos = writeVarint(out, pos + name.length, value.length);
    out.set(value, pos);
    pos += value.length;
  }
  return out;
}

/** Bytes of a record's key: key[keyStart, keyEnd), or all of it. */
function keyLength(record: BatchRecord, key: Uint8Array): number {
  return record.keyEnd === undefined ? key.length : record.keyEnd - (record.keyStart ?? 0);
}

/** Bytes of one record after its length prefix. */
function recordBodyBytes(record: BatchRecord, offsetDelta: number): number {
  // attributes + timestampDelta (0: one byte) + offsetDelta + key + value + headers
  const key = record.key;
  const keyBytes = key === undefined ? 0 : keyLength(record, key);
  const keyField = key === undefined ? 1 : varintBytes(keyBytes) + keyBytes;
  return 2 + varintBytes(offsetDelta) + keyField + fieldBytes(record.value) + record.headers.encoded.length;
}

/** Bytes of the records section of `records` (uncompressed). */
export function recordsBytes(records: readonly BatchRecord[]): number {
  let size = 0;
  for (let i = 0; i < records.length; i++) {
    const body = recordBodyBytes(records[i] as BatchRecord, i);
    size += varintBytes(body) + body;
  }
  return size;
}

/** Writes the records section at `pos`; returns the position after it. */
function writeRecords(out: Uint8Array, pos: number, records: readonly BatchRecord[]): number {
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as BatchRecord;
    pos = writeVarint(out, pos, recordBodyBytes(record, i));
    out[pos++] = 0; // attributes
    out[pos++] = 0; // timestampDelta
    pos = writeVarint(out, pos, i);
    const { key, value } = record;
    if (key === undefined) {
      out[pos++] = 1; // varint -1
    } else {
      const start = record.keyStart ?? 0;
      const end = record.keyEnd ?? key.length;
      pos = writeVarint(out, pos, end - start);
      copyBytes(out, pos, key, start, end);
      pos += end - start;
    }
    if (value === undefined) {
      out[pos++] = 1;
    } else {
      pos = writeVarint(out, pos, value.length);
      out.set(value, pos);
      pos += value.length;
    }
    const headers = record.headers.encoded;
    out.set(headers, pos);
    pos += headers.length;
  }
  return pos;
}

/** The records section of `records` on its own (what a compressed batch compresses). */
export function encodeRecords(records: readonly BatchRecord[]): Uint8Array {
  const out = new Uint8Array(recordsBytes(records));
  writeRecords(out, 0, records);
  return out;
}

/** Writes the batch header for `recordCount` records of `payloadBytes` bytes, then the CRC once the payload is in place. */
function writeHeader(out: Buffer, recordCount: number, payloadBytes: number, attributes: number, timestampMs: number, stamp: ProducerStamp | undefined): void {
  const view = new DataView(out.buffer, out.byteOffset, BATCH_HEADER_BYTES);
  const ts = BigInt(timestampMs);
  view.setBigInt64(0, 0n); // baseOffset
  view.setInt32(8, BATCH_HEADER_BYTES - 12 + payloadBytes); // batchLength
  view.setInt32(12, -1); // partitionLeaderEpoch
  view.setInt8(16, MAGIC);
  view.setInt16(21, stamp?.transactional ? attributes | TRANSACTIONAL_ATTRIBUTE : attributes);
  view.setInt32(23, recordCount - 1); // lastOffsetDelta
  view.setBigInt64(27, ts); // baseTimestamp
  view.setBigInt64(35, ts); // maxTimestamp
  view.setBigInt64(43, stamp?.producerId ?? -1n);
  view.setInt16(51, stamp?.producerEpoch ?? -1);
  view.setInt32(53, stamp?.baseSequence ?? -1);
  view.setInt32(57, recordCount);
}

function sealCrc(out: Buffer): void {
  out.writeUInt32BE(crc32c(out, CRC_START, out.length), CRC_OFFSET);
}

/** An uncompressed record batch of `records` (at least one), in one buffer. */
export function encodeRecordBatch(records: readonly BatchRecord[], timestampMs: number, stamp?: ProducerStamp): Buffer {
  const payload = recordsBytes(records);
  return encodeRecordBatchInto(Buffer.allocUnsafe(BATCH_HEADER_BYTES + payload), records, timestampMs, payload, stamp);
}

/**
 * Writes the uncompressed record batch of `records` at the start of `out` (recordBatchBytes() long
 * at least); returns it, cut to size. `payload` is recordsBytes(records), when already known.
 */
export function encodeRecordBatchInto(
  out: Buffer, records: readonly BatchRecord[], timestampMs: number, payload = recordsBytes(records), stamp?: ProducerStamp,
): Buffer {
  const batch = out.subarray(0, BATCH_HEADER_BYTES + payload);
  writeHeader(batch, records.length, payload, 0, timestampMs, stamp);
  writeRecords(batch, BATCH_HEADER_BYTES, records);
  sealCrc(batch);
  return batch;
}

/** A record batch around an already compressed records section (encodeRecords() compressed with the codec of `compressionCode`). */
export function encodeCompressedRecordBatch(
  compressed: Uint8Array, recordCount: number, compressionCode: number, timestampMs: number, stamp?: ProducerStamp,
): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length);
  writeHeader(out, recordCount, compressed.length, compressionCode & 0x7, timestampMs, stamp);
  out.set(compressed, BATCH_HEADER_BYTES);
  sealCrc(out);
  return out;
}
