/**
 * The Kafka client as the sink uses it: which of its calls, how long they may take and how retries
 * are spaced. Imports @platformatic/kafka, so it is loaded only with the sink (lazily, by spec.ts).
 */
import { Producer, compressionsAlgorithms } from '../../kafka/library/producer.ts';
import { kafkaConnectionOptions } from '../../kafka/client-options.ts';
import type { Compressor } from './record-batches.ts';
import type { KafkaSinkOptions } from './spec.ts';
import { BatchTransport, type PartitionBatch, type RequestOutcome } from './transport.ts';
import { TxnRequests } from './txn-requests.ts';
import { ensurePositionTopic, type PositionTopicState } from './position-log.ts';

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
   * outcome, never rejects. `transactionalId`: the batches belong to that producer's open transaction,
   * of transaction protocol `transactionProtocol` (2: Produce v12 adds the partitions, txn-v2.ts).
   */
  produceBatches(batches: readonly PartitionBatch[], acks: number, transactionalId?: string | null, transactionProtocol?: 1 | 2): Promise<RequestOutcome[]>;
  /** The coordinator requests of a transactional producer (exactly-once), over this client's connections. */
  transactions(transactionalId: string, transactionTimeoutMs: number): TxnRequests;
  /** Exactly-once: creates the position topic, compacted, when missing, and reads its cleanup.policy (position-log.ts). */
  ensurePositionTopic(topic: string, timeoutMs: number): Promise<PositionTopicState>;
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
  const { metadata, clearMetadata } = memoisedMetadata(producer, options.rebalanceInterval);
  return Object.assign(producer, {
    metadata,
    clearMetadata,
    produceBatches: (batches: readonly PartitionBatch[], acks: number, transactionalId?: string | null, transactionProtocol?: 1 | 2) =>
      transport.produce(batches, acks, transactionalId ?? null, transactionProtocol === 2),
    transactions: (transactionalId: string, transactionTimeoutMs: number) => new TxnRequests(producer, transactionalId, transactionTimeoutMs),
    ensurePositionTopic: (topic: string, timeoutMs: number) => ensurePositionTopic(producer, topic, timeoutMs),
  });
}

type MetadataOptions = Parameters<LibraryProducer['metadata']>[0];
type ClusterMetadata = Awaited<ReturnType<LibraryProducer['metadata']>>;

/**
 * The library's `metadata` and `clearMetadata`, with the answers to plain `{ topics }` questions
 * (and to `{ topics, autocreateTopics: false }`, kept apart)
 * kept until they are `maxAgeMs` old (the library's `metadataMaxAge`, counted from when the library
 * fetched them) or `clearMetadata` is called (by us or by the library itself): the sink asks
 * per write (partition counts, then leaders), and the library answers even from its cache at
 * 2–3 µs of CPU a call (option validation, copies of its maps; docs/benchmarks.md).
 */
export function memoisedMetadata(
  producer: Pick<LibraryProducer, 'metadata' | 'clearMetadata'>, maxAgeMs: number, now: () => number = Date.now,
): { metadata: (options: MetadataOptions) => Promise<ClusterMetadata>; clearMetadata: () => void } {
  const ask = producer.metadata.bind(producer) as (options: MetadataOptions) => Promise<ClusterMetadata>;
  const clear = producer.clearMetadata.bind(producer);
  const kept = new Map<string, { at: number; answer: Promise<ClusterMetadata> }>();
  return {
    metadata(options) {
      if (!keepable(options)) return ask(options);
      const key = `${options.autocreateTopics === false ? 'existing' : 'any'}\u0001${options.topics!.join('\u0000')}`;
      const hit = kept.get(key);
      const at = now();
      if (hit !== undefined && at - hit.at < maxAgeMs) return hit.answer;
      const answer = ask(options);
      const entry = { at, answer };
      kept.set(key, entry);
      answer.then((metadata) => {
        // Its age is the library's (it may have answered from its cache).
        for (const topic of options.topics ?? []) entry.at = Math.min(entry.at, metadata.topics.get(topic)?.lastUpdate ?? entry.at);
      }, () => {
        if (kept.get(key) === entry) kept.delete(key);
      });
      return answer;
    },
    clearMetadata() {
      kept.clear();
      clear();
    },
  };
}

/** `{ topics }`, or `{ topics, autocreateTopics: false }` (the position topic's, transport.ts): answers kept. */
function keepable(options: MetadataOptions): boolean {
  const keys = Object.keys(options);
  if (!Array.isArray(options.topics)) return false;
  return keys.length === 1 || (keys.length === 2 && options.autocreateTopics === false);
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
