/**
 * The Kafka sink's unit of work: one message on its way to a topic partition, and how a batch's
 * messages are cut into produce requests. Pure.
 */
import type { ChangeEvent } from '../../event/event.ts';
import {
  HEADER_DLQ_DROPPED_VALUE_BYTES,
  HEADER_DLQ_ERROR,
  HEADER_DLQ_ERROR_CODE,
  HEADER_DLQ_PARTITION,
  HEADER_DLQ_TOPIC,
  HEADER_DLQ_UUID,
  HEADER_DLQ_WAL_POSITION,
  internedBytes,
  withHeaders,
  type MessageHeaders,
} from '../../kafka/headers.ts';

/** Why a message can never be written where it was meant to go. */
export interface Undeliverable {
  /** Stable reason code, also the dead-letter `psql-streamer-error-code` header: `MESSAGE_TOO_LARGE`, `UNKNOWN_TOPIC`, ... */
  code: string;
  /** What happened, for logs and the dead-letter `psql-streamer-error` header. */
  message: string;
}

export interface OutMessage {
  /** The event this message carries. */
  readonly event: ChangeEvent;
  readonly topic: string;
  /** The buffer holding the key, at [keyStart, keyEnd) (a range of the event's own bytes: no view per message). */
  readonly key: Uint8Array | undefined;
  readonly keyStart: number;
  readonly keyEnd: number;
  value: Uint8Array | undefined;
  headers: MessageHeaders;
  /** Assigned once the topic's partition count is known (assignPartition); -1 until then. */
  partition: number;
  /** `partitionKey(topic, partition)`, set with the partition; '' until then. */
  partitionKey: string;
  /** messageBytes() of the message, kept current. */
  bytes: number;
  /** Set when the message is known to be undeliverable before any produce (encoding failed, invalid topic). */
  undeliverable?: Undeliverable;
  /** For a dead-letter message: the message it replaces. */
  readonly deadLetterOf?: OutMessage;
  /** For the original of a dead-lettered message: why. */
  deadLetterReason?: Undeliverable;
}

/** Approximate bytes of a message inside a record batch (record framing ~ 20 bytes, plus the data). */
export function messageBytes(message: Pick<OutMessage, 'key' | 'value' | 'headers'> & Partial<Pick<OutMessage, 'keyStart' | 'keyEnd'>>): number {
  const key = message.key;
  const keyBytes = key === undefined ? 0 : (message.keyEnd ?? key.length) - (message.keyStart ?? 0);
  return 20 + keyBytes + (message.value?.length ?? 0) + message.headers.bytes;
}

/** The key's bytes as a view of their own (for the paths that need one: the library's `send`, tests). */
export function messageKey(message: Pick<OutMessage, 'key' | 'keyStart' | 'keyEnd'>): Uint8Array | undefined {
  const { key, keyStart, keyEnd } = message;
  if (key === undefined || (keyStart === 0 && keyEnd === key.length)) return key;
  return key.subarray(keyStart, keyEnd);
}

/** `topic` + partition as one map key. */
export function partitionKey(topic: string, partition: number): string {
  return topic + '\u0000' + partition;
}

/**
 * A new message for `topic` (partition not yet assigned). Its key is `key` whole, or
 * key[keyStart, keyEnd) when given (an event's row key inside its line chunk).
 */
export function outMessage(
  event: ChangeEvent, topic: string, key: Uint8Array | undefined, value: Uint8Array | undefined, headers: MessageHeaders, undeliverable?: Undeliverable,
  keyStart = 0, keyEnd = key?.length ?? 0,
): OutMessage {
  const message: OutMessage = { event, topic, key, keyStart, keyEnd, value, headers, partition: -1, partitionKey: '', bytes: 0 };
  if (undeliverable !== undefined) message.undeliverable = undeliverable;
  message.bytes = messageBytes(message);
  return message;
}

export function assignPartition(message: OutMessage, partition: number): void {
  message.partition = partition;
  message.partitionKey = partitionKey(message.topic, partition);
}

export interface ChunkLimits {
  /** Messages per partition in one produce request (the sink's `batchSize`). */
  maxMessages: number;
  /** Bytes per partition in one produce request; a single larger message still goes, alone. */
  maxBytes: number;
  /** Partitions whose messages go one per request (isolating a message the broker refuses). */
  single?: ReadonlySet<string>;
}

/**
 * The next produce request: from `pending` (in batch order, partitions assigned), for each partition
 * the longest prefix of its messages within the limits. Every partition's messages stay in order:
 * a partition that is full for this request takes none of its later messages.
 */
export function takeChunk(pending: readonly OutMessage[], limits: ChunkLimits): OutMessage[] {
  const chunk: OutMessage[] = [];
  const used = new Map<string, { messages: number; bytes: number; full: boolean }>();
  for (const message of pending) {
    const key = message.partitionKey;
    let u = used.get(key);
    if (u === undefined) {
      u = { messages: 0, bytes: 0, full: false };
      used.set(key, u);
    }
    if (u.full) continue;
    const bytes = message.bytes;
    const maxMessages = limits.single?.has(key) ? 1 : limits.maxMessages;
    if (u.messages > 0 && (u.messages >= maxMessages || u.bytes + bytes > limits.maxBytes)) {
      u.full = true;
      continue;
    }
    u.messages++;
    u.bytes += bytes;
    chunk.push(message);
  }
  return chunk;
}

/**
 * The dead-letter copy of a message that can never be written to its topic: same key, value and
 * headers, plus headers naming the error and where the message was meant to go.
 */
export function deadLetterMessage(original: OutMessage, reason: Undeliverable, topic: string): OutMessage {
  const extra: Array<[Buffer, Buffer]> = [
    [internedBytes(HEADER_DLQ_ERROR), Buffer.from(reason.message)],
    [internedBytes(HEADER_DLQ_ERROR_CODE), internedBytes(reason.code)],
    [internedBytes(HEADER_DLQ_TOPIC), internedBytes(original.topic)],
  ];
  if (original.partition >= 0) extra.push([internedBytes(HEADER_DLQ_PARTITION), Buffer.from(String(original.partition))]);
  extra.push([internedBytes(HEADER_DLQ_WAL_POSITION), Buffer.from(original.event.lsn.toString())]);
  extra.push([internedBytes(HEADER_DLQ_UUID), Buffer.from(original.event.uuid)]);
  const headers = withHeaders(original.headers, extra);
  const copy: OutMessage = {
    event: original.event, topic, key: original.key, keyStart: original.keyStart, keyEnd: original.keyEnd, value: original.value, headers,
    partition: -1, partitionKey: '', bytes: 0, deadLetterOf: original,
  };
  copy.bytes = messageBytes(copy);
  return copy;
}

/** Drops the value of a dead-letter message the dead-letter topic refuses as too large, keeping its headers. */
export function dropValue(message: OutMessage): void {
  message.headers = withHeaders(message.headers, [[internedBytes(HEADER_DLQ_DROPPED_VALUE_BYTES), Buffer.from(String(message.value?.length ?? 0))]]);
  message.value = undefined;
  message.bytes = messageBytes(message);
}
