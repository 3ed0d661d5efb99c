/**
 * One produce request of the Kafka sink (sink.ts produce()): a chunk of messages sent as our own
 * record batches (record-batches.ts, transport.ts; in a transaction, stamped by it and carrying its
 * position record first), or through the library's `send` for idempotent producers. Returns the
 * partitions that failed, with why (outcome.ts); nothing here retries.
 */
import type { Compressor } from './record-batches.ts';
import { partitionBatches, type BatchMemory } from './record-batches.ts';
import type { KafkaProducer } from './client.ts';
import { messageKey, type OutMessage } from './message.ts';
import { produceOutcome, type PartitionFailure } from './outcome.ts';
import type { TransactionalProducer } from './transaction.ts';
import { PositionRecordFailed } from './txn-errors.ts';

/** What sending needs, fixed for the sink's life (made once by the sink). */
export interface ChunkSender {
  readonly producer: KafkaProducer;
  /** requiredAcks. */
  readonly acks: number;
  readonly batchMemory: BatchMemory;
  readonly compressor: Compressor | undefined;
  readonly component: string;
  /** The sink's deadline for a client call (sink.ts deadline()). */
  deadline<T>(call: Promise<T>, what: string): Promise<T>;
}

/**
 * Sends a chunk as our own record batches (in `txn`'s transaction when given); returns the
 * partitions that failed, with why. The transaction's first request also carries its position
 * record (transaction.ts positionBatch()): no message, so neither counted nor ever dead-lettered;
 * if it fails, the whole transaction does.
 */
export async function sendBatches(s: ChunkSender, chunk: OutMessage[], txn?: TransactionalProducer): Promise<Map<string, PartitionFailure> | undefined> {
  const timestampMs = Date.now();
  const { batches, memory } = await partitionBatches(chunk, timestampMs, s.batchMemory, s.compressor, txn?.stamp);
  const position = txn?.positionBatch(timestampMs);
  if (position !== undefined) batches.push(position);
  let outcomes;
  try {
    outcomes = await s.deadline(s.producer.produceBatches(batches, s.acks, txn?.transactionalId, txn?.protocol), `a produce request of ${chunk.length} message(s)`);
  } catch (err) {
    // The request may still be on its way: its memory is not reused.
    return produceOutcome(err, batches.map((b) => b.partitionKey)).failed;
  }
  if (memory !== undefined) s.batchMemory.give(memory);
  let failed: Map<string, PartitionFailure> | undefined;
  for (const outcome of outcomes) {
    if (outcome.error === undefined) continue;
    failed ??= new Map();
    for (const [key, failure] of produceOutcome(outcome.error, outcome.partitionKeys).failed) failed.set(key, failure);
  }
  const positionFailure = position === undefined ? undefined : failed?.get(position.partitionKey);
  if (positionFailure !== undefined) {
    throw new PositionRecordFailed(position!.topic, positionFailure, s.component);
  }
  return failed;
}

/** Sends a chunk through the library's `send` (idempotent producers); returns the partitions that failed, with why. */
export async function sendThroughLibrary(s: ChunkSender, chunk: OutMessage[]): Promise<Map<string, PartitionFailure> | undefined> {
  try {
    await s.deadline(s.producer.send({
      messages: chunk.map((m) => ({
        topic: m.topic,
        partition: m.partition,
        key: m.key === undefined ? undefined : asBuffer(messageKey(m)!),
        value: m.value === undefined ? undefined : asBuffer(m.value),
        headers: new Map(m.headers.pairs),
      })) as Parameters<KafkaProducer['send']>[0]['messages'],
      // Per send: @platformatic/kafka 2.12 ignores the producer-level `acks` and defaults to 1 (leader only).
      acks: s.acks,
      repeatOnStaleMetadata: false,
    }), `a produce request of ${chunk.length} message(s)`);
    return undefined;
  } catch (err) {
    return produceOutcome(err, new Set(chunk.map((m) => m.partitionKey))).failed;
  }
}

/** The same bytes as a Buffer, not copied. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
