import { describe, expect, test } from 'bun:test';
import { loadConfig } from '../../../src/components.ts';
import { formatProblem } from '../../../src/config/problems.ts';

const FIXTURE = new URL('../../fixtures/config/original-example.toml', import.meta.url).pathname;

describe("the original's example file", async () => {
  const config = await loadConfig(FIXTURE, {});

  test('global keys', () => {
    expect(config.file).toBe(FIXTURE);
    expect(config.http).toBe('127.0.0.1:12080');
    expect(config.tickerIntervalMs).toBe(10_000);
    expect(config.stateFile).toBe('/tmp/psql-streamer.bolt');
    expect(config.logLevel).toBe('info');
    expect(config.logFormat).toBe('text');
    expect(config.shutdownTimeoutMs).toBe(30_000);
  });

  test('sections in file order', () => {
    expect(config.sources.map((s) => [s.name, s.type, s.kind.componentType])).toEqual([
      ['db1', 'postgres', 'Source-PSQL'],
      ['kafka1', 'kafka', 'Source-Kafka'],
    ]);
    expect(config.sinks.map((s) => [s.name, s.type, s.kind.componentType])).toEqual([['kafka1', 'kafka', 'Sink-Kafka']]);
  });

  test('postgres source db1', () => {
    const db1 = config.sources[0]!;
    expect(db1.options).toEqual({
      dsn: 'dbname=test sslmode=disable',
      publication: 'pub1',
      replicationSlot: 'db1',
      startRetryInterval: 2000,
      timeout: 2000,
      walPositionOverride: 0n,
      walRetain: 1_048_576,
      statusInterval: 10_000,
      readCoalesce: 1,
      failoverSlot: true,
      applicationName: 'psql-streamer',
      slotMonitorInterval: 10_000,
      walBudgetWarn: 0,
      walBudgetMax: 0,
      walBudgetAction: 'wait',
      heartbeatInterval: 0,
      heartbeatPrefix: 'psql-streamer-heartbeat',
      heartbeatEvents: false,
      snapshot: 'never',
      snapshotChunkSize: 5_000,
      snapshotChunkBytes: 8 * 1024 * 1024,
      snapshotMaxLag: 64 * 1024 * 1024,
    });
    expect(db1.pipeline).toEqual({
      batchSize: 400,
      batchFlushIntervalMs: 1000,
      sendRetryIntervalMs: 1000,
      maxRetryIntervalMs: 30_000,
      maxBufferedEvents: 10_000,
      maxBufferedBytes: 64 * 1024 * 1024,
    });
    expect([db1.verbose, db1.debug]).toEqual([false, false]);
    expect(db1.location).toEqual({ line: 11, column: 1 });
  });

  test('kafka source kafka1', () => {
    const kafka1 = config.sources[1]!;
    expect(kafka1.options).toEqual({
      hosts: ['kafka1:9092', 'kafka2:9092', 'kafka3:9092'],
      clientId: 'psql-streamer',
      tls: false,
      topics: ['topic1', 'topic2'],
      groupID: 'bar',
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      isolation: 'read_committed',
    });
    expect(kafka1.pipeline).toEqual({
      batchSize: 400,
      batchFlushIntervalMs: 1000,
      sendRetryIntervalMs: 100,
      maxRetryIntervalMs: 30_000,
      maxBufferedEvents: 10_000,
      maxBufferedBytes: 64 * 1024 * 1024,
    });
    expect([kafka1.verbose, kafka1.debug]).toEqual([false, false]);
  });

  test('kafka sink kafka1', () => {
    const sink = config.sinks[0]!;
    expect(sink.sources).toEqual(['kafka1']);
    expect(sink.options).toEqual({
      hosts: ['kafka1:9092', 'kafka2:9092', 'kafka3:9092'],
      clientId: 'psql-streamer',
      tls: false,
      handlers: ['passthrough'],
      tableTopicMapping: { table1: 'topic1', table2: 'topic2' },
      topicFallback: 'garbageBin',
      requiredAcks: -1,
      timeout: 2000,
      maxAttempts: 3,
      batchSize: 100,
      batchTimeout: 10,
      rebalanceInterval: 5000,
      async: false,
      key: 'row',
      partitioner: 'murmur2',
      compression: 'none',
      debeziumTopics: false,
      idempotent: false,
      exactlyOnce: false,
      transactionalId: 'psql-streamer.{sink}.{source}',
      positionTopic: 'psql-streamer-positions',
      transactionTimeout: 60_000,
    });
    expect([sink.verbose, sink.debug]).toEqual([false, false]);
  });

  test('warns that db1 feeds no sink, as the original silently did', () => {
    expect(config.warnings.map(formatProblem)).toEqual([
      `${FIXTURE}:11:1: source.db1: no sink lists this source in its sources: its events will be read and dropped`,
    ]);
  });
});
