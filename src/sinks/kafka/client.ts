/**
 * The Kafka client as the sink uses it: which of its calls, how long they may take and how retries
 * are spaced. Imports @platformatic/kafka, so it is loaded only with the sink (lazily, by spec.ts).
 */
import { Producer, compressionsAlgorithms } from '@platformatic/kafka';
import { kafkaConnectionOptions } from '../../kafka/client-options.ts';
import type { Compressor } from './record-batches.ts';
import type { KafkaSinkOptions } from './spec.ts';
import { BatchTransport, type PartitionBatch, type RequestOutcome } from './transport.ts';
import { TxnRequests } from './txn-requests.ts';

export type { PartitionBatch, RequestOutcome } from './transport.ts';

type LibraryProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

/**
 * What the sink uses of the Kafka client: the library's metadata, and either our record batches
 * (`produceBatches`) or, for an idempotent producer, the library's `send` (it keeps the producer id
 * and the per-partition sequence numbers, which our batches do not carry).
 */
export type KafkaProducer = Pick<LibraryProducer, 'send' | 'metadata' | 'clearMetadata' | 'close'> & {
  /**
   * Sends one record batch per partition, one request per leader; resolves with every request's
   * outcome, never rejects. `transactionalId`: the batches belong to that producer's open transaction.
   */
  produceBatches(batches: readonly PartitionBatch[], acks: number, transactionalId?: string | null): Promise<RequestOutcome[]>;
  /** The coordinator requests of a transactional producer (exactly-once), over this client's connections. */
  transactions(transactionalId: string, transactionTimeoutMs: number): TxnRequests;
};

/** The client's request timeout and how many times it retries a request itself. */
function clientTimings(options: KafkaSinkOptions): { requestTimeoutMs: number; clientRetries: number } {
  return {
    requestTimeoutMs: Math.max(2 * options.timeout, options.timeout + 1000),
    clientRetries: options.idempotent ? Math.max(2, options.maxAttempts - 1) : 0,
  };
}

/** Longest a client call may take before the sink gives up on it (withDeadline()). */
export function clientDeadlineMs(options: KafkaSinkOptions): number {
  const { requestTimeoutMs, clientRetries } = clientTimings(options);
  // Each attempt: connect, metadata, produce; plus the client's retry delays and some slack.
  return (clientRetries + 1) * (options.timeout + 2 * requestTimeoutMs) + clientRetries * 1000 + 5000;
}

/** A @platformatic/kafka producer configured from the sink's options. */
export function newProducer(options: KafkaSinkOptions): KafkaProducer {
  const { requestTimeoutMs, clientRetries } = clientTimings(options);
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...kafkaConnectionOptions(options, { connectTimeoutMs: options.timeout, requestTimeoutMs }),
    timeout: options.timeout,
    // The client's own retries re-send a whole broker request, partitions already acknowledged
    // included (duplicates); the sink retries only the partitions that failed (sink.ts's deliver()). An
    // idempotent producer's re-sends are deduplicated by the broker, so it may retry inside.
    retries: clientRetries,
    retryDelay: (_client, _operation, attempt) => retryDelayMs(attempt),
    repeatOnStaleMetadata: false,
    metadataMaxAge: options.rebalanceInterval,
    autocreateTopics: true,
    acks: options.requiredAcks,
    compression: options.compression as 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd',
    idempotent: options.idempotent,
  });
  const transport = new BatchTransport(producer, options.timeout);
  return Object.assign(producer, {
    produceBatches: (batches: readonly PartitionBatch[], acks: number, transactionalId?: string | null) => transport.produce(batches, acks, transactionalId ?? null),
    transactions: (transactionalId: string, transactionTimeoutMs: number) => new TxnRequests(producer, transactionalId, transactionTimeoutMs),
  });
}

/** Wait before retry `attempt` (1-based): 100 ms doubling up to 1 s, the original's kafka-go backoff. */
export function retryDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 1000);
}

/** The codec of `compression` for our record batches: the library's, so both paths compress alike; undefined for none. */
export function compressorFor(compression: string): Compressor | undefined {
  if (compression === 'none') return undefined;
  const algorithm = compressionsAlgorithms[compression as keyof typeof compressionsAlgorithms];
  if (algorithm === undefined || !algorithm.available) throw new Error(`compression "${compression}" is not available`);
  const compress = 'compress' in algorithm && typeof algorithm.compress === 'function' ? algorithm.compress : algorithm.compressSync;
  return { code: algorithm.bitmask, compress: (records) => compress(records) as Buffer | Promise<Buffer> };
}
