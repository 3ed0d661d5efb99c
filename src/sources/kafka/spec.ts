/** `[source.NAME]` with `type = "kafka"`: its keys, defaults and cross-key rules. */
import type { OptionProblem } from '../../component/type.ts';
import { defineComponentType } from '../../component/type.ts';
import { defineSection, positive, type Resolved } from '../../config/fields.ts';
import type { Source } from '../source.ts';
import type { KafkaIsolation } from './consumer.ts';
import { kafkaClientOptions, validateKafkaClient } from '../../kafka/client-spec.ts';

export const kafkaSourceOptions = defineSection({
  ...kafkaClientOptions,
  topics: {
    kind: 'stringList', required: true, unique: true, original: true,
    doc: 'Topics to consume events from (written by psql-streamer, this version or the original)',
  },
  groupID: {
    kind: 'string', required: true, original: true,
    doc: 'Consumer group; instances with the same group share the partitions, a new group starts at the earliest offset',
  },
  deadLetterTopic: {
    kind: 'string',
    doc: 'Topic for messages that are not valid events, with the error and their offset in headers; unset means they are counted, logged and skipped',
  },
  sessionTimeout: {
    kind: 'duration', default: 30_000, check: positive,
    doc: 'A group member not heard of for this long (e.g. killed) is dropped and its partitions go to the others; the brokers allow 6s to 30m by default',
  },
  isolation: {
    kind: 'string', default: 'read_committed', choices: ['read_committed', 'read_uncommitted'],
    doc: 'Which records are read: read_committed skips records of aborted Kafka transactions and waits for open ones to end (what this source always did, and what an exactly-once relay needs); read_uncommitted reads every record as soon as it is written, aborted ones too',
  },
  heartbeatInterval: {
    kind: 'duration', default: 3_000, check: positive,
    doc: 'How often the consumer tells the group it is alive (and learns of a rebalance); below sessionTimeout',
  },
});

/** Resolved keys of a Kafka source. */
export type KafkaSourceOptions = Resolved<typeof kafkaSourceOptions>;

/** Cross-key rules: usable topic names, and a dead-letter topic that is not consumed. */
export function validateKafkaSource(o: KafkaSourceOptions): OptionProblem[] {
  const problems = validateKafkaClient(o);
  if (o.topics.some((t) => t.trim() === '')) problems.push({ key: 'topics', message: 'expected topic names, found ""' });
  if (o.deadLetterTopic !== undefined) {
    if (o.deadLetterTopic.trim() === '') problems.push({ key: 'deadLetterTopic', message: 'expected a topic name, found ""' });
    else if (o.topics.includes(o.deadLetterTopic)) {
      problems.push({ key: 'deadLetterTopic', message: `${JSON.stringify(o.deadLetterTopic)} is also in topics: expected a topic this source does not read` });
    }
  }
  if (o.heartbeatInterval >= o.sessionTimeout) {
    problems.push({ key: 'heartbeatInterval', message: `expected less than sessionTimeout (${o.sessionTimeout}ms), found ${o.heartbeatInterval}ms` });
  }
  return problems;
}

/** `type = "kafka"` sources. */
export const kafkaSourceType = defineComponentType<typeof kafkaSourceOptions, Source>({
  type: 'kafka',
  componentType: 'Source-Kafka',
  options: kafkaSourceOptions,
  validate: validateKafkaSource,
  async create(name, options, deps) {
    // Imported here: a config without Kafka never loads @platformatic/kafka (its import is slow).
    const [{ KafkaSource }, { kafkaConnectionOptions }] = await Promise.all([import('./source.ts'), import('../../kafka/client-options.ts')]);
    return new KafkaSource(name, {
      connection: kafkaConnectionOptions(options),
      topics: options.topics,
      groupId: options.groupID,
      deadLetterTopic: options.deadLetterTopic,
      sessionTimeoutMs: options.sessionTimeout,
      heartbeatIntervalMs: options.heartbeatInterval,
      isolation: options.isolation as KafkaIsolation,
      sinkNames: deps.sinkNames ?? [],
      prepareSinks: deps.prepareSinks,
    }, deps.log, deps.metrics);
  },
});
