/**
 * From a produce request's messages (message.ts's takeChunk) to one record batch per partition
 * (record-batch.ts), compressed as a whole when the sink's `compression` asks. Pure apart from the
 * codec it is given.
 */
import { BATCH_HEADER_BYTES, encodeCompressedRecordBatch, encodeRecordBatchInto, encodeRecords, recordsBytes, type ProducerStamp } from '../../kafka/protocol/record-batch.ts';
import type { OutMessage } from './message.ts';
import type { PartitionBatch } from './transport.ts';

/** A codec for the records section: its code in the batch attributes and how to compress. */
export interface Compressor {
  readonly code: number;
  compress(records: Buffer): Buffer | Promise<Buffer>;
}

/**
 * Memory for the uncompressed batches of a request, reused from request to request: megabytes of
 * fresh memory per request cost about 0.3 µs per message in page faults (bench/kafka-sink.ts). A
 * buffer comes back only once its request was answered, so bytes that a connection may still be
 * sending are never overwritten.
 */
export class BatchMemory {
  private readonly free: Buffer[] = [];

  take(bytes: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= bytes);
    if (i >= 0) return this.free.splice(i, 1)[0] as Buffer;
    return Buffer.allocUnsafeSlow(Math.max(bytes, MIN_BUFFER_BYTES));
  }

  give(buffer: Buffer): void {
    if (this.free.length < MAX_FREE_BUFFERS) this.free.push(buffer);
  }
}

const MIN_BUFFER_BYTES = 4 * 2 ** 20;
/** Concurrent writes of one sink each take their own buffer; two kept are enough for the usual one at a time. */
const MAX_FREE_BUFFERS = 2;

/** The batches of one request, and the BatchMemory buffer they were written into (none when compressed). */
export interface RequestBatches {
  batches: PartitionBatch[];
  memory: Buffer | undefined;
}

/** Gives a transactional producer's fields for the next batch of `recordCount` records to a partition (partitionKey). */
export type Stamper = (partitionKey: string, recordCount: number) => ProducerStamp;

/**
 * One batch per partition of `chunk`, each partition's messages in chunk order; partitions in order
 * of first appearance. `stamp`, when given, is asked once per batch, in that order.
 */
export async function partitionBatches(
  chunk: readonly OutMessage[], timestampMs: number, memory: BatchMemory, compressor?: Compressor, stamp?: Stamper,
): Promise<RequestBatches> {
  const groups = new Map<string, OutMessage[]>();
  // Consecutive messages often share their partition: one map look-up per run.
  let runKey = '';
  let run: OutMessage[] | undefined;
  for (const message of chunk) {
    const key = message.partitionKey;
    if (key !== runKey || run === undefined) {
      runKey = key;
      run = groups.get(key);
      if (run === undefined) groups.set(key, (run = []));
    }
    run.push(message);
  }
  const batches: PartitionBatch[] = [];
  if (compressor === undefined) {
    const payloads: number[] = [];
    let bytes = 0;
    for (const messages of groups.values()) {
      const payload = recordsBytes(messages);
      payloads.push(payload);
      bytes += BATCH_HEADER_BYTES + payload;
    }
    const buffer = memory.take(bytes);
    let at = 0;
    for (const [partitionKey, messages] of groups) {
      const { topic, partition } = messages[0] as OutMessage;
      const batch = encodeRecordBatchInto(buffer.subarray(at), messages, timestampMs, payloads[batches.length], stamp?.(partitionKey, messages.length));
      at += batch.length;
      batches.push({ topic, partition, partitionKey, batch });
    }
    return { batches, memory: buffer };
  }
  for (const [partitionKey, messages] of groups) {
    const { topic, partition } = messages[0] as OutMessage;
    const records = encodeRecords(messages);
    const compressed = await compressor.compress(Buffer.from(records.buffer, records.byteOffset, records.length));
    const producer = stamp?.(partitionKey, messages.length);
    batches.push({ topic, partition, partitionKey, batch: encodeCompressedRecordBatch(compressed, messages.length, compressor.code, timestampMs, producer) });
  }
  return { batches, memory: undefined };
}
