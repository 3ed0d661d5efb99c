/**
 * From a produce request's messages (sink-message.ts's takeChunk) to one record batch per partition
 * (record-batch.ts), compressed as a whole when the sink's `compression` asks. Pure apart from the
 * codec it is given.
 */
import { encodeCompressedRecordBatch, encodeRecordBatch, encodeRecords } from './record-batch.ts';
import type { OutMessage } from './sink-message.ts';
import type { PartitionBatch } from './sink-transport.ts';

/** A codec for the records section: its code in the batch attributes and how to compress. */
export interface Compressor {
  readonly code: number;
  compress(records: Buffer): Buffer | Promise<Buffer>;
}

/** One batch per partition of `chunk`, each partition's messages in chunk order; partitions in order of first appearance. */
export async function partitionBatches(chunk: readonly OutMessage[], timestampMs: number, compressor?: Compressor): Promise<PartitionBatch[]> {
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
  for (const [partitionKey, messages] of groups) {
    const { topic, partition } = messages[0] as OutMessage;
    let batch: Buffer;
    if (compressor === undefined) {
      batch = encodeRecordBatch(messages, timestampMs);
    } else {
      const records = encodeRecords(messages);
      const compressed = await compressor.compress(Buffer.from(records.buffer, records.byteOffset, records.length));
      batch = encodeCompressedRecordBatch(compressed, messages.length, compressor.code, timestampMs);
    }
    batches.push({ topic, partition, partitionKey, batch });
  }
  return batches;
}
