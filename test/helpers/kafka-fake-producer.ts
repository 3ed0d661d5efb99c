/**
 * A stand-in for @platformatic/kafka's Producer in the sink's unit tests: topics with partition
 * counts, every send recorded, and failures built from the library's own error classes, shaped as
 * the library reports them (a ResponseError per broker request inside MultipleErrors).
 */
import { MultipleErrors, NetworkError, Reader, ResponseError, UserError, crc32c, readRecordsBatch, type ClusterMetadata } from '@platformatic/kafka';
import type { PartitionBatch, RequestOutcome } from '../../src/sinks/kafka/client.ts';
import type { KafkaProducer } from '../../src/sinks/kafka/sink.ts';

export interface SentMessage {
  topic: string;
  partition: number;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

export interface SendCall {
  acks: number | undefined;
  messages: SentMessage[];
}

/** Decides what a send does: return nothing for success, or the error codes per `topic:partition`. */
export type SendBehaviour = (call: SendCall, index: number) => Record<string, number> | Error | undefined;

/** Kafka error codes used by the tests. */
export const CODES = { NOT_LEADER_OR_FOLLOWER: 6, MESSAGE_TOO_LARGE: 10, INVALID_RECORD: 87, UNSUPPORTED_COMPRESSION_TYPE: 76 } as const;

export class FakeProducer implements KafkaProducer {
  readonly topics = new Map<string, number>();
  readonly calls: SendCall[] = [];
  /** The topic partitions whose messages were acknowledged, in order. */
  readonly written: SentMessage[] = [];
  behaviour: SendBehaviour = () => undefined;
  metadataError: Error | undefined;
  closed = false;

  /** Exactly-once sinks are tested against the real broker (test/integration/kafka/exactly-once*.test.ts). */
  ensurePositionTopic = (): never => {
    throw new Error('the fake producer has no transactions');
  };

  transactions = (): never => {
    throw new Error('the fake producer has no transactions');
  };

  constructor(topics: Record<string, number> = {}) {
    for (const [topic, partitions] of Object.entries(topics)) this.topics.set(topic, partitions);
  }

  metadata = (async (options: { topics?: string[] }) => {
    if (this.metadataError) throw this.metadataError;
    const topics = new Map<string, ClusterMetadata['topics'] extends Map<string, infer T> ? T : never>();
    for (const topic of options.topics ?? []) {
      const partitionsCount = this.topics.get(topic);
      if (partitionsCount === undefined) throw new UserError(`Unknown topic ${topic}.`);
      topics.set(topic, { id: topic, partitionsCount, lastUpdate: Date.now(), partitions: [] });
    }
    return { id: 'cluster', brokers: new Map(), controllerId: 1, topics, lastUpdate: Date.now() };
  }) as KafkaProducer['metadata'];

  send = (async (options: { messages: Array<{ topic: string; partition?: number; key?: Buffer; value?: Buffer; headers?: Map<Buffer, Buffer> | Record<string, Buffer> }>; acks?: number }) => {
    const call: SendCall = {
      acks: options.acks,
      messages: options.messages.map((m) => ({
        topic: m.topic,
        partition: m.partition ?? -1,
        key: m.key?.toString(),
        value: m.value?.toString(),
        headers: Object.fromEntries([...(m.headers instanceof Map ? m.headers : new Map(Object.entries(m.headers ?? {})))].map(([k, v]) => [k.toString(), v.toString()])),
      })),
    };
    this.calls.push(call);
    const outcome = this.behaviour(call, this.calls.length - 1);
    if (outcome instanceof Error) throw outcome;
    const failing = outcome ?? {};
    for (const m of call.messages) if (!failing[`${m.topic}:${m.partition}`]) this.written.push(m);
    if (Object.keys(failing).length === 0) return { offsets: [] };
    throw responseError(call, failing);
  }) as KafkaProducer['send'];

  /**
   * The sink's own record batches: decoded with the library's reader (CRC checked), then treated as
   * one `send` of their messages (one request: the fake has a single broker).
   */
  produceBatches = async (batches: readonly PartitionBatch[], acks: number): Promise<RequestOutcome[]> => {
    const messages: SentMessage[] = [];
    for (const { topic, partition, batch } of batches) {
      const buffer = Buffer.from(batch.buffer, batch.byteOffset, batch.length);
      const decoded = readRecordsBatch(Reader.from(buffer));
      if ((crc32c(buffer.subarray(21)) >>> 0) !== decoded.crc) throw new Error(`bad CRC in the batch for ${topic}:${partition}`);
      for (const r of decoded.records) {
        messages.push({
          topic, partition,
          key: r.key === null ? undefined : r.key.toString(),
          value: r.value === null ? undefined : r.value.toString(),
          headers: Object.fromEntries(r.headers.map(([k, v]) => [String(k), String(v)])),
        });
      }
    }
    const call: SendCall = { acks, messages };
    this.calls.push(call);
    const partitionKeys = batches.map((b) => b.partitionKey);
    const outcome = this.behaviour(call, this.calls.length - 1);
    if (outcome instanceof Error) return [{ partitionKeys, error: outcome }];
    const failing = outcome ?? {};
    for (const m of call.messages) if (!failing[`${m.topic}:${m.partition}`]) this.written.push(m);
    if (Object.keys(failing).length === 0) return [{ partitionKeys }];
    return [{ partitionKeys, error: responseError(call, failing) }];
  };

  clearMetadata(): void {}

  close = (async () => {
    this.closed = true;
  }) as KafkaProducer['close'];
}

/** The library's error for one broker request where the given `topic:partition`s got error codes. */
export function responseError(call: SendCall, failing: Record<string, number>): Error {
  const byTopic = new Map<string, Set<number>>();
  for (const m of call.messages) {
    let set = byTopic.get(m.topic);
    if (set === undefined) byTopic.set(m.topic, (set = new Set()));
    set.add(m.partition);
  }
  const errors: Record<string, [number, string | null]> = {};
  const responses = [...byTopic].map(([name, partitions], i) => ({
    name,
    partitionResponses: [...partitions].map((index, j) => {
      const errorCode = failing[`${name}:${index}`] ?? 0;
      if (errorCode !== 0) errors[`/responses/${i}/partition_responses/${j}`] = [errorCode, null];
      return { index, errorCode, baseOffset: errorCode ? -1n : 0n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null };
    }),
  }));
  const inner = new ResponseError(0, 11, errors, { responses, throttleTimeMs: 0 });
  return new MultipleErrors('Producing messages failed.', [inner]);
}

/** A broker that cannot be reached, as the library reports it. */
export function networkError(): Error {
  return new MultipleErrors('Producing messages failed.', [new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9092') })]);
}
