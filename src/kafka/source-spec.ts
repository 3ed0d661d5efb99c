/** `[source.NAME]` with `type = "kafka"`: its keys, defaults and cross-key rules. */
import type { OptionProblem } from '../core/component-type.ts';
import { defineComponentType } from '../core/component-type.ts';
import { StreamerError } from '../core/errors.ts';
import { defineSection, type Resolved } from '../config/fields.ts';
import type { Source } from '../sources/source.ts';
import { kafkaClientOptions, validateKafkaClient } from './client-spec.ts';

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
  return problems;
}

/** `type = "kafka"` sources. */
export const kafkaSourceType = defineComponentType<typeof kafkaSourceOptions, Source>({
  type: 'kafka',
  componentType: 'Source-Kafka',
  options: kafkaSourceOptions,
  validate: validateKafkaSource,
  create() {
    return Promise.reject(new StreamerError('CONFIG', 'the kafka source is not available in this build yet (issue 4)', { retryable: false }));
  },
});
