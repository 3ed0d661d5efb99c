/**
 * The Kafka sink on the real broker: routing, keys and partitions (checked against the Java client),
 * headers, acks, messages that can never be written (dead-letter topic or permanent error), a retry
 * that re-sends only what was not acknowledged, async mode, compression, an unreachable broker.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { isRetryable } from '../../../src/core/errors.ts';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { fnv1aPartition, murmur2Partition } from '../../../src/kafka/protocol/partitioner.ts';
import { rejection } from '../../helpers/async.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { deleteTopics, uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { waitFor } from '../../helpers/streamer.ts';
import {
  captureProduceAcks,
  createTopicWithConfigs,
  javaPartitions,
  makeKafkaSink,
  readTopic,
  topicSize,
} from '../../helpers/kafka-sink.ts';

const ownTopics: string[] = [];
// Registered before useKafka's hooks, so it runs while the broker is still there.
afterAll(async () => {
  await deleteTopics(kafka.admin(), ownTopics.splice(0)).catch(() => {});
});
const kafka = useKafka();
const logs = captureLogs();

/** A topic with topic configs, deleted after the file. */
async function topicWith(prefix: string, partitions: number, configs: Record<string, string>): Promise<string> {
  const topic = uniqueTopic(prefix);
  await createTopicWithConfigs(kafka.admin(), topic, partitions, configs);
  ownTopics.push(topic);
  return topic;
}

/** A row change of `table` for row `id`, with key column `id`. */
function rowEvent(i: number, id: number, table = 'users', action: ChangeEvent['action'] = 'update', schema = 'public'): ChangeEvent {
  return { ...makeTestEvent(i, 'db1', table), schema, action, key: ['id'], columns: { id, name: `v${i}` } };
}

const uuidOf = (value: string | undefined) => (JSON.parse(value!) as { UUID: string }).UUID;

describe('routing', () => {
  test('schema.table, then the bare table, then the fallback; tables without a topic are counted and skipped', async () => {
    const [qualified, bare, fallback] = await Promise.all(['qualified', 'bare', 'fallback'].map((prefix) => kafka.createTopic({ prefix })));
    const brokers = kafka.server.brokers;
    const sink = await makeKafkaSink('route', {
      hosts: brokers,
      tableTopicMapping: { 'billing.invoices': qualified!, invoices: bare! },
      topicFallback: fallback!,
    });
    const noFallback = await makeKafkaSink('route-nofb', { hosts: brokers, tableTopicMapping: { invoices: bare! } });
    try {
      const events = [
        rowEvent(1, 1, 'invoices', 'insert', 'billing'),
        rowEvent(2, 2, 'invoices', 'insert', 'public'),
        rowEvent(3, 3, 'orders', 'insert', 'public'),
        rowEvent(4, 4, 'Invoices', 'insert', 'public'), // case-sensitive: not "invoices"
      ];
      await sink.write(events);
      const [q, b, f] = await Promise.all([readTopic(brokers, qualified!, 1), readTopic(brokers, bare!, 1), readTopic(brokers, fallback!, 2)]);
      expect(q.map((m) => uuidOf(m.value))).toEqual([events[0]!.uuid]);
      expect(b.map((m) => uuidOf(m.value))).toEqual([events[1]!.uuid]);
      expect(f.map((m) => uuidOf(m.value))).toEqual([events[2]!.uuid, events[3]!.uuid]);

      noFallback.setDebug(true);
      await noFallback.write([rowEvent(5, 5, 'invoices'), rowEvent(6, 6, 'orders'), rowEvent(7, 7, 'orders')]);
      expect(noFallback.stats()).toStartWith('total: 3, no topic: 2, skipped: 0, errors: 0, kafka msgs sent: 1, handlers: [passthrough: events: 1]');
      expect(logs.some((l) => l.includes('No topic found for public.orders, skipping'))).toBe(true);
      expect(await topicSize(brokers, bare!)).toBe(2);
    } finally {
      await Promise.all([sink.close(), noFallback.close()]);
    }
  }, 60_000);
});

describe('keys and partitions', () => {
  test('row keys: every change of a row in one partition, the one the Java client picks', async () => {
    const topic = await kafka.createTopic({ prefix: 'keys', partitions: 3 });
    const brokers = kafka.server.brokers;
    const sink = await makeKafkaSink('keys', { hosts: brokers, topicFallback: topic });
    try {
      const events: ChangeEvent[] = [];
      for (let round = 0; round < 3; round++) {
        for (let id = 1; id <= 12; id++) events.push(rowEvent(events.length, id, 'users', round === 0 ? 'insert' : round === 1 ? 'update' : 'delete'));
      }
      await sink.write(events.slice(0, 12));
      await sink.write(events.slice(12));
      const read = await readTopic(brokers, topic, events.length);
      expect(read.length).toBe(events.length);

      const keys = [...new Set(read.map((m) => m.key!))].sort();
      expect(keys.length).toBe(12);
      const java = await javaPartitions(keys, 3);
      const javaOf = new Map(keys.map((k, i) => [k, java[i]!]));
      const used = new Set<number>();
      for (const m of read) {
        expect(m.partition).toBe(murmur2Partition(Buffer.from(m.key!), 3));
        expect(m.partition).toBe(javaOf.get(m.key!)!);
        used.add(m.partition);
      }
      expect(used.size).toBeGreaterThan(1); // 12 keys over 3 partitions
      // Per row: insert, update, delete, in this order, in its partition.
      for (let id = 1; id <= 12; id++) {
        const ofRow = read.filter((m) => m.key === `["public.users",${id}]`);
        expect(ofRow.map((m) => (JSON.parse(m.value!) as { Action: string }).Action)).toEqual(['insert', 'update', 'delete']);
      }
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('partitioner fnv1a with the original key: the original psql-streamer\'s partitions', async () => {
    const topic = await kafka.createTopic({ prefix: 'fnv', partitions: 3 });
    const brokers = kafka.server.brokers;
    const sink = await makeKafkaSink('fnv', { hosts: brokers, topicFallback: topic, key: 'original', partitioner: 'fnv1a' });
    try {
      const tables = ['users', 'orders', 'lines', 'items', 'accounts', 'carts'];
      const events = tables.flatMap((table, t) => (['insert', 'update', 'delete'] as const).map((action, a) => rowEvent(t * 3 + a, t, table, action)));
      await sink.write(events);
      const read = await readTopic(brokers, topic, events.length);
      expect(read.length).toBe(events.length);
      for (const m of read) {
        const value = JSON.parse(m.value!) as { Host: string; Database: string; Table: string; Action: string };
        expect(m.key).toBe(`${value.Host}:${value.Database}:${value.Table}:${value.Action}`);
        expect(m.partition).toBe(fnv1aPartition(Buffer.from(m.key!), 3));
      }
      expect(new Set(read.map((m) => m.partition)).size).toBeGreaterThan(1);
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('key "none": no key, spread over the partitions', async () => {
    const topic = await kafka.createTopic({ prefix: 'nokey', partitions: 3 });
    const brokers = kafka.server.brokers;
    const sink = await makeKafkaSink('nokey', { hosts: brokers, topicFallback: topic, key: 'none' });
    try {
      await sink.write(Array.from({ length: 9 }, (_, i) => rowEvent(i, 1)));
      const read = await readTopic(brokers, topic, 9);
      expect(read.every((m) => m.key === undefined)).toBe(true);
      expect(new Set(read.map((m) => m.partition))).toEqual(new Set([0, 1, 2]));
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('events without key columns are keyed by their table', async () => {
    const topic = await kafka.createTopic({ prefix: 'truncate' });
    const brokers = kafka.server.brokers;
    const sink = await makeKafkaSink('truncate', { hosts: brokers, topicFallback: topic });
    try {
      await sink.write([{ ...makeTestEvent(1, 'db1', 'users'), action: 'truncate', columns: {} }]);
      const [m] = await readTopic(brokers, topic, 1);
      expect(m!.key).toBe('["public.users"]');
    } finally {
      await sink.close();
    }
  }, 60_000);
});

test('headers: source, schema.table, commit LSN as X/Y, action', async () => {
  const topic = await kafka.createTopic({ prefix: 'headers' });
  const brokers = kafka.server.brokers;
  const sink = await makeKafkaSink('headers', { hosts: brokers, topicFallback: topic });
  try {
    const event = { ...rowEvent(1, 7, 'users', 'delete', 'app'), source: 'main-db', lsn: 0x1_0000_0010n, commitLsn: 0x1_0000_00a0n };
    await sink.write([event]);
    const [m] = await readTopic(brokers, topic, 1);
    expect(m!.headers).toEqual({
      'psql-streamer-source': 'main-db',
      'psql-streamer-table': 'app.users',
      'psql-streamer-lsn': '1/A0',
      'psql-streamer-action': 'delete',
    });
    expect(m!.key).toBe('["app.users",7]');
  } finally {
    await sink.close();
  }
}, 60_000);

describe('acknowledgements', () => {
  test('requiredAcks goes on the wire: -1 (all in-sync replicas) by default, 1 and 0 when configured', async () => {
    const brokers = kafka.server.brokers;
    for (const requiredAcks of [-1, 1, 0]) {
      const topic = await kafka.createTopic({ prefix: `acks${requiredAcks}` });
      const sink = await makeKafkaSink(`acks${requiredAcks}`, requiredAcks === -1 ? { hosts: brokers, topicFallback: topic } : { hosts: brokers, topicFallback: topic, requiredAcks });
      try {
        const acks = await captureProduceAcks(() => sink.write([rowEvent(1, 1), rowEvent(2, 2)]));
        expect(acks.length).toBeGreaterThan(0);
        expect(new Set(acks)).toEqual(new Set([requiredAcks]));
        await waitFor('the messages', async () => (await topicSize(brokers, topic)) === 2, 10_000);
      } finally {
        await sink.close();
      }
    }
  }, 60_000);
});

test('a record the topic refuses (a compacted topic needs keys): dead-lettered with the broker\'s reason', async () => {
  const topic = await topicWith('compacted', 1, { 'cleanup.policy': 'compact' });
  const dlq = await kafka.createTopic({ prefix: 'dlq-record' });
  const brokers = kafka.server.brokers;
  const sink = await makeKafkaSink('compacted', { hosts: brokers, topicFallback: topic, key: 'none', deadLetterTopic: dlq });
  try {
    await sink.write([rowEvent(1, 1)]);
    const [dead] = await readTopic(brokers, dlq, 1);
    expect(dead!.headers['psql-streamer-error-code']).toBe('INVALID_RECORD');
    expect(dead!.headers['psql-streamer-error']).toContain('INVALID_RECORD');
    expect(await topicSize(brokers, topic)).toBe(0);
  } finally {
    await sink.close();
  }
}, 60_000);

describe('messages that can never be written', () => {
  /** An event whose JSON is about `bytes` long. */
  const bigEvent = (i: number, bytes: number) => ({ ...rowEvent(i, 100 + i), columns: { id: 100 + i, blob: 'x'.repeat(bytes) } });

  test('too large for the topic: to the dead-letter topic with error headers; the rest in order; the batch succeeds', async () => {
    const topic = await topicWith('small', 1, { 'max.message.bytes': '3000' });
    const dlq = await kafka.createTopic({ prefix: 'dlq' });
    const brokers = kafka.server.brokers;
    const metrics = createMetrics();
    const sink = await makeKafkaSink('dlq', { hosts: brokers, topicFallback: topic, deadLetterTopic: dlq }, undefined, metrics);
    try {
      // Small events that together exceed 3000 bytes (one request would be refused) and one 5000-byte event.
      const batch = [rowEvent(1, 1), rowEvent(2, 2), bigEvent(3, 5000), ...Array.from({ length: 10 }, (_, k) => ({ ...rowEvent(4 + k, 4 + k), columns: { id: 4 + k, pad: 'p'.repeat(400) } }))];
      await sink.write(batch);
      const kept = await readTopic(brokers, topic, 12);
      expect(kept.map((m) => uuidOf(m.value))).toEqual(batch.filter((_, k) => k !== 2).map((e) => e.uuid));
      const [dead] = await readTopic(brokers, dlq, 1);
      expect(uuidOf(dead!.value)).toBe(batch[2]!.uuid);
      expect(dead!.key).toBe('["public.users",103]');
      expect(dead!.headers).toMatchObject({
        'psql-streamer-source': 'db1',
        'psql-streamer-table': 'public.users',
        'psql-streamer-action': 'update',
        'psql-streamer-error-code': 'MESSAGE_TOO_LARGE',
        'psql-streamer-original-topic': topic,
        'psql-streamer-original-partition': '0',
        'psql-streamer-wal-position': String(batch[2]!.lsn),
        'psql-streamer-uuid': batch[2]!.uuid,
      });
      expect(dead!.headers['psql-streamer-error']).toContain('too large');
      expect(sink.stats()).toContain('dead-lettered: 1');
      expect(sink.status()).toBeNull();
      const deadLettered = (await metrics.kafkaSinkDeadLettered.get()).values.find((v) => v.labels.sinkName === 'dlq')?.value;
      expect(deadLettered).toBe(1);
      expect(logs.some((l) => l.includes(`goes to dead-letter topic "${dlq}"`))).toBe(true);
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('too large for the dead-letter topic too: written there without its value', async () => {
    const topic = await topicWith('small2', 1, { 'max.message.bytes': '3000' });
    const dlq = await topicWith('dlq-small', 1, { 'max.message.bytes': '3000' });
    const brokers = kafka.server.brokers;
    const sink = await makeKafkaSink('dlq2', { hosts: brokers, topicFallback: topic, deadLetterTopic: dlq });
    try {
      const big = bigEvent(1, 6000);
      await sink.write([big]);
      const [dead] = await readTopic(brokers, dlq, 1);
      expect(dead!.value).toBeUndefined();
      expect(Number(dead!.headers['psql-streamer-dropped-value-bytes'])).toBeGreaterThan(6000);
      expect(dead!.headers['psql-streamer-uuid']).toBe(big.uuid);
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('too large and no dead-letter topic: a permanent error naming the topic, the size and the fix', async () => {
    const topic = await topicWith('small3', 1, { 'max.message.bytes': '3000' });
    const brokers = kafka.server.brokers;
    const sink = await makeKafkaSink('nodlq', { hosts: brokers, topicFallback: topic });
    try {
      const err = await rejection(sink.write([rowEvent(1, 1), bigEvent(2, 5000)]));
      expect(isRetryable(err)).toBe(false);
      expect(err.message).toContain(`to topic "${topic}"`);
      expect(err.message).toMatch(/\d+ bytes is too large/);
      expect(err.message).toContain('MESSAGE_TOO_LARGE');
      expect(err.message).toContain('max.message.bytes');
      expect(err.message).toContain('deadLetterTopic');
      expect(sink.status()).toBe(err.message);
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('an illegal topic name: dead-lettered, or a permanent error that says how to fix it', async () => {
    const dlq = await kafka.createTopic({ prefix: 'dlq-name' });
    const brokers = kafka.server.brokers;
    const withDlq = await makeKafkaSink('badname', { hosts: brokers, topicFallback: 'not a topic!', deadLetterTopic: dlq });
    const without = await makeKafkaSink('badname2', { hosts: brokers, topicFallback: 'not a topic!' });
    try {
      await withDlq.write([rowEvent(1, 1)]);
      const [dead] = await readTopic(brokers, dlq, 1);
      expect(dead!.headers['psql-streamer-error-code']).toBe('INVALID_TOPIC');
      expect(dead!.headers['psql-streamer-original-topic']).toBe('not a topic!');
      expect(dead!.headers['psql-streamer-original-partition']).toBeUndefined();
      const err = await rejection(without.write([rowEvent(2, 2)]));
      expect(isRetryable(err)).toBe(false);
      expect(err.message).toContain('"not a topic!" is not a legal topic name');
      expect(err.message).toContain('Fix tableTopicMapping/topicFallback');
    } finally {
      await Promise.all([withDlq.close(), without.close()]);
    }
  }, 60_000);
});

test('async mode: write resolves before the broker answers; close flushes', async () => {
  const topic = await kafka.createTopic({ prefix: 'async' });
  const brokers = kafka.server.brokers;
  const sink = await makeKafkaSink('async', { hosts: brokers, topicFallback: topic, async: true, batchTimeout: 50 });
  expect(logs.some((l) => l.includes('ASYNC: delivery is not confirmed, data can be lost'))).toBe(true);
  const batches = Array.from({ length: 5 }, (_, b) => Array.from({ length: 20 }, (_, k) => rowEvent(b * 20 + k, b * 20 + k)));
  for (const batch of batches) await sink.write(batch);
  await sink.close();
  const read = await readTopic(brokers, topic, 100);
  expect(read.map((m) => uuidOf(m.value))).toEqual(batches.flat().map((e) => e.uuid));
}, 60_000);

test('compression: every codec is written and read back', async () => {
  const brokers = kafka.server.brokers;
  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const topic = await kafka.createTopic({ prefix: `codec-${compression}` });
    const sink = await makeKafkaSink(`codec-${compression}`, { hosts: brokers, topicFallback: topic, compression });
    try {
      const batch = Array.from({ length: 10 }, (_, i) => rowEvent(i, i));
      await sink.write(batch);
      const read = await readTopic(brokers, topic, 10);
      expect(read.map((m) => uuidOf(m.value))).toEqual(batch.map((e) => e.uuid));
    } finally {
      await sink.close();
    }
  }
}, 90_000);

test('idempotent producer', async () => {
  const topic = await kafka.createTopic({ prefix: 'idempotent' });
  const brokers = kafka.server.brokers;
  const sink = await makeKafkaSink('idem', { hosts: brokers, topicFallback: topic, idempotent: true });
  try {
    await sink.write(Array.from({ length: 10 }, (_, i) => rowEvent(i, i)));
    await sink.write(Array.from({ length: 10 }, (_, i) => rowEvent(10 + i, i)));
    expect(await topicSize(brokers, topic)).toBe(20);
  } finally {
    await sink.close();
  }
}, 60_000);

test('unreachable broker: a clear status and log line, a retryable write error', async () => {
  const sink = await makeKafkaSink('nowhere', { hosts: ['127.0.0.1:1'], topicFallback: 't', timeout: 500, maxAttempts: 1 });
  try {
    await waitFor('status to report the broker', () => sink.status() !== null, 10_000);
    // Not OK from the start: "connecting" until the brokers answer, then the reason, said once.
    expect(sink.status()).toMatch(/^connecting: /);
    await waitFor('status to report the broker', () => /connection refused/.test(sink.status() ?? ''), 10_000);
    expect(sink.status()).toMatch(/^connecting: cannot reach broker 127\.0\.0\.1:1: connection refused \(ECONNREFUSED\) \(attempt 1 failed, retrying in \d(\.\d)? s\)$/);
    expect(logs.some((l) => l.includes('ERROR') && l.includes('cannot reach broker 127.0.0.1:1: connection refused'))).toBe(true);
    const err = await rejection(sink.write([rowEvent(1, 1)]));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('127.0.0.1:1');
  } finally {
    await sink.close();
  }
}, 30_000);
