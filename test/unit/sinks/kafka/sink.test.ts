/**
 * The Kafka sink's delivery logic against a fake client (test/helpers/kafka-fake-producer.ts): partial failures and
 * what a retry re-sends, request sizes, refused messages, unknown topics, async mode, close.
 * The same behaviour on a real broker: test/integration/kafka/sink*.test.ts.
 */
import { afterEach, describe, expect, setSystemTime, test } from 'bun:test';
import type { SectionSpec } from '../../../../src/config/fields.ts';
import { isRetryable } from '../../../../src/core/errors.ts';
import type { ChangeEvent } from '../../../../src/event/event.ts';
import { Logger } from '../../../../src/core/logger.ts';
import { createMetrics, type Metrics } from '../../../../src/metrics/catalogue.ts';
import { murmur2Partition } from '../../../../src/kafka/protocol/partitioner.ts';
import { KafkaSink } from '../../../../src/sinks/kafka/sink.ts';
import { kafkaSinkOptions, type KafkaSinkOptions } from '../../../../src/sinks/kafka/spec.ts';
import { rejection } from '../../../helpers/async.ts';
import { makeTestEvent } from '../../../contract/events.ts';
import { captureLogs } from '../../../helpers/capture-logs.ts';
import { CODES, FakeProducer, networkError } from '../../../helpers/kafka-fake-producer.ts';

const logs = captureLogs();
const sinks: KafkaSink[] = [];

afterEach(async () => {
  setSystemTime();
  await Promise.all(sinks.splice(0).map((s) => s.close()));
});

function options(overrides: Partial<KafkaSinkOptions>): KafkaSinkOptions {
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(kafkaSinkOptions as SectionSpec)) if (field.default !== undefined) defaults[key] = structuredClone(field.default);
  return { ...(defaults as KafkaSinkOptions), hosts: ['kafka:9092'], handlers: ['passthrough'], topicFallback: 't', ...overrides };
}

function makeSink(producer: FakeProducer, overrides: Partial<KafkaSinkOptions> = {}, deadlineMs?: number, name = 'k', metrics: Metrics = createMetrics()): KafkaSink {
  const sink = new KafkaSink(name, options(overrides), Logger.for('Sink-Kafka', name), metrics, { producer, deadlineMs });
  sinks.push(sink);
  return sink;
}

/** Row `id` of table `users`; its partition among 2 is murmur2 of its key. */
function row(i: number, id: number, table = 'users'): ChangeEvent {
  return { ...makeTestEvent(i, 'db1', table), key: ['id'], columns: { id } };
}

const partitionOf = (id: number, partitions = 2) => murmur2Partition(Buffer.from(`["public.users",${id}]`), partitions);
/** Two ids that land in different partitions of a 2-partition topic. */
const [ID_A, ID_B] = (() => {
  const a = 1;
  let b = 2;
  while (partitionOf(b) === partitionOf(a)) b++;
  return [a, b];
})();

const uuids = (messages: Array<{ value: string | undefined }>) => messages.map((m) => (JSON.parse(m.value!) as { UUID: string }).UUID);

describe('partial failures', () => {
  test('a retry of the same batch re-sends only the partitions that were not acknowledged', async () => {
    const producer = new FakeProducer({ t: 2 });
    const failing = `t:${partitionOf(ID_B)}`;
    producer.behaviour = (_call, index) => (index === 0 ? { [failing]: CODES.NOT_LEADER_OR_FOLLOWER } : undefined);
    const sink = makeSink(producer, { maxAttempts: 1 });
    const batch = [row(1, ID_A), row(2, ID_B), row(3, ID_A), row(4, ID_B)];

    const err = await rejection(sink.write(batch));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('NOT_LEADER_OR_FOLLOWER');
    expect(sink.status()).toBe(err.message);
    expect(uuids(producer.written)).toEqual([batch[0]!.uuid, batch[2]!.uuid]);

    await sink.write(batch); // the pipeline retries with the same array
    expect(producer.calls.length).toBe(2);
    expect(uuids(producer.calls[1]!.messages)).toEqual([batch[1]!.uuid, batch[3]!.uuid]);
    expect(uuids(producer.written)).toEqual([batch[0]!.uuid, batch[2]!.uuid, batch[1]!.uuid, batch[3]!.uuid]);
    expect(sink.status()).toBeNull();
    expect(sink.stats()).toBe('total: 4, no topic: 0, skipped: 0, errors: 1, kafka msgs sent: 4, handlers: [passthrough: events: 4], dead-lettered: 0');
  });

  test('within maxAttempts the sink retries by itself, again only the failed partitions', async () => {
    const producer = new FakeProducer({ t: 2 });
    const failing = `t:${partitionOf(ID_B)}`;
    producer.behaviour = (_call, index) => (index < 2 ? { [failing]: CODES.NOT_LEADER_OR_FOLLOWER } : undefined);
    const sink = makeSink(producer, { maxAttempts: 3 });
    const batch = [row(1, ID_A), row(2, ID_B)];
    await sink.write(batch);
    expect(producer.calls.map((c) => uuids(c.messages))).toEqual([[batch[0]!.uuid, batch[1]!.uuid], [batch[1]!.uuid], [batch[1]!.uuid]]);
    expect(producer.written.length).toBe(2);
  });

  test('a broker outage: retryable, nothing acknowledged, then everything on the retry', async () => {
    const producer = new FakeProducer({ t: 2 });
    let down = true;
    producer.behaviour = () => (down ? networkError() : undefined);
    const sink = makeSink(producer, { maxAttempts: 2 });
    const batch = [row(1, ID_A), row(2, ID_B)];
    const err = await rejection(sink.write(batch));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('cannot reach broker 127.0.0.1:9092: connection refused (ECONNREFUSED)');
    expect(sink.status()).toContain('ECONNREFUSED');
    expect(producer.calls.length).toBe(2); // maxAttempts
    down = false;
    await sink.write(batch);
    expect(uuids(producer.written)).toEqual(batch.map((e) => e.uuid));
    expect(sink.status()).toBeNull();
  });

  test('a different batch with the same events is a new batch (progress belongs to the array)', async () => {
    const producer = new FakeProducer({ t: 2 });
    const sink = makeSink(producer);
    const events = [row(1, ID_A), row(2, ID_B)];
    await sink.write(events);
    await sink.write([...events]);
    expect(producer.written.length).toBe(4);
  });
});

describe('produce requests', () => {
  test('messages, bytes and events are counted per topic and table when a batch takes several requests', async () => {
    const producer = new FakeProducer({ u: 2, o: 1 });
    const metrics = createMetrics();
    const sink = makeSink(producer, { batchSize: 2, tableTopicMapping: { users: 'u', orders: 'o' }, topicFallback: '' }, undefined, 'counted', metrics);
    const batch = [
      row(1, ID_A), row(2, ID_B), row(3, ID_A, 'orders'), row(4, ID_A, 'orders'), row(5, ID_A, 'orders'),
      row(6, ID_B), row(7, ID_A, 'other'), row(8, ID_A), row(9, ID_B, 'orders'),
    ];
    await sink.write(batch);
    expect(producer.calls.length).toBeGreaterThan(1);
    const { sinkEvents, kafkaSinkMessages, kafkaSinkBytes, kafkaSinkUnroutedEvents, sinkEventProcessingTime } = metrics;
    const value = async (metric: { get(): Promise<{ values: { labels: object; value: number; metricName?: string }[] }> }, labels: Record<string, string>, name?: string) =>
      (await metric.get()).values.find((v) => (name === undefined || v.metricName === name) &&
        Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value;
    expect(await value(sinkEvents, { sinkName: 'counted', table: 'users' })).toBe(4);
    expect(await value(sinkEvents, { sinkName: 'counted', table: 'orders' })).toBe(4);
    expect(await value(sinkEvents, { sinkName: 'counted', table: 'other' })).toBeUndefined();
    expect(await value(kafkaSinkUnroutedEvents, { sinkName: 'counted', table: 'other' })).toBe(1);
    // Encoding times are observed for a sample: the first event of each table here.
    expect(await value(sinkEventProcessingTime, { sinkName: 'counted', table: 'users' }, 'sink_event_processing_time_sec_count')).toBe(1);
    expect(await value(kafkaSinkMessages, { sinkName: 'counted', topic: 'u' })).toBe(4);
    expect(await value(kafkaSinkMessages, { sinkName: 'counted', topic: 'o' })).toBe(4);
    const bytes = (topic: string) => producer.written.filter((m) => m.topic === topic).reduce((n, m) =>
      n + 20 + Buffer.byteLength(m.key ?? '') + Buffer.byteLength(m.value ?? '') + Object.entries(m.headers).reduce((h, [k, v]) => h + 2 + Buffer.byteLength(k) + Buffer.byteLength(v), 0), 0);
    expect(await value(kafkaSinkBytes, { sinkName: 'counted', topic: 'u' })).toBe(bytes('u'));
    expect(await value(kafkaSinkBytes, { sinkName: 'counted', topic: 'o' })).toBe(bytes('o'));
    expect(producer.written.map((m) => m.topic)).toEqual(expect.arrayContaining(['u', 'o']));
    expect(uuids(producer.written.filter((m) => m.topic === 'o'))).toEqual(batch.filter((e) => e.table === 'orders').map((e) => e.uuid));
  });

  test('an idempotent producer sends through the library (producer id and sequences), the same messages and acks', async () => {
    const producer = new FakeProducer({ t: 2 });
    let batches = 0;
    const produceBatches = producer.produceBatches;
    producer.produceBatches = (...args) => {
      batches++;
      return produceBatches(...args);
    };
    const batch = [row(1, ID_A), row(2, ID_B)];
    await makeSink(producer, { idempotent: true }).write(batch);
    expect(batches).toBe(0);
    expect(producer.calls.map((c) => c.acks)).toEqual([-1]);
    expect(uuids(producer.written).sort()).toEqual(batch.map((e) => e.uuid).sort());
    expect(producer.written[0]!.headers['psql-streamer-table']).toBe('public.users');
  });

  test('at most batchSize messages per partition per request, in order, requests one after another', async () => {
    const producer = new FakeProducer({ t: 2 });
    const sink = makeSink(producer, { batchSize: 2 });
    const batch = [1, 2, 3, 4, 5].flatMap((k) => [row(k * 2, ID_A), row(k * 2 + 1, ID_B)]);
    await sink.write(batch);
    for (const call of producer.calls) {
      const perPartition = new Map<number, number>();
      for (const m of call.messages) perPartition.set(m.partition, (perPartition.get(m.partition) ?? 0) + 1);
      expect(Math.max(...perPartition.values())).toBeLessThanOrEqual(2);
    }
    expect(producer.calls.length).toBe(3);
    for (const id of [ID_A, ID_B]) {
      const sent = producer.written.filter((m) => m.partition === partitionOf(id!));
      expect(uuids(sent)).toEqual(batch.filter((e) => e.columns.id === id).map((e) => e.uuid));
    }
  });

  test('a row key the source wrote into a shared chunk (rowKeyChunk) is sent, and partitioned, as its own bytes', async () => {
    // Two events whose keys sit between other bytes of one buffer, as the byte path writes them.
    const chunk = Buffer.from(`{"line":1}["public.users",${ID_A}]{"line":2}["public.users",${ID_B}]`);
    const ranged = (i: number, id: number): ChangeEvent => {
      const text = `["public.users",${id}]`;
      const start = chunk.indexOf(text);
      return { ...row(i, id), rowKeyChunk: chunk, rowKeyStart: start, rowKeyEnd: start + text.length, rowKeyJson: chunk.subarray(start, start + text.length) };
    };
    for (const idempotent of [false, true]) {
      const producer = new FakeProducer({ t: 2 });
      await makeSink(producer, { idempotent }).write([ranged(1, ID_A), ranged(2, ID_B)]);
      expect(producer.written.map((m) => [m.key, m.partition]).sort()).toEqual([
        [`["public.users",${ID_A}]`, partitionOf(ID_A)],
        [`["public.users",${ID_B}]`, partitionOf(ID_B)],
      ].sort());
    }
  });

  test('requiredAcks is passed with every send', async () => {
    const producer = new FakeProducer({ t: 2 });
    await makeSink(producer, { requiredAcks: 1 }).write([row(1, 1)]);
    await makeSink(producer).write([row(2, 2)]);
    expect(producer.calls.map((c) => c.acks)).toEqual([1, -1]);
  });

  test('partitions from the topic\'s partition count; round-robin without key', async () => {
    const producer = new FakeProducer({ t: 5 });
    await makeSink(producer).write([row(1, 42)]);
    expect(producer.written[0]!.partition).toBe(murmur2Partition(Buffer.from('["public.users",42]'), 5));
    const unkeyed = [row(2, 1), row(3, 1), row(4, 1), row(5, 1), row(6, 1), row(7, 1)];
    await makeSink(producer, { key: 'none' }).write(unkeyed);
    // A request carries each partition's messages together: compare in event order.
    const partitionOfUuid = new Map(producer.written.slice(1).map((m) => [uuids([m])[0], m.partition]));
    expect(unkeyed.map((e) => partitionOfUuid.get(e.uuid))).toEqual([0, 1, 2, 3, 4, 0]);
  });
});

describe('messages that can never be written', () => {
  test('MESSAGE_TOO_LARGE for several messages: one per request until the refused one is found, then dead-lettered', async () => {
    const producer = new FakeProducer({ t: 1, dlq: 1 });
    // The broker refuses any request holding the message of row 3 (as with max.message.bytes).
    producer.behaviour = (call) => (call.messages.some((m) => m.topic === 't' && m.key === '["public.users",3]') ? { 't:0': CODES.MESSAGE_TOO_LARGE } : undefined);
    const sink = makeSink(producer, { deadLetterTopic: 'dlq' });
    const batch = [row(1, 1), row(2, 2), row(3, 3), row(4, 4)];
    await sink.write(batch);
    const toTopic = producer.written.filter((m) => m.topic === 't');
    expect(uuids(toTopic)).toEqual([batch[0]!.uuid, batch[1]!.uuid, batch[3]!.uuid]);
    const dead = producer.written.filter((m) => m.topic === 'dlq');
    expect(uuids(dead)).toEqual([batch[2]!.uuid]);
    expect(dead[0]!.headers).toMatchObject({
      'psql-streamer-error-code': 'MESSAGE_TOO_LARGE',
      'psql-streamer-original-topic': 't',
      'psql-streamer-original-partition': '0',
      'psql-streamer-uuid': batch[2]!.uuid,
      'psql-streamer-wal-position': String(batch[2]!.lsn),
      'psql-streamer-lsn': '0/1000003',
    });
    expect(dead[0]!.key).toBe('["public.users",3]');
    expect(sink.stats()).toContain('kafka msgs sent: 4');
    expect(sink.stats()).toContain('dead-lettered: 1');
  });

  test('a refused record without a dead-letter topic stops the pipeline with what to do', async () => {
    const producer = new FakeProducer({ t: 1 });
    producer.behaviour = () => ({ 't:0': CODES.INVALID_RECORD });
    const sink = makeSink(producer);
    const err = await rejection(sink.write([row(1, 1)]));
    expect(isRetryable(err)).toBe(false);
    expect(err.message).toContain('cannot write the message for public.users insert (LSN 0/1000001');
    expect(err.message).toContain('INVALID_RECORD');
    expect(err.message).toContain('Or set deadLetterTopic');
    expect(sink.status()).toBe(err.message);
  });

  test('a setting the brokers refuse (compression) stops the pipeline and is not dead-lettered', async () => {
    const producer = new FakeProducer({ t: 1, dlq: 1 });
    producer.behaviour = () => ({ 't:0': CODES.UNSUPPORTED_COMPRESSION_TYPE });
    const sink = makeSink(producer, { deadLetterTopic: 'dlq' });
    const err = await rejection(sink.write([row(1, 1)]));
    expect(isRetryable(err)).toBe(false);
    expect(err.message).toContain("the brokers refuse this sink's settings");
    expect(producer.written.length).toBe(0);
  });

  test('a dead-letter topic that does not exist stops the pipeline, naming both topics', async () => {
    const producer = new FakeProducer({ t: 1 });
    producer.behaviour = () => ({ 't:0': CODES.INVALID_RECORD });
    const sink = makeSink(producer, { deadLetterTopic: 'dlq', maxAttempts: 1 });
    const start = Date.now();
    setSystemTime(start);
    expect(isRetryable(await rejection(sink.write([row(1, 1)])))).toBe(true); // unknown for now
    setSystemTime(start + 6_000);
    const err = await rejection(sink.write([row(1, 1)]));
    expect(isRetryable(err)).toBe(false);
    expect(err.message).toContain('cannot write to the dead-letter topic "dlq": topic "dlq" does not exist');
    expect(err.message).toContain('diverted from topic "t"');
  });

  test('an unknown topic: retryable for a grace period, then undeliverable', async () => {
    const producer = new FakeProducer({ dlq: 1 });
    const sink = makeSink(producer, { maxAttempts: 1, deadLetterTopic: 'dlq' });
    const start = Date.now();
    setSystemTime(start);
    const batch = [row(1, 1)];
    const first = await rejection(sink.write(batch));
    expect(isRetryable(first)).toBe(true);
    expect(first.message).toContain('topic "t" does not exist (yet)');
    setSystemTime(start + 6_000);
    await sink.write(batch);
    expect(producer.written.map((m) => [m.topic, m.headers['psql-streamer-error-code']])).toEqual([['dlq', 'UNKNOWN_TOPIC']]);
    // Created later: used again once the verdict expires.
    producer.topics.set('t', 1);
    setSystemTime(start + 30_000);
    await sink.write([row(2, 2)]);
    expect(producer.written.at(-1)!.topic).toBe('t');
  });
});

describe('async mode', () => {
  test('write resolves at once; a failed flush is counted and logged as lost, later flushes go on', async () => {
    const producer = new FakeProducer({ t: 1 });
    producer.behaviour = (_call, index) => (index === 0 ? networkError() : undefined);
    const sink = makeSink(producer, { async: true, batchTimeout: 1, maxAttempts: 1 });
    await sink.write([row(1, 1), row(2, 2)]);
    expect(producer.calls.length).toBe(0);
    await Bun.sleep(30);
    expect(sink.stats()).toContain('errors: 1');
    expect(sink.status()).toContain('async mode: 2 message(s) lost');
    expect(logs.some((l) => l.includes('ERROR') && l.includes('2 message(s) lost'))).toBe(true);
    await sink.write([row(3, 3)]);
    await sink.close();
    expect(uuids(producer.written)).toEqual([row(3, 3).uuid]);
  });

  test('batchSize messages queued flush at once', async () => {
    const producer = new FakeProducer({ t: 1 });
    const sink = makeSink(producer, { async: true, batchTimeout: 60_000, batchSize: 3 });
    await sink.write([row(1, 1), row(2, 2), row(3, 3)]);
    await Bun.sleep(5);
    expect(producer.written.length).toBe(3);
  });
});

describe('lifecycle', () => {
  test('close waits for a write in flight, closes the client, and later writes are refused', async () => {
    const producer = new FakeProducer({ t: 1 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const send = producer.produceBatches;
    producer.produceBatches = async (...args: Parameters<typeof send>) => {
      await gate;
      return send(...args);
    };
    const sink = makeSink(producer);
    const pending = sink.write([row(1, 1)]);
    const closing = sink.close();
    await Bun.sleep(5);
    expect(producer.closed).toBe(false);
    release();
    await pending;
    await closing;
    expect(producer.closed).toBe(true);
    expect(producer.written.length).toBe(1);
    const err = await rejection(sink.write([row(2, 2)]));
    expect(isRetryable(err)).toBe(false);
  });

  test('regression: a client call that never settled held the pipeline without a word; now it fails as a retryable timeout', async () => {
    const producer = new FakeProducer({ t: 1 });
    const send = producer.produceBatches;
    let hang = true;
    producer.produceBatches = (...args: Parameters<typeof send>) => (hang ? new Promise(() => {}) : send(...args));
    const sink = makeSink(producer, { maxAttempts: 1 }, 50);
    const batch = [row(1, 1)];
    const err = await rejection(sink.write(batch));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('no answer from Kafka kafka:9092 for a produce request of 1 message(s) within 0.05s');
    hang = false;
    await sink.write(batch);
    expect(producer.written.length).toBe(1);
  });

  test('an event that cannot be encoded is dead-lettered without value', async () => {
    const producer = new FakeProducer({ t: 1, dlq: 1 });
    const sink = makeSink(producer, { deadLetterTopic: 'dlq' });
    const broken = { ...row(1, 1), columns: { id: 1, bad: { toString: 1 } as never } } as ChangeEvent;
    Object.defineProperty(broken.columns, 'boom', { enumerable: true, get() { throw new Error('unreadable'); } });
    await sink.write([broken]);
    expect(producer.written.map((m) => [m.topic, m.value, m.headers['psql-streamer-error-code']])).toEqual([['dlq', undefined, 'ENCODING_FAILED']]);
  });
});
