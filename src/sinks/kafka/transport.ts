/**
 * Sends the Kafka sink's own record batches (record-batch.ts) in Produce requests
 * (produce-request.ts) over @platformatic/kafka's connections: the library keeps connecting, TLS,
 * SASL, metadata and response parsing; we skip its per-message request building, which cost more
 * than everything else the sink does. One request per partition leader, all leaders at once, like
 * the library's `send`; each request's answer is reported on its own so that only the partitions
 * it did not acknowledge are sent again. The record batches go to the socket as they are, not
 * joined with the request's header into a fresh buffer as the library's `send` would (request-splice.ts).
 */
import type { ClusterMetadata, Producer } from '@platformatic/kafka';
import { Writer, produceV10, produceV11, produceV3, produceV4, produceV5, produceV6, produceV7, produceV8 } from '../../kafka/library/protocol.ts';
import { highestCommonVersion } from './api-version.ts';
import { expectSplice, splitBody } from './request-splice.ts';
import { encodeProduceRequest, PRODUCE_MAX_VERSION, PRODUCE_MIN_VERSION, type ProduceTopic } from '../../kafka/protocol/produce-request.ts';

/** One partition's record batch. */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** `partitionKey(topic, partition)` (message.ts). */
  readonly partitionKey: string;
  readonly batch: Uint8Array;
  /**
   * The topic must not be created by asking for its metadata (brokers with auto.create.topics.enable
   * would create it with their defaults): the exactly-once position topic, which must be compacted.
   */
  readonly neverCreate?: boolean;
}

/** The answer to one Produce request: its partitions, all acknowledged unless `error` (shaped as the library's errors, for outcome.ts). */
export interface RequestOutcome {
  readonly partitionKeys: readonly string[];
  readonly error?: unknown;
}

const PRODUCE_API_KEY = 0;
const FIRST_FLEXIBLE_VERSION = 9;

/** The library's response parsers by Produce version (it has none exported for 9: 8 is used instead). */
const PARSERS: Readonly<Record<number, typeof produceV11.parseResponse>> = {
  3: produceV3.parseResponse, 4: produceV4.parseResponse, 5: produceV5.parseResponse, 6: produceV6.parseResponse,
  7: produceV7.parseResponse, 8: produceV8.parseResponse, 10: produceV10.parseResponse, 11: produceV11.parseResponse,
  // v12 is v11 on the wire; it says the producer speaks transaction protocol 2 (txn-v2.ts), so only its transactions use it.
  12: produceV11.parseResponse,
};
/** The highest Produce version of everything but transactions of protocol 2. */
const BEFORE_TRANSACTION_V2 = 11;

type Client = Pick<Producer<Buffer, Buffer, Buffer, Buffer>, 'metadata' | 'listApis' | 'connections'>;

/** Sends record batches through a library client's connections. */
export class BatchTransport {
  private version: Promise<number> | undefined;

  /**
   * @param timeoutMs the brokers' ack timeout written into each request (the sink's `timeout`).
   * @param maxVersion the highest Produce version to use (tests of the older encodings).
   */
  constructor(private readonly client: Client, private readonly timeoutMs: number, private readonly maxVersion = PRODUCE_MAX_VERSION) {}

  /**
   * Sends `batches` (at most one per partition), one request per leader; never rejects.
   * @param transactionalId set when the batches belong to that producer's open transaction.
   * @param transactionV2 that transaction is of protocol 2 (Produce v12 adds the partitions to it).
   */
  async produce(batches: readonly PartitionBatch[], acks: number, transactionalId: string | null = null, transactionV2 = false): Promise<RequestOutcome[]> {
    const all = batches.map((b) => b.partitionKey);
    let metadata: ClusterMetadata;
    let version: number;
    try {
      metadata = await this.metadataOf(batches);
      version = await this.produceVersion();
      if (!transactionV2) version = Math.min(version, BEFORE_TRANSACTION_V2);
    } catch (error) {
      return [{ partitionKeys: all, error }];
    }
    const byLeader = new Map<number, PartitionBatch[]>();
    const outcomes: RequestOutcome[] = [];
    for (const b of batches) {
      const leader = metadata.topics.get(b.topic)?.partitions[b.partition]?.leader ?? -1;
      if (leader < 0 || !metadata.brokers.has(leader)) {
        const error = Object.assign(new Error(`no leader known for partition ${b.partition} of topic "${b.topic}"`), { code: 'LEADER_NOT_AVAILABLE' });
        outcomes.push({ partitionKeys: [b.partitionKey], error });
        continue;
      }
      const list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, [b]);
      else list.push(b);
    }
    const requests = [...byLeader].map(([leader, list]) => this.request(metadata, leader, list, version, acks, transactionalId));
    return outcomes.concat(await Promise.all(requests));
  }

  /** The metadata of the batches' topics; those marked neverCreate are asked for without auto-creation. */
  private async metadataOf(batches: readonly PartitionBatch[]): Promise<ClusterMetadata> {
    const topics = [...new Set(batches.filter((b) => !b.neverCreate).map((b) => b.topic))];
    const mustExist = [...new Set(batches.filter((b) => b.neverCreate).map((b) => b.topic))];
    if (mustExist.length === 0) return this.client.metadata({ topics });
    const [all, existing] = await Promise.all([
      topics.length > 0 ? this.client.metadata({ topics }) : undefined,
      this.client.metadata({ topics: mustExist, autocreateTopics: false }),
    ]);
    if (all === undefined) return existing;
    return { ...all, topics: new Map([...all.topics, ...existing.topics]), brokers: new Map([...existing.brokers, ...all.brokers]) };
  }

  private async request(
    metadata: ClusterMetadata, leader: number, batches: PartitionBatch[], version: number, acks: number, transactionalId: string | null,
  ): Promise<RequestOutcome> {
    const partitionKeys = batches.map((b) => b.partitionKey);
    try {
      const connection = await this.client.connections.get(metadata.brokers.get(leader)!);
      const chunks = encodeProduceRequest(version, acks, this.timeoutMs, byTopic(batches), transactionalId);
      // Without an answer (acks 0) nothing says when the batches' memory may be reused: copied.
      const body = acks === 0 ? undefined : splitBody(chunks, new Set(batches.map((b) => b.batch)));
      const withdraw = body === undefined ? undefined : expectSplice((connection as { socket?: unknown }).socket, { version, body });
      const writer = Writer.create();
      for (const chunk of withdraw === undefined ? chunks : [body!.head]) writer.append(asBuffer(chunk));
      if (acks === 0) writer.context.noResponse = true;
      const flexible = version >= FIRST_FLEXIBLE_VERSION;
      const parse = PARSERS[version]!;
      await new Promise<void>((resolve, reject) => {
        const done = (error?: unknown) => {
          // At once, not after an await: a request dropped before its write must not wait there
          // while a later one with the same head is written.
          withdraw?.();
          if (error) reject(error);
          else resolve();
        };
        try {
          connection.send(PRODUCE_API_KEY, version, () => writer, parse, flexible, flexible, (error) => done(error ?? undefined));
        } catch (error) {
          done(error);
        }
      });
      return { partitionKeys };
    } catch (error) {
      return { partitionKeys, error };
    }
  }

  /** The highest Produce version both sides speak, asked once. */
  private produceVersion(): Promise<number> {
    this.version ??= this.client.listApis().then((apis) => {
      const ours = Object.keys(PARSERS).map(Number).filter((v) => v <= this.maxVersion);
      const version = highestCommonVersion(apis, PRODUCE_API_KEY, ours);
      if (version === undefined) {
        const produce = apis.find((api) => api.apiKey === PRODUCE_API_KEY);
        throw new Error(`the brokers speak Produce versions ${produce?.minVersion ?? '?'}-${produce?.maxVersion ?? '?'}, this client ${PRODUCE_MIN_VERSION}-${PRODUCE_MAX_VERSION}`);
      }
      return version;
    });
    this.version.catch(() => (this.version = undefined));
    return this.version;
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}

/** Groups partition batches by topic, keeping their order. */
function byTopic(batches: readonly PartitionBatch[]): ProduceTopic[] {
  const topics = new Map<string, Array<{ partition: number; batch: Uint8Array }>>();
  for (const b of batches) {
    const list = topics.get(b.topic);
    if (list === undefined) topics.set(b.topic, [{ partition: b.partition, batch: b.batch }]);
    else list.push({ partition: b.partition, batch: b.batch });
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}
