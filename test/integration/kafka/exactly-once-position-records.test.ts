/**
 * The exactly-once sink's position records on the real broker (docs/kafka.md, "Exactly once"): each
 * transaction writes its position as a record of `positionTopic` (key = the producer's
 * transactional id), which a new instance reads back read_committed; the topic is created
 * compacted; the record is not a delivered message; positions committed as group offset metadata by
 * earlier versions are still honoured (upgrade, downgrade then upgrade); an aborted transaction's
 * record is ignored; an existing topic that is not compacted is used with a warning; one deleted while
 * the sink runs is created again, compacted, never by the brokers' auto-creation.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { ConfigResourceTypes, Producer } from '@platformatic/kafka';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { encodeRecordBatch } from '../../../src/kafka/protocol/record-batch.ts';
import { newProducer } from '../../../src/sinks/kafka/client.ts';
import { partitionKey } from '../../../src/sinks/kafka/message.ts';
import { positionRecord } from '../../../src/sinks/kafka/position-records.ts';
import { encodePosition, type StreamPosition } from '../../../src/sinks/kafka/stream-position.ts';
import { TxnRequests } from '../../../src/sinks/kafka/txn-requests.ts';
import { turnIds } from '../../../src/sinks/kafka/txn-turns.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { deleteTopics, uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { createTopicWithConfigs, makeKafkaSink, readTopic, sinkOptions } from '../../helpers/kafka-sink.ts';
import { changes, STREAM, versionsOf } from '../../helpers/exactly-once/changes.ts';

const ownTopics: string[] = [];
afterAll(async () => {
  await deleteTopics(kafka.admin(), ownTopics.splice(0)).catch(() => {});
});
const kafka = useKafka();
const logs = captureLogs();

function exactlyOnceSink(name: string, topic: string, positionTopic: string, metrics = createMetrics()) {
  return makeKafkaSink(name, { hosts: kafka.server.brokers, topicFallback: topic, exactlyOnce: true, positionTopic, transactionalId: `eos-${topic}.{source}` }, undefined, metrics);
}

/** A data topic (deleted after the file's tests) and the name of a position topic of its own (deleted too; the sink creates it). */
async function topicsOf(prefix: string, partitions = 1): Promise<{ topic: string; positionTopic: string }> {
  const topic = await kafka.createTopic({ prefix, partitions });
  const positionTopic = uniqueTopic('positions');
  ownTopics.push(positionTopic);
  return { topic, positionTopic };
}

const at = (lsn: number, index: number): StreamPosition => ({ lsn: BigInt(lsn), index, stream: STREAM });
const versions = (from: number, to: number) => changes(from, to).map((e) => (e.columns as { v: string }).v);

/** Commits `position` the way versions before position records did: offset metadata of group `id`, in a transaction of `id`. */
async function commitAsGroupOffset(id: string, positionTopic: string, position: StreamPosition): Promise<void> {
  const client = new Producer({ clientId: 'old-version', bootstrapBrokers: kafka.server.brokers });
  try {
    const txn = new TxnRequests(client, id, 60_000);
    const producer = await txn.initProducerId();
    if ((await txn.protocol()) === 1) await txn.addOffsets(producer, id);
    const metadata = encodePosition(position, 'pg');
    await txn.commitOffsets(producer, { group: id, generation: -1, member: '', offsets: [{ topic: positionTopic, partition: 0, offset: 0n, metadata }] });
    await txn.endTxn(producer, true);
  } finally {
    await client.close().catch(() => {});
  }
}

/** The topic's cleanup.policy. */
async function cleanupPolicy(topic: string): Promise<string | null | undefined> {
  const described = await kafka.admin().describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['cleanup.policy'] }] });
  return described.flatMap((d) => d.configs).find((c) => c.name === 'cleanup.policy')?.value;
}

describe('exactly-once position records', () => {
  test('each transaction writes its position as a record of the compacted topic the sink created; not a delivered message, no group offset; read back on restart', async () => {
    const { topic, positionTopic } = await topicsOf('eos-rec', 2);
    const id = `eos-${topic}.pg`;
    const metrics = createMetrics();
    const first = await exactlyOnceSink('rec1', topic, positionTopic, metrics);
    await first.write(changes(1, 2));
    await first.write(changes(3, 4));
    await first.close();
    expect(logs.join('\n')).toContain(`created the position topic "${positionTopic}" (1 partition, cleanup.policy=compact)`);
    expect(await cleanupPolicy(positionTopic)).toBe('compact');

    // One record per transaction, of the producer whose turn it was, with the position it completed.
    const records = await readTopic(kafka.server.brokers, positionTopic, 2, 5_000);
    expect(records.map((r) => [r.partition, r.key, JSON.parse(r.value!)])).toEqual([
      [0, id, { 'psql-streamer': 1, source: 'pg', lsn: '0/2', index: 2, stream: STREAM }],
      [0, `${id}.2`, { 'psql-streamer': 1, source: 'pg', lsn: '0/4', index: 2, stream: STREAM }],
    ]);
    // Only the 12 messages count as delivered: the position records are not messages.
    const delivered = await metrics.registry.getSingleMetricAsString('kafka_sink_messages_total');
    expect(delivered).toContain(`kafka_sink_messages_total{sinkName="rec1",topic="${topic}"} 12`);
    expect(delivered).not.toContain(positionTopic);
    // Nothing is committed to the groups any more.
    const client = newProducer(sinkOptions({ hosts: kafka.server.brokers }));
    try {
      for (const group of turnIds(id)) expect(await client.transactions(group, 60_000).fetchOffsets(group, positionTopic, [0])).toEqual([]);
    } finally {
      await client.close();
    }

    // A restarted instance gets a replay: what the records say is in Kafka is not written again.
    const second = await exactlyOnceSink('rec1', topic, positionTopic);
    await second.write(changes(3, 6));
    await second.close();
    expect(logs.join('\n')).toContain(`start from position 0/4 #2 from the position record of "${id}.2" (topic "${positionTopic}", offset`);
    expect(logs.join('\n')).toContain('6 message(s) up to 0/4 #2 are in Kafka already');
    expect(versionsOf(await readTopic(kafka.server.brokers, topic, 18, 5_000)).sort()).toEqual(versions(1, 6).sort());
  }, 60_000);

  test('upgrade: a position held only as group offset metadata (earlier versions) is honoured, and a later one after a downgrade beats the records', async () => {
    const { topic, positionTopic } = await topicsOf('eos-upgrade');
    const ids = turnIds(`eos-${topic}.pg`);
    // An earlier version delivered up to 0/4 #2 (its messages are not needed here: only the position counts).
    await createTopicWithConfigs(kafka.admin(), positionTopic, 1, { 'cleanup.policy': 'compact' });
    await commitAsGroupOffset(ids[0]!, positionTopic, at(4, 2));
    const upgraded = await exactlyOnceSink('upgrade', topic, positionTopic);
    await upgraded.write(changes(1, 6));
    await upgraded.close();
    expect(logs.join('\n')).toContain(`start from position 0/4 #2 from the offset metadata of group "${ids[0]}" (committed by a version before position records)`);
    expect(versionsOf(await readTopic(kafka.server.brokers, topic, 6, 5_000))).toEqual(versions(5, 6));

    // Downgraded, the earlier version delivered up to 0/8 #2 as group offset metadata of its third
    // producer; upgraded again, that beats the records (0/6 #2).
    await commitAsGroupOffset(ids[2]!, positionTopic, at(8, 2));
    const again = await exactlyOnceSink('upgrade', topic, positionTopic);
    await again.write(changes(5, 9));
    await again.close();
    expect(logs.join('\n')).toContain(`start from position 0/8 #2 from the offset metadata of group "${ids[2]}"`);
    expect(versionsOf(await readTopic(kafka.server.brokers, topic, 9, 5_000))).toEqual([...versions(5, 6), ...versions(9, 9)]);
  }, 60_000);

  test("an aborted transaction's position record is ignored: a crash after its produce request loses nothing", async () => {
    const { topic, positionTopic } = await topicsOf('eos-aborted');
    const ids = turnIds(`eos-${topic}.pg`);
    const first = await exactlyOnceSink('aborted', topic, positionTopic);
    await first.write(changes(1, 2));
    await first.close();

    // A transaction of the second producer wrote its position record (0/9 #2), then its process died:
    // the transaction is open until the next instance's InitProducerId aborts it.
    const client = newProducer(sinkOptions({ hosts: kafka.server.brokers }));
    try {
      const txn = client.transactions(ids[1]!, 60_000);
      const producer = await txn.initProducerId();
      const protocol = await txn.protocol();
      if (protocol === 1) await txn.addPartitions(producer, new Map([[positionTopic, new Set([0])]]));
      const batch = encodeRecordBatch([positionRecord(ids[1]!, at(9, 2), 'pg')], Date.now(), { ...producer, baseSequence: 0, transactional: true });
      const [outcome] = await client.produceBatches([{ topic: positionTopic, partition: 0, partitionKey: partitionKey(positionTopic, 0), batch }], -1, ids[1], protocol);
      expect(outcome?.error).toBeUndefined();
    } finally {
      await client.close();
    }

    const second = await exactlyOnceSink('aborted', topic, positionTopic);
    await second.write(changes(1, 5));
    await second.close();
    expect(logs.join('\n')).toContain(`start from position 0/2 #2 from the position record of "${ids[0]}"`);
    expect(versionsOf(await readTopic(kafka.server.brokers, topic, 15, 5_000))).toEqual(versions(1, 5));
  }, 60_000);

  test('an existing position topic that is not compacted is used, with a warning naming the remedy', async () => {
    const { topic, positionTopic } = await topicsOf('eos-delete');
    await createTopicWithConfigs(kafka.admin(), positionTopic, 1, { 'cleanup.policy': 'delete' });
    const sink = await exactlyOnceSink('not-compact', topic, positionTopic);
    await sink.write(changes(1, 1));
    await sink.close();
    const warning = logs.find((l) => l.includes(`the position topic "${positionTopic}" has cleanup.policy=delete, not compact`));
    expect(warning).toBeDefined();
    expect(warning).toContain(`kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics --entity-name ${positionTopic} --add-config cleanup.policy=compact`);
    expect(await cleanupPolicy(positionTopic)).toBe('delete'); // left as it is: the operator's to change
    expect(versionsOf(await readTopic(kafka.server.brokers, topic, 3, 5_000))).toEqual(versions(1, 1));
  }, 60_000);

  test('a position topic deleted while the sink runs is created again, compacted (not auto-created with the brokers\' defaults); nothing written twice', async () => {
    const { topic, positionTopic } = await topicsOf('eos-gone');
    const id = `eos-${topic}.pg`;
    const sink = await exactlyOnceSink('gone', topic, positionTopic);
    await sink.write(changes(1, 2));
    await deleteTopics(kafka.admin(), [positionTopic]);
    const deadline = Date.now() + 30_000;
    while ((await kafka.admin().listTopics()).includes(positionTopic)) {
      if (Date.now() > deadline) throw new Error(`topic ${positionTopic} still listed 30 s after its deletion`);
      await Bun.sleep(50);
    }
    // The test broker has auto.create.topics.enable = true: a metadata request allowed to create the
    // topic would make it with cleanup.policy=delete.
    await sink.write(changes(3, 4));
    await sink.close();
    expect(logs.filter((l) => l.includes(`created the position topic "${positionTopic}" (1 partition, cleanup.policy=compact)`))).toHaveLength(2);
    expect(await cleanupPolicy(positionTopic)).toBe('compact');
    const records = await readTopic(kafka.server.brokers, positionTopic, 1, 5_000);
    expect(records.map((r) => [r.key, (JSON.parse(r.value!) as { lsn: string }).lsn])).toEqual([[`${id}.2`, '0/4']]);
    expect(versionsOf(await readTopic(kafka.server.brokers, topic, 12, 5_000)).sort()).toEqual(versions(1, 4).sort());
  }, 60_000);
});
