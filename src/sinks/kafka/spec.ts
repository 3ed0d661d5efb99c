/** `[sink.NAME]` with `type = "kafka"`: its keys, defaults and cross-key rules. */
import type { OptionProblem } from '../../component/type.ts';
import { defineComponentType } from '../../component/type.ts';
import { defineSection, positive, type Resolved } from '../../config/fields.ts';
import type { Sink } from '../sink.ts';
import { kafkaClientOptions, validateKafkaClient } from '../../kafka/client-spec.ts';
import { debeziumFormatKeys } from '../../event/debezium/format.ts';
import { handlerCountProblems, SINK_HANDLERS } from '../handler-keys.ts';

/** Handlers that turn an event into Kafka messages (the original had only passthrough; debezium: docs/debezium.md). */
export const KAFKA_HANDLERS = SINK_HANDLERS;

export const kafkaSinkOptions = defineSection({
  ...kafkaClientOptions,
  handlers: {
    kind: 'stringList', required: true, unique: true, original: true, choices: KAFKA_HANDLERS,
    doc: 'How events become messages: "passthrough" writes the event JSON in the original\'s format, "debezium" Debezium\'s change records (docs/debezium.md); one of them',
  },
  ...debeziumFormatKeys,
  debeziumTopics: {
    kind: 'bool', default: false,
    doc: 'With handlers = ["debezium"]: every table\'s topic is Debezium\'s "<debeziumTopicPrefix>.<schema>.<table>" (tableTopicMapping and topicFallback are then not used)',
  },
  tableTopicMapping: {
    kind: 'stringMap', default: {}, original: true,
    doc: 'Topic per table, matched exactly (case-sensitive); keys are "table" or "schema.table", e.g. { users = "users", "billing.invoices" = "invoices" }',
  },
  topicFallback: {
    kind: 'string', default: '', original: true,
    doc: 'Topic for tables not in tableTopicMapping; when empty, their events are counted as "no topic" and dropped',
  },
  requiredAcks: {
    kind: 'int', default: -1, original: true,
    check: (v) => (v === -1 || v === 0 || v === 1 ? undefined : '-1 (all in-sync replicas), 0 (none) or 1 (the leader)'),
    doc: 'Broker acknowledgements a write waits for: -1 all in-sync replicas, 1 the leader, 0 none (can lose data)',
  },
  timeout: { kind: 'duration', default: 2000, original: true, check: positive, doc: 'Connect and write timeout of the broker requests' },
  maxAttempts: { kind: 'int', default: 3, original: true, check: positive, doc: 'Attempts of one write inside the client before the batch fails and the pipeline retries it' },
  batchSize: {
    kind: 'int', default: 10_000, original: true, check: positive,
    doc: 'Most messages per partition in one produce request (also capped at 1 MiB per partition); the original\'s default was 100, which costs a round trip per 100 messages',
  },
  batchTimeout: { kind: 'duration', default: 5, original: true, check: positive, doc: 'How long messages may wait to fill a produce request (linger)' },
  rebalanceInterval: { kind: 'duration', default: 15_000, original: true, check: positive, doc: 'How often topic partition metadata is refreshed' },
  async: {
    kind: 'bool', default: false, original: true,
    doc: 'Fire and forget: a batch counts as delivered before the broker answers, so errors are lost and data can be lost; keep false',
  },
  key: {
    kind: 'string', default: 'row', choices: ['row', 'original', 'none'],
    doc: 'Message key: "row" the row\'s key columns (one row\'s changes stay in order in one partition), "original" Host:Database:Table:Action as the original, "none" no key',
  },
  partitioner: {
    kind: 'string', default: 'murmur2', choices: ['murmur2', 'fnv1a'],
    doc: 'Partition of a key: "murmur2" as the Java client, "fnv1a" as the original (kafka-go hash)',
  },
  compression: {
    kind: 'string', default: 'none', choices: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
    doc: 'Compression of produced batches',
  },
  idempotent: { kind: 'bool', default: false, doc: 'Idempotent producer: retries inside the client never duplicate a message (needs requiredAcks = -1)' },
  exactlyOnce: {
    kind: 'bool', default: false,
    doc: 'Each batch is one Kafka transaction that also records the source position, so read_committed consumers see every change exactly once, even after a crash (docs/kafka.md, "Exactly once"); needs requiredAcks = -1',
  },
  transactionalId: {
    kind: 'string', default: 'psql-streamer.{sink}.{source}',
    doc: 'With exactlyOnce: the transactional id of each source\'s producers, this id, "<id>.2" and "<id>.3", which take turns ({sink} and {source} are replaced by the names); two instances with the same id fence each other, so keep it stable and unique per deployment',
  },
  positionTopic: {
    kind: 'string', default: 'psql-streamer-positions',
    doc: 'With exactlyOnce: the topic whose partition 0 holds each transaction\'s position record (key = the producer\'s transactional id); created with cleanup.policy=compact if missing, and must be compacted (a warning says so otherwise)',
  },
  transactionTimeout: {
    kind: 'duration', default: 60_000, check: positive,
    doc: 'With exactlyOnce: how long a transaction may stay open before the brokers abort it (at most the brokers\' transaction.max.timeout.ms)',
  },
  deadLetterTopic: {
    kind: 'string',
    doc: 'Topic for messages that can never be delivered (too large, unknown topic), with the error and position in headers; unset means such a message stops the pipeline',
  },
});

/** Resolved keys of a Kafka sink. */
export type KafkaSinkOptions = Resolved<typeof kafkaSinkOptions>;

/** The transactional id an exactly-once sink uses for one source: `transactionalId` with `{sink}` and `{source}` filled in. */
export function transactionalIdOf(template: string, sink: string, source: string): string {
  return template.replaceAll('{sink}', sink).replaceAll('{source}', source);
}

/** Cross-key rules: where events go, and that topic names are usable. */
export function validateKafkaSink(o: KafkaSinkOptions): OptionProblem[] {
  const problems = validateKafkaClient(o);
  const mapping = Object.entries(o.tableTopicMapping);
  problems.push(...handlerCountProblems(o.handlers));
  if (o.debeziumTopics && !o.handlers.includes('debezium')) problems.push({ key: 'debeziumTopics', message: 'needs handlers = ["debezium"]' });
  if (o.debeziumTopics) {
    if (mapping.length > 0 || o.topicFallback !== '') problems.push({ key: 'debeziumTopics', message: 'names every topic: remove tableTopicMapping and topicFallback' });
  } else if (mapping.length === 0 && o.topicFallback === '') {
    problems.push({ key: 'tableTopicMapping', message: 'no topic configured: set tableTopicMapping, topicFallback, or both' });
  }
  for (const [table, topic] of mapping) {
    if (topic.trim() === '') {
      problems.push({ key: 'tableTopicMapping', message: `the topic of ${JSON.stringify(table)} is empty: expected a topic name` });
    } else if (topic === o.topicFallback) {
      problems.push({
        key: 'tableTopicMapping',
        message: `${JSON.stringify(table)} maps to ${JSON.stringify(topic)}, which is also topicFallback: remove the entry or choose another topic`,
      });
    }
  }
  if (o.deadLetterTopic !== undefined) {
    if (o.deadLetterTopic.trim() === '') problems.push({ key: 'deadLetterTopic', message: 'expected a topic name, found ""' });
    else if (o.deadLetterTopic === o.topicFallback || mapping.some(([, t]) => t === o.deadLetterTopic)) {
      problems.push({ key: 'deadLetterTopic', message: `${JSON.stringify(o.deadLetterTopic)} also receives events: expected a topic of its own` });
    }
  }
  if (o.idempotent && o.requiredAcks !== -1) {
    problems.push({ key: 'idempotent', message: `needs requiredAcks = -1, found requiredAcks = ${o.requiredAcks}` });
  }
  if (o.exactlyOnce) {
    if (o.requiredAcks !== -1) problems.push({ key: 'exactlyOnce', message: `needs requiredAcks = -1, found requiredAcks = ${o.requiredAcks}` });
    if (o.async) problems.push({ key: 'exactlyOnce', message: 'cannot be combined with async = true (async does not wait for the brokers)' });
    if (!/^[A-Za-z0-9._{}-]+$/.test(o.transactionalId)) {
      problems.push({ key: 'transactionalId', message: `expected letters, digits, ".", "_", "-" and the placeholders {sink} and {source}, found ${JSON.stringify(o.transactionalId)}` });
    }
    const unknown = o.transactionalId.match(/\{(?!sink\}|source\})[^}]*\}/);
    if (unknown !== null) problems.push({ key: 'transactionalId', message: `unknown placeholder ${unknown[0]}: expected {sink} or {source}` });
    if (!/^[A-Za-z0-9._-]+$/.test(o.positionTopic)) problems.push({ key: 'positionTopic', message: `expected a topic name, found ${JSON.stringify(o.positionTopic)}` });
  }
  return problems;
}

/** `type = "kafka"` sinks. */
export const kafkaSinkType = defineComponentType<typeof kafkaSinkOptions, Sink>({
  type: 'kafka',
  componentType: 'Sink-Kafka',
  options: kafkaSinkOptions,
  ignoredKeys: ['domain'],
  validate: validateKafkaSink,
  async create(name, options, deps) {
    // Imported here so that @platformatic/kafka loads only when a Kafka sink is configured.
    const { createKafkaSink } = await import('./sink.ts');
    return createKafkaSink(name, options, deps);
  },
});
