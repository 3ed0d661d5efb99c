/**
 * Config files for tests that run the streamer (a child process, the built binary, an image) or
 * parse a config: one builder per section, so a change of a key or a default is made once.
 * `streamerToml` puts the top-level keys and the sections together; `postgresToFileToml` and
 * `postgresToKafkaToml` are the two common shapes.
 */
import type { PgServer } from './pg.ts';
import { dsnFor } from './postgres-source.ts';

/** The top-level keys and the sections of one config file. */
export interface StreamerToml {
  /** The SQLite state file (`boltdb`); none for a Kafka source alone (it keeps no state file). */
  state?: string;
  /** Extra top-level lines (e.g. `shutdownTimeout = "30s"`). */
  top?: string;
  /** The HTTP listen address; default a free port on 127.0.0.1. */
  http?: string;
  /** `[source.*]` and `[sink.*]` sections, in order. */
  sections: readonly string[];
}

/** A whole config file: `http`, `boltdb`, extra top-level lines, then the sections. */
export function streamerToml(c: StreamerToml): string {
  return `
http = "${c.http ?? '127.0.0.1:0'}"
${c.state === undefined ? '' : `boltdb = "${c.state}"`}
${c.top ?? ''}
${c.sections.join('')}`;
}

/** A `[source.NAME]` section of type postgres. */
export interface PostgresSourceToml {
  /** The server the DSN points at (unless `dsn` is given). */
  server?: PgServer;
  /** The DSN, when not the server's default (`dsnFor(server)`). */
  dsn?: string;
  publication: string;
  slot: string;
  /** The section's name; default `db1`. */
  name?: string;
  /** Default "20ms" (quick flushes); null leaves the key out (the product default). */
  batchFlushInterval?: string | null;
  /** Default "200ms" (quick status updates); null leaves the key out (the product default). */
  statusInterval?: string | null;
  /** Extra lines of the section (e.g. `startRetryInterval = "100ms"`). */
  source?: string;
}

/** `[source.NAME]` (postgres): DSN, publication, slot, quick flushes and status updates unless told. */
export function postgresSourceToml(c: PostgresSourceToml): string {
  const dsn = c.dsn ?? (c.server ? dsnFor(c.server) : undefined);
  if (dsn === undefined) throw new Error('postgresSourceToml: give a server or a dsn');
  const line = (key: string, value: string | null | undefined, fallback: string) =>
    value === null ? '' : `${key} = "${value ?? fallback}"\n`;
  return `
[source.${c.name ?? 'db1'}]
type = "postgres"
dsn = "${dsn}"
publication = "${c.publication}"
replicationSlot = "${c.slot}"
${line('batchFlushInterval', c.batchFlushInterval, '20ms')}${line('statusInterval', c.statusInterval, '200ms')}${c.source ?? ''}
`;
}

/** A `[source.NAME]` section of type kafka. */
export interface KafkaSourceToml {
  name: string;
  brokers: readonly string[];
  topics: readonly string[];
  group: string;
  /** Quick flushes, retries and group timing for tests (default true); false leaves the product defaults. */
  quick?: boolean;
  /** Extra lines of the section (e.g. `deadLetterTopic = "dlq"`). */
  source?: string;
}

/** `[source.NAME]` (kafka): brokers, topics, consumer group, quick timing unless told. */
export function kafkaSourceToml(c: KafkaSourceToml): string {
  const quick = c.quick === false ? '' : `batchFlushInterval = "20ms"
sendRetryInterval = "50ms"
sessionTimeout = "6s"
heartbeatInterval = "500ms"
`;
  return `
[source.${c.name}]
type = "kafka"
hosts = ${JSON.stringify(c.brokers)}
topics = ${JSON.stringify(c.topics)}
groupID = "${c.group}"
${quick}${c.source ?? ''}
`;
}

/** `[sink.NAME]` of `type`, fed by `sources` (default `["db1"]`), with its own lines. */
export function sinkToml(name: string, type: string, lines = '', sources: readonly string[] = ['db1']): string {
  return `
[sink.${name}]
type = "${type}"
sources = ${JSON.stringify(sources)}
${lines}
`;
}

/** `[sink.NAME]` of type kafka (default name `kafka`): passthrough handler, the given brokers, extra lines. */
export function kafkaSinkToml(c: { brokers: readonly string[]; name?: string; sources?: readonly string[]; sink?: string }): string {
  return sinkToml(c.name ?? 'kafka', 'kafka', `hosts = ${JSON.stringify(c.brokers)}\nhandlers = ["passthrough"]\n${c.sink ?? ''}`, c.sources);
}

export interface PostgresToFileConfig extends PostgresSourceToml {
  /** SQLite state file. */
  state: string;
  /** The file sink's output. */
  out: string;
  /** Extra top-level lines (e.g. `shutdownTimeout = "30s"`). */
  top?: string;
  /** The HTTP listen address; default a free port on 127.0.0.1. */
  http?: string;
}

/** `[source.db1]` (postgres, quick flushes and status updates) → `[sink.out]` (file), HTTP on a free port. */
export function postgresToFileToml(c: PostgresToFileConfig): string {
  return streamerToml({
    state: c.state,
    top: c.top,
    http: c.http,
    sections: [postgresSourceToml(c), sinkToml('out', 'file', `path = "${c.out}"`, [c.name ?? 'db1'])],
  });
}

export interface PostgresToKafkaConfig extends PostgresSourceToml {
  /** SQLite state file. */
  state: string;
  brokers: readonly string[];
  /** Extra lines of `[sink.kafka]` (e.g. `topicFallback = "events"`). */
  sink?: string;
  /** Extra top-level lines. */
  top?: string;
  /** The HTTP listen address; default a free port on 127.0.0.1. */
  http?: string;
}

/** `[source.db1]` (postgres, as postgresToFileToml) → `[sink.kafka]` (passthrough), HTTP on a free port. */
export function postgresToKafkaToml(c: PostgresToKafkaConfig): string {
  return streamerToml({
    state: c.state,
    top: c.top,
    http: c.http,
    sections: [postgresSourceToml(c), kafkaSinkToml({ brokers: c.brokers, sink: c.sink, sources: [c.name ?? 'db1'] })],
  });
}
