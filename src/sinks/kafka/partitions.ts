/**
 * Partition assignment for the Kafka sink: each topic's partition count (the client's metadata cache,
 * refreshed every `rebalanceInterval`), partitions by key (murmur2 or fnv1a; round-robin without
 * key), and which topics can never be written to (invalid name, missing while the brokers do not
 * create it), whose messages go to the dead-letter handling.
 */
import { StreamerError } from '../../core/errors.ts';
import { describeKafkaError } from '../../kafka/client-options.ts';
import { invalidTopicReason } from './routing.ts';
import type { KafkaProducer } from './client.ts';
import type { DeadLetters } from './dead-letter.ts';
import { partitionKey, type OutMessage, type Undeliverable } from './message.ts';

/** A topic the brokers keep calling unknown for this long is treated as missing for good (auto-create off). */
const UNKNOWN_TOPIC_GRACE_MS = 5_000;
/** How long a "missing topic" verdict is kept before the brokers are asked again. */
const MISSING_TOPIC_RECHECK_MS = 15_000;

interface TopicVerdict {
  missing: Undeliverable;
  until: number;
}

/** What partition assignment uses of the sink. */
export interface PartitionAssignerDeps {
  hosts: string;
  component: string;
  producer: KafkaProducer;
  partitionOf: (key: Uint8Array, partitions: number, start: number, end: number) => number;
  deadLetters: DeadLetters;
  /** Settles a client call within the sink's deadline. */
  deadline: <T>(call: Promise<T>, what: string) => Promise<T>;
  /** A metadata request failed (counted in the sink's metrics). */
  onMetadataError(): void;
}

/** Gives pending messages their partitions; remembers per topic the round-robin position and verdicts. */
export class PartitionAssigner {
  private readonly unknownSince = new Map<string, number>();
  private readonly missingTopics = new Map<string, TopicVerdict>();
  private readonly roundRobin = new Map<string, number>();
  /** Per topic, `partitionKey(topic, p)` for every partition p (grown as partition counts grow). */
  private readonly partitionKeys = new Map<string, string[]>();

  constructor(private readonly deps: PartitionAssignerDeps) {}

  /** Gives every unassigned pending message its partition, or its dead-letter copy when its topic can never take it. */
  async assign(pending: OutMessage[]): Promise<void> {
    const byTopic = new Map<string, OutMessage[]>();
    let diverted = false;
    for (const message of pending) {
      if (message.partition >= 0) continue;
      if (message.undeliverable) {
        this.deps.deadLetters.divert(pending, message, message.undeliverable);
        diverted = true;
        continue;
      }
      const list = byTopic.get(message.topic);
      if (list === undefined) byTopic.set(message.topic, [message]);
      else list.push(message);
    }
    for (const [topic, messages] of byTopic) {
      const partitions = await this.partitionCount(topic);
      if (typeof partitions !== 'number') {
        for (const message of messages) this.deps.deadLetters.divert(pending, message, partitions);
        diverted = true;
        continue;
      }
      const keys = this.partitionKeysOf(topic, partitions);
      const partitionOf = this.deps.partitionOf;
      let next = this.roundRobin.get(topic) ?? 0;
      for (const message of messages) {
        let partition: number;
        if (message.key !== undefined) {
          partition = partitionOf(message.key, partitions, message.keyStart, message.keyEnd);
        } else {
          partition = next % partitions;
          next = (next + 1) % partitions;
        }
        message.partition = partition;
        message.partitionKey = keys[partition] as string;
      }
      this.roundRobin.set(topic, next);
    }
    // Dead-letter copies created above still need a partition (without any, every message has one:
    // no walk over the batch again).
    if (diverted && pending.some((m) => m.partition < 0)) await this.assign(pending);
  }

  /** `partitionKey(topic, p)` for p in 0 .. partitions - 1. */
  private partitionKeysOf(topic: string, partitions: number): string[] {
    let keys = this.partitionKeys.get(topic);
    if (keys === undefined) this.partitionKeys.set(topic, (keys = []));
    for (let p = keys.length; p < partitions; p++) keys.push(partitionKey(topic, p));
    return keys;
  }

  /** Partition count of a topic, or why it can never be written to. Throws a retryable error while unsure. */
  private async partitionCount(topic: string): Promise<number | Undeliverable> {
    const { component } = this.deps;
    const invalid = invalidTopicReason(topic);
    if (invalid !== undefined) return { code: 'INVALID_TOPIC', message: invalid };
    const verdict = this.missingTopics.get(topic);
    if (verdict !== undefined && verdict.until > Date.now()) return verdict.missing;
    try {
      const metadata = await this.deps.deadline(this.deps.producer.metadata({ topics: [topic] }), `metadata of topic "${topic}"`);
      const described = metadata.topics.get(topic);
      if (described === undefined || described.partitionsCount === 0) {
        throw new StreamerError('SINK_WRITE', `the brokers returned no partitions for topic "${topic}"`, { component });
      }
      this.unknownSince.delete(topic);
      this.missingTopics.delete(topic);
      return described.partitionsCount;
    } catch (err) {
      if (err instanceof StreamerError) throw err;
      if (findKafkaError(err, (e) => e.apiId === 'INVALID_TOPIC_EXCEPTION')) {
        return { code: 'INVALID_TOPIC', message: `the brokers refuse the topic name "${topic}" [INVALID_TOPIC_EXCEPTION]` };
      }
      if (findKafkaError(err, (e) => e.apiId === 'UNKNOWN_TOPIC_OR_PARTITION' || /^Unknown topic/.test(e.message ?? ''))) {
        const now = Date.now();
        const since = this.unknownSince.get(topic) ?? now;
        this.unknownSince.set(topic, since);
        if (now - since >= UNKNOWN_TOPIC_GRACE_MS) {
          const missing = { code: 'UNKNOWN_TOPIC', message: `topic "${topic}" does not exist and the brokers do not create it` };
          this.missingTopics.set(topic, { missing, until: now + MISSING_TOPIC_RECHECK_MS });
          return missing;
        }
        throw new StreamerError('SINK_WRITE', `topic "${topic}" does not exist (yet); still missing after ${UNKNOWN_TOPIC_GRACE_MS / 1000}s it counts as undeliverable`, {
          component, cause: err, explainsCause: true,
        });
      }
      this.deps.onMetadataError();
      throw new StreamerError('SINK_WRITE', `cannot get metadata of topic "${topic}" from ${this.deps.hosts}: ${describeKafkaError(err)}`, {
        component, cause: err, explainsCause: true,
      });
    }
  }
}

interface KafkaErrorShape {
  message?: string;
  apiId?: string;
  errors?: unknown[];
}

/** Whether an error of the library, or any error nested in it, matches. */
function findKafkaError(err: unknown, match: (e: KafkaErrorShape) => boolean, depth = 0): boolean {
  if (depth > 8 || typeof err !== 'object' || err === null) return false;
  const e = err as KafkaErrorShape;
  if (match(e)) return true;
  return (e.errors ?? []).some((inner) => findKafkaError(inner, match, depth + 1));
}
