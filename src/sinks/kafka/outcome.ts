/**
 * What a failed produce call did, partition by partition, read from @platformatic/kafka's errors
 * (by shape, without importing the library). One produce request carries every partition of a broker;
 * the broker appends the partitions it can and reports an error code per partition, and the library
 * then rejects the whole call with a ResponseError (inside MultipleErrors when it retried or when
 * several brokers were involved). Partitions the broker acknowledged must not be sent again; the
 * others are classified:
 *
 * - `tooLarge`: MESSAGE_TOO_LARGE / RECORD_LIST_TOO_LARGE; a single message that gets it can never
 *   be written to that topic (dead-letter it or stop);
 * - `undeliverable`: the message can never be written there (invalid topic, record or policy);
 * - `fatal`: the sink's configuration is refused (compression, acks): stop, dead-lettering would not help;
 * - otherwise retryable (leader moves, timeouts, network, outages, authorization being fixed, ...).
 */
import { describeKafkaError } from '../../kafka/client-options.ts';
import { partitionKey } from './message.ts';

export type FailureKind = 'retryable' | 'tooLarge' | 'undeliverable' | 'fatal';

export interface PartitionFailure {
  kind: FailureKind;
  /** Kafka error name (`MESSAGE_TOO_LARGE`, `NOT_LEADER_OR_FOLLOWER`) or the library's code (`PLT_KFK_NETWORK`). */
  code: string;
  message: string;
}

export interface ProduceOutcome {
  /** Partitions (partitionKey) the broker acknowledged. */
  acked: Set<string>;
  /** Every other partition of the request, with why it failed. */
  failed: Map<string, PartitionFailure>;
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
const UNDELIVERABLE = new Set(['INVALID_TOPIC_EXCEPTION', 'INVALID_RECORD', 'POLICY_VIOLATION', 'CORRUPT_MESSAGE_KEY']);
const FATAL = new Set(['UNSUPPORTED_COMPRESSION_TYPE', 'INVALID_REQUIRED_ACKS', 'UNSUPPORTED_FOR_MESSAGE_FORMAT']);

/** Kafka error codes we classify, for responses whose per-partition error carries no name. */
const CODE_NAMES: Readonly<Record<number, string>> = {
  2: 'CORRUPT_MESSAGE', 3: 'UNKNOWN_TOPIC_OR_PARTITION', 5: 'LEADER_NOT_AVAILABLE', 6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT', 10: 'MESSAGE_TOO_LARGE', 17: 'INVALID_TOPIC_EXCEPTION', 18: 'RECORD_LIST_TOO_LARGE',
  19: 'NOT_ENOUGH_REPLICAS', 20: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 21: 'INVALID_REQUIRED_ACKS',
  29: 'TOPIC_AUTHORIZATION_FAILED', 44: 'POLICY_VIOLATION', 76: 'UNSUPPORTED_COMPRESSION_TYPE', 87: 'INVALID_RECORD',
};

/** Classification of a Kafka error name. */
export function failureKind(code: string): FailureKind {
  if (TOO_LARGE.has(code)) return 'tooLarge';
  if (UNDELIVERABLE.has(code)) return 'undeliverable';
  if (FATAL.has(code)) return 'fatal';
  return 'retryable';
}

interface PartitionResponseLike {
  index: number;
  errorCode: number;
  errorMessage?: string | null;
}

interface ErrorLike {
  message?: string;
  code?: string;
  apiId?: string;
  path?: string;
  serverErrorMessage?: string | null;
  errors?: unknown[];
  response?: { responses?: Array<{ name?: string; partitionResponses?: PartitionResponseLike[] }> };
  produced?: { offsets?: Array<{ topic: string; partition: number }> };
  cause?: unknown;
}

/**
 * Reads a produce call's rejection. `partitions` are the partitionKeys the call carried; each ends
 * up in `acked` or `failed`.
 */
export function produceOutcome(err: unknown, partitions: Iterable<string>): ProduceOutcome {
  const acked = new Set<string>();
  const specific = new Map<string, PartitionFailure>();
  visit(err, acked, specific, 0);
  const general = generalFailure(err);
  const failed = new Map<string, PartitionFailure>();
  for (const key of partitions) {
    if (acked.has(key)) continue;
    failed.set(key, specific.get(key) ?? general);
  }
  return { acked, failed };
}

function visit(err: unknown, acked: Set<string>, specific: Map<string, PartitionFailure>, depth: number): void {
  if (depth > 8 || typeof err !== 'object' || err === null) return;
  const e = err as ErrorLike;
  for (const offset of e.produced?.offsets ?? []) acked.add(partitionKey(offset.topic, offset.partition));
  const responses = e.response?.responses;
  if (Array.isArray(responses)) {
    const names = new Map<string, ErrorLike>();
    for (const inner of e.errors ?? []) {
      const p = inner as ErrorLike;
      if (typeof p?.path === 'string') names.set(p.path, p);
    }
    responses.forEach((topicResponse, i) => {
      topicResponse.partitionResponses?.forEach((pr, j) => {
        if (typeof topicResponse.name !== 'string') return;
        const key = partitionKey(topicResponse.name, pr.index);
        if (pr.errorCode === 0) {
          acked.add(key);
          return;
        }
        const protocol = names.get(`/responses/${i}/partition_responses/${j}`);
        const code = protocol?.apiId ?? CODE_NAMES[pr.errorCode] ?? `KAFKA_ERROR_${pr.errorCode}`;
        const detail = pr.errorMessage ?? protocol?.serverErrorMessage;
        const message = (protocol?.message ?? code) + (detail ? `: ${detail}` : '');
        specific.set(key, { kind: failureKind(code), code, message: `${message} [${code}]` });
      });
    });
  }
  for (const inner of e.errors ?? []) visit(inner, acked, specific, depth + 1);
}

/** The failure of partitions the error does not name: the call as a whole (network, timeout, metadata). */
function generalFailure(err: unknown): PartitionFailure {
  const message = describeKafkaError(err);
  const code = firstCode(err, 0) ?? 'UNKNOWN';
  // The library's own refusals (bad options) do not heal by retrying; everything else may.
  const kind: FailureKind = code === 'PLT_KFK_USER' && !/Unknown topic|closed/i.test(message) ? 'fatal' : failureKind(code);
  return { kind, code, message };
}

function firstCode(err: unknown, depth: number): string | undefined {
  if (depth > 8 || typeof err !== 'object' || err === null) return undefined;
  const e = err as ErrorLike;
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    for (const inner of [...e.errors].reverse()) {
      const code = firstCode(inner, depth + 1);
      if (code !== undefined) return code;
    }
  }
  return e.apiId ?? e.code;
}

/** Every Kafka error name and client error code in a (nested) library error, outermost first. */
export function errorNames(err: unknown, depth = 0, names: string[] = []): string[] {
  if (depth > 8 || typeof err !== 'object' || err === null) return names;
  const e = err as ErrorLike;
  if (e.apiId !== undefined) names.push(e.apiId);
  if (e.code !== undefined) names.push(e.code);
  for (const inner of e.errors ?? []) errorNames(inner, depth + 1, names);
  errorNames(e.cause, depth + 1, names);
  return names;
}
