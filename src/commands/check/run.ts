/**
 * `psql-streamer check --live`: runs the checks of every configured source and sink at once and
 * collects them into a report (docs/operations.md, "Readiness: check --live"). Components without
 * live checks (stub sinks) report that there is nothing to check.
 */
import type { Config, SinkConfig, SourceConfig } from '../../config/schema.ts';
import { describeError } from '../../core/errors.ts';
import type { HttpSinkOptions } from '../../sinks/http/spec.ts';
import type { KafkaSinkOptions } from '../../sinks/kafka/spec.ts';
import type { NatsSinkOptions } from '../../sinks/nats/spec.ts';
import type { KafkaSourceOptions } from '../../sources/kafka/spec.ts';
import type { PostgresSourceOptions } from '../../sources/postgres/spec.ts';
import { checkFilePath } from './file.ts';
import { sinkTopics, sourceTopics, transactionalIds } from './kafka-eval.ts';
import type { CheckProgress } from './progress.ts';
import { fail, ok, type CheckGroup, type LiveReport } from './result.ts';

async function checkSource(source: SourceConfig, config: Config): Promise<CheckGroup> {
  const group: CheckGroup = { kind: 'source', name: source.name, type: source.type, results: [] };
  if (source.type === 'postgres') {
    const { checkPostgresSource } = await import('./postgres.ts');
    return checkPostgresSource(source.name, source.options as PostgresSourceOptions, { configFile: config.file, stateFile: config.stateFile });
  }
  if (source.type === 'kafka') {
    const options = source.options as KafkaSourceOptions;
    const { checkKafka } = await import('./kafka.ts');
    return checkKafka(group, options, sourceTopics(options));
  }
  group.results.push(ok('live', `no live check for type ${source.type}`));
  return group;
}

async function checkSink(sink: SinkConfig): Promise<CheckGroup> {
  const group: CheckGroup = { kind: 'sink', name: sink.name, type: sink.type, results: [] };
  if (sink.type === 'kafka') {
    const options = sink.options as KafkaSinkOptions;
    const { checkKafka } = await import('./kafka.ts');
    const positions = options.exactlyOnce ? { topic: options.positionTopic, ids: transactionalIds(sink.name, options, sink.sources) } : undefined;
    return checkKafka(group, options, sinkTopics(options), positions);
  }
  if (sink.type === 'http') {
    const { checkHttpSink } = await import('./http.ts');
    return checkHttpSink(group, sink.options as HttpSinkOptions);
  }
  if (sink.type === 'nats') {
    const { checkNats } = await import('./nats.ts');
    return checkNats(group, sink.options as NatsSinkOptions);
  }
  if (sink.type === 'file') {
    const path = (sink.options as { path: string }).path;
    group.target = path;
    group.results.push(checkFilePath(path));
    return group;
  }
  group.results.push(ok('live', `nothing to check for type ${sink.type}`));
  return group;
}

/**
 * A check that threw (a bug, or an error nobody classified) is a FAIL of its component, not a crash.
 * `progress` learns when it starts and ends.
 */
async function guarded(kind: 'source' | 'sink', name: string, type: string, run: () => Promise<CheckGroup>, progress?: CheckProgress): Promise<CheckGroup> {
  const label = `${kind} ${name} (${type})`;
  progress?.start(label);
  try {
    return await run();
  } catch (err) {
    return { kind, name, type, results: [fail('live', `the check failed: ${describeError(err)}`, 'see the message')] };
  } finally {
    progress?.finish(label);
  }
}

/** Checks every source and sink at once; `progress` (total: sources + sinks) follows them. */
export async function runLiveCheck(config: Config, progress?: CheckProgress): Promise<LiveReport> {
  const groups = await Promise.all([
    ...config.sources.map((s) => guarded('source', s.name, s.type, () => checkSource(s, config), progress)),
    ...config.sinks.map((s) => guarded('sink', s.name, s.type, () => checkSink(s), progress)),
  ]);
  return { configFile: config.file, groups };
}
