/**
 * The Kafka sink's own record batches and Produce requests on the real broker, in the classic (v3,
 * v8) and flexible (v11) encodings: what the broker stores, and a request whose partitions get
 * different answers (one refused as too large, the others appended), and many requests in flight on
 * one connection with their batches written behind the library's frames (request-splice.ts).
 */
import { afterAll, expect, test } from 'bun:test';
import { Producer } from '@platformatic/kafka';
import { messageHeaders } from '../../../src/kafka/headers.ts';
import { encodeRecordBatch, type BatchRecord } from '../../../src/kafka/protocol/record-batch.ts';
import { produceOutcome } from '../../../src/sinks/kafka/outcome.ts';
import { partitionKey } from '../../../src/sinks/kafka/message.ts';
import { BatchTransport, type PartitionBatch } from '../../../src/sinks/kafka/transport.ts';
import { deleteTopics, uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { createTopicWithConfigs, readTopic } from '../../helpers/kafka-sink.ts';

const ownTopics: string[] = [];
afterAll(async () => {
  await deleteTopics(kafka.admin(), ownTopics.splice(0)).catch(() => {});
});
const kafka = useKafka();

async function topicWith(prefix: string, partitions: number, configs: Record<string, string> = {}): Promise<string> {
  const topic = uniqueTopic(prefix);
  await createTopicWithConfigs(kafka.admin(), topic, partitions, configs);
  ownTopics.push(topic);
  return topic;
}

const record = (key: string | undefined, value: string | undefined, headers: Array<[string, string]> = []): BatchRecord => ({
  key: key === undefined ? undefined : Buffer.from(key),
  value: value === undefined ? undefined : Buffer.from(value),
  headers: messageHeaders(headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
});

function batch(topic: string, partition: number, records: BatchRecord[]): PartitionBatch {
  return { topic, partition, partitionKey: partitionKey(topic, partition), batch: encodeRecordBatch(records, Date.now()) };
}

/**
 * Sends until every partition acknowledged, re-sending only the ones that failed (as the sink does):
 * a new topic's partitions can answer NOT_LEADER_OR_FOLLOWER for a moment.
 */
async function produceAll(transport: BatchTransport, batches: PartitionBatch[], acks: number): Promise<void> {
  let left = batches;
  for (let attempt = 0; left.length > 0; attempt++) {
    const failed = new Set<string>();
    for (const o of await transport.produce(left, acks)) {
      if (o.error !== undefined) for (const [key, failure] of produceOutcome(o.error, o.partitionKeys).failed) {
        if (failure.kind !== 'retryable' || attempt >= 50) throw o.error;
        failed.add(key);
      }
    }
    left = left.filter((b) => failed.has(b.partitionKey));
    if (left.length > 0) await Bun.sleep(100);
  }
}

for (const version of [3, 8, 11]) {
  test(`Produce v${version}: the broker stores our batches as written (keys, values, null key and value, headers, order)`, async () => {
    const topic = await topicWith(`raw-v${version}`, 2);
    const producer = new Producer({ clientId: 'raw-test', bootstrapBrokers: kafka.server.brokers });
    try {
      const transport = new BatchTransport(producer, 2000, version);
      await produceAll(transport, [
        batch(topic, 0, [record('k1', 'v1', [['h', 'x'], ['é', 'ü']]), record(undefined, 'v2'), record('k3', undefined)]),
        batch(topic, 1, [record('k4', 'x'.repeat(20_000))]),
      ], -1);
      const read = await readTopic(kafka.server.brokers, topic, 4);
      expect(read.map((m) => [m.partition, Number(m.offset), m.key, m.value?.length ?? null, m.headers])).toEqual([
        [0, 0, 'k1', 2, { h: 'x', é: 'ü' }],
        [0, 1, undefined, 2, {}],
        [0, 2, 'k3', null, {}],
        [1, 0, 'k4', 20_000, {}],
      ]);
      expect(read[1]!.value).toBe('v2');
    } finally {
      await producer.close();
    }
  });
}

test('one request, different answers per partition: the refused partition is named, the others are appended', async () => {
  const small = await topicWith('raw-small', 1, { 'max.message.bytes': '3000' });
  const normal = await topicWith('raw-normal', 1);
  const producer = new Producer({ clientId: 'raw-test', bootstrapBrokers: kafka.server.brokers });
  try {
    const transport = new BatchTransport(producer, 2000);
    await produceAll(transport, [batch(small, 0, [record('w', 'first')]), batch(normal, 0, [record('w', 'first')])], 1); // leaders ready
    const outcomes = await transport.produce([batch(small, 0, [record('big', 'x'.repeat(10_000))]), batch(normal, 0, [record('ok', 'fine')])], 1);
    expect(outcomes.length).toBe(1); // one broker: one request
    const outcome = produceOutcome(outcomes[0]!.error, outcomes[0]!.partitionKeys);
    expect([...outcome.acked]).toEqual([partitionKey(normal, 0)]);
    expect(outcome.failed.get(partitionKey(small, 0))?.code).toBe('MESSAGE_TOO_LARGE');
    expect((await readTopic(kafka.server.brokers, normal, 2)).map((m) => m.value)).toEqual(['first', 'fine']);
  } finally {
    await producer.close();
  }
});

test('requests in flight at once, each spliced behind its frame: every batch stored once, in order', async () => {
  const topic = await topicWith('raw-spliced', 1);
  const producer = new Producer({ clientId: 'raw-test', bootstrapBrokers: kafka.server.brokers });
  try {
    const transport = new BatchTransport(producer, 5000);
    await produceAll(transport, [batch(topic, 0, [record('w', 'warm-up')])], -1);
    // Same sizes, so every request has the same head: only the order tells them apart.
    const values = Array.from({ length: 40 }, (_, i) => `value-${String(i).padStart(3, '0')}-${'x'.repeat(5_000)}`);
    const outcomes = await Promise.all(values.map((v) => transport.produce([batch(topic, 0, [record('k', v)])], -1)));
    expect(outcomes.flat().filter((o) => o.error !== undefined)).toEqual([]);
    const metadata = await producer.metadata({ topics: [topic] });
    const connection = await producer.connections.get(metadata.brokers.get(metadata.topics.get(topic)!.partitions[0]!.leader)!);
    expect((connection.socket as { write: { name: string } }).write.name).toBe('spliceWrite');
    expect((await readTopic(kafka.server.brokers, topic, 41)).slice(1).map((m) => m.value)).toEqual(values);
  } finally {
    await producer.close();
  }
});

test('acks 0: the request is written and not answered', async () => {
  const topic = await topicWith('raw-acks0', 1);
  const producer = new Producer({ clientId: 'raw-test', bootstrapBrokers: kafka.server.brokers });
  try {
    await produceAll(new BatchTransport(producer, 2000), [batch(topic, 0, [record('a', 'b')])], 0);
    expect((await readTopic(kafka.server.brokers, topic, 1)).map((m) => m.value)).toEqual(['b']);
  } finally {
    await producer.close();
  }
});
