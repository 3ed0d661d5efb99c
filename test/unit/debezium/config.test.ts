/** The Debezium format's config keys on the file and Kafka sinks (docs/debezium.md, "Configuration"). */
import { describe, expect, test } from 'bun:test';
import { BASE, load, problems } from '../../helpers/config-load.ts';

/** BASE without its sink: the sinks under test are added. */
const SOURCE = BASE.slice(0, BASE.indexOf('[sink.'));

const kafka = (lines: string) => `${SOURCE}
[sink.k]
type = "kafka"
sources = ["db1"]
hosts = ["127.0.0.1:9092"]
${lines}
`;

const sinkOptions = (text: string) => load(text).sinks[0]!.options as Record<string, unknown>;

describe('Debezium format keys', () => {
  test('file sink: format = "debezium" with its keys; passthrough when left out', () => {
    const options = sinkOptions(`${SOURCE}
[sink.f]
type = "file"
sources = ["db1"]
path = "/tmp/out"
format = "debezium"
debeziumTopicPrefix = "shop"
debeziumDecimalHandlingMode = "STRING"
debeziumTombstones = false
`);
    expect(options).toMatchObject({ format: 'debezium', debeziumTopicPrefix: 'shop', debeziumDecimalHandlingMode: 'string', debeziumTombstones: false });
    expect(sinkOptions(`${SOURCE}\n[sink.f]\ntype = "file"\nsources = ["db1"]\npath = "/tmp/out"\n`).format).toBeUndefined();
    expect(problems(`${SOURCE}\n[sink.f]\ntype = "file"\nsources = ["db1"]\npath = "/tmp/out"\nformat = "avro"\n`).join('\n')).toContain('format');
  });

  test('Kafka sink: the debezium handler, with Debezium topic names instead of a mapping', () => {
    const options = sinkOptions(kafka('handlers = ["debezium"]\ndebeziumTopics = true'));
    expect(options).toMatchObject({ handlers: ['debezium'], debeziumTopics: true });
    expect(sinkOptions(kafka('handlers = ["debezium"]\ntopicFallback = "events"'))).toMatchObject({ debeziumTopics: false });
  });

  test('Kafka sink: one handler; debeziumTopics needs the debezium handler and no mapping', () => {
    expect(problems(kafka('handlers = ["passthrough", "debezium"]\ntopicFallback = "events"')).join('\n')).toContain('expected one handler, found 2');
    expect(problems(kafka('handlers = ["passthrough"]\ndebeziumTopics = true')).join('\n')).toContain('needs handlers = ["debezium"]');
    expect(problems(kafka('handlers = ["debezium"]\ndebeziumTopics = true\ntopicFallback = "events"')).join('\n')).toContain('remove tableTopicMapping and topicFallback');
  });
});
