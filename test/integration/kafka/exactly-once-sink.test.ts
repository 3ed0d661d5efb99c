/**
 * The exactly-once Kafka sink (`exactlyOnce = true`) on the real broker: batches in transactions that
 * read_committed consumers see once committed, the position committed with them and read back by a
 * new instance (which then skips what Kafka has), an aborted transaction that stays invisible, and
 * fencing of an older instance with the same transactional id. Whole-program kill -9 runs are in
 * exactly-once.test.ts.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { Consumer } from '@platformatic/kafka';
import { isRetryable, type StreamerError } from '../../../src/core/errors.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { rejection } from '../../helpers/async.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { deleteTopics, uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { createTopicWithConfigs, makeKafkaSink, readTopic } from '../../helpers/kafka-sink.ts';
import { change, changes, committedPosition as committedPositionOf, versionsOf } from '../../helpers/exactly-once/changes.ts';
import { loseEndTxnAnswers } from '../../helpers/exactly-once/lost-end-answer.ts';
import { refusePositionRecords } from '../../helpers/exactly-once/refused-position.ts';

const ownTopics: string[] = [];
afterAll(async () => {
  await deleteTopics(kafka.admin(), ownTopics.splice(0)).catch(() => {});
});
const kafka = useKafka();
const logs = captureLogs();

/** Every message of `topic` including those of aborted transactions (read_uncommitted), read for `ms`. */
async function readUncommitted(topic: string, ms: number): Promise<string[]> {
  const consumer = new Consumer({ groupId: uniqueTopic('uncommitted'), clientId: 'test', bootstrapBrokers: kafka.server.brokers, isolationLevel: 0, maxWaitTime: 100 });
  const out: string[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 100 });
    const timer = setTimeout(() => void stream.close(), ms);
    for await (const m of stream) out.push(m.value!.toString());
    clearTimeout(timer);
    await stream.close().catch(() => {});
  } finally {
    await consumer.close(true).catch(() => {});
  }
  return out;
}

const committedPosition = (transactionalId: string, positionTopic: string) => committedPositionOf(kafka.server.brokers, transactionalId, positionTopic);

function exactlyOnceSink(name: string, topic: string, positionTopic: string, extra: Record<string, unknown> = {}, metrics = createMetrics()) {
  return makeKafkaSink(name, { hosts: kafka.server.brokers, topicFallback: topic, exactlyOnce: true, positionTopic, transactionalId: `eos-${topic}.{source}`, ...extra }, undefined, metrics);
}

/** How many times each stage of the sink's transactions was timed (kafka_sink_transaction_stage_seconds). */
async function stageCounts(metrics: ReturnType<typeof createMetrics>, sinkName: string): Promise<Record<string, number>> {
  const text = await metrics.registry.getSingleMetricAsString('kafka_sink_transaction_stage_seconds');
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/_count\{([^}]*)\} (\d+)/g)) {
    if (!m[1]!.includes(`sinkName="${sinkName}"`)) continue;
    const stage = /stage="([^"]+)"/.exec(m[1]!)?.[1];
    if (stage !== undefined) counts[stage] = Number(m[2]);
  }
  return counts;
}

describe('exactly-once sink', () => {
  test('a batch is one transaction: committed messages and the position it completes, read back by the next instance', async () => {
    const topic = await kafka.createTopic({ prefix: 'eos', partitions: 3 });
    const positionTopic = uniqueTopic('positions');
    ownTopics.push(positionTopic);
    const metrics = createMetrics();
    const first = await exactlyOnceSink('eos1', topic, positionTopic, {}, metrics);
    await first.write(changes(1, 4));
    await first.write(changes(5, 6));
    await first.close();
    // Each transaction's stages are timed once.
    expect(await stageCounts(metrics, 'eos1')).toEqual({ begin: 2, produce: 2, offsets: 2, end: 2, transaction: 2 });
    expect(await committedPosition(`eos-${topic}.pg`, positionTopic)).toEqual({ lsn: 6n, index: 2, stream: '7000000000000000001/slot' });

    // A restarted instance gets a replay (the source's store was behind): what Kafka has is not written again.
    const second = await exactlyOnceSink('eos1', topic, positionTopic);
    const replay = changes(5, 8);
    await second.write(replay.slice(0, 4)); // 5.0-5.2, 6.0: all in Kafka
    await second.write(replay.slice(4)); // 6.1, 6.2 in Kafka; 7.x and 8.x new
    await second.close();
    const read = await readTopic(kafka.server.brokers, topic, 24, 5_000);
    expect(versionsOf(read).sort()).toEqual(changes(1, 8).map((e) => (e.columns as { v: string }).v).sort());
    expect(logs.join("\n")).toContain('are in Kafka already');
  }, 60_000);

  test('an aborted transaction stays invisible to read_committed consumers; the batch is written again whole', async () => {
    const topic = uniqueTopic('eos-small');
    const dlq = uniqueTopic('eos-dlq');
    const positionTopic = uniqueTopic('positions');
    ownTopics.push(topic, dlq, positionTopic);
    // Two partitions: one message too large aborts the transaction after the other partition took its messages.
    await createTopicWithConfigs(kafka.admin(), topic, 2, { 'max.message.bytes': '2000' });
    await createTopicWithConfigs(kafka.admin(), dlq, 1, {});
    const sink = await exactlyOnceSink('eos2', topic, positionTopic, { deadLetterTopic: dlq, batchSize: 1 });
    const batch = changes(1, 4, 1);
    const big = { ...change(5, 0, 99), columns: { id: 99, v: '5.0', pad: 'x'.repeat(5000) } };
    await sink.write([...batch, big]);
    await sink.close();
    const committed = await readTopic(kafka.server.brokers, topic, 4, 5_000);
    expect(versionsOf(committed).sort()).toEqual(['1.0', '2.0', '3.0', '4.0']);
    expect((await readTopic(kafka.server.brokers, dlq, 1, 5_000)).length).toBe(1);
    // The first attempt's messages are in the log too, aborted: read_uncommitted sees them twice.
    const everything = await readUncommitted(topic, 3_000);
    expect(everything.length).toBeGreaterThan(4);
  }, 60_000);

  test('a position of another stream (another cluster or slot) is ignored with a warning, nothing skipped', async () => {
    const topic = await kafka.createTopic({ prefix: 'eos-stream' });
    const positionTopic = uniqueTopic('positions');
    ownTopics.push(positionTopic);
    const first = await exactlyOnceSink('streams', topic, positionTopic);
    await first.write(changes(5, 6));
    await first.close();
    const second = await exactlyOnceSink('streams', topic, positionTopic);
    const otherCluster = changes(1, 2).map((e) => ({ ...e, stream: '7999999999999999999/slot' }));
    await second.write(otherCluster);
    await second.close();
    expect((await readTopic(kafka.server.brokers, topic, 12, 5_000)).length).toBe(12);
    expect(logs.join('\n')).toContain('belongs to stream 7000000000000000001/slot, this source is 7999999999999999999/slot');
  }, 60_000);

  test('a second instance with the same transactional id fences the first: its writes fail for good, nothing is lost or doubled', async () => {
    const topic = await kafka.createTopic({ prefix: 'eos-fence' });
    const positionTopic = uniqueTopic('positions');
    ownTopics.push(positionTopic);
    const metrics = createMetrics();
    const older = await exactlyOnceSink('fence', topic, positionTopic);
    await older.write(changes(1, 2));
    const newer = await exactlyOnceSink('fence', topic, positionTopic);
    await newer.write(changes(1, 3)); // starts (fencing the older), skips 1.x and 2.x, writes 3.x
    const err = await rejection<StreamerError>(older.write(changes(3, 4)));
    expect(isRetryable(err)).toBe(false);
    expect(err.message).toContain('fenced');
    expect(older.status()).toContain('fenced');
    await newer.write(changes(4, 4));
    await Promise.all([older.close(), newer.close()]);
    const read = await readTopic(kafka.server.brokers, topic, 12, 5_000);
    expect(versionsOf(read)).toEqual(changes(1, 4).map((e) => (e.columns as { v: string }).v));
    void metrics;
  }, 60_000);

  test("EndTxn's answer lost after the brokers committed: no false fencing, the batch not written twice", async () => {
    const topic = await kafka.createTopic({ prefix: 'eos-lost-end', partitions: 3 });
    const positionTopic = uniqueTopic('positions');
    ownTopics.push(positionTopic);
    // The brokers get EndTxn and commit; its answer (with protocol 2, the next epoch) never arrives.
    // The producer must find its epoch again (InitProducerId with the epoch it knows, which the
    // coordinator takes as a retry) and the batch in Kafka already (the position it committed).
    const lost = loseEndTxnAnswers();
    try {
      const sink = await exactlyOnceSink('lost-end', topic, positionTopic);
      await sink.write(changes(1, 2));
      lost.lose(1);
      await sink.write(changes(3, 4)); // committed, its answer lost, then found in Kafka
      expect(lost.pending).toBe(0);
      await sink.write(changes(5, 6));
      expect(sink.status() ?? '').not.toContain('fenced');
      await sink.close();
    } finally {
      lost.restore();
    }
    expect(logs.filter((l) => /6 message\(s\) up to 0\/4 #2 are in Kafka already/.test(l)).length).toBe(1);
    expect(await committedPosition(`eos-${topic}.pg`, positionTopic)).toMatchObject({ lsn: 6n, index: 2 });
    const read = await readTopic(kafka.server.brokers, topic, 18, 5_000);
    expect(versionsOf(read).sort()).toEqual(changes(1, 6).map((e) => (e.columns as { v: string }).v).sort());
  }, 60_000);
  test("the position record's partition refused while the messages' were acknowledged: the transaction is aborted and written again whole", async () => {
    const topic = await kafka.createTopic({ prefix: 'eos-refused-position', partitions: 3 });
    const positionTopic = uniqueTopic('positions');
    ownTopics.push(positionTopic);
    const metrics = createMetrics();
    const refused = refusePositionRecords();
    try {
      const sink = await exactlyOnceSink('refused-position', topic, positionTopic, {}, metrics);
      await sink.write(changes(1, 2));
      refused.refuse(positionTopic, 1);
      await sink.write(changes(3, 4)); // first attempt: messages appended, position refused → aborted; second attempt commits
      expect(refused.pending).toBe(0);
      await sink.close();
    } finally {
      refused.restore();
    }
    const transactions = await metrics.registry.getSingleMetricAsString('kafka_sink_transactions_total');
    expect(transactions).toMatch(/result="aborted"\} 1\b/);
    expect(transactions).toMatch(/result="committed"\} 2\b/);
    expect(await committedPosition(`eos-${topic}.pg`, positionTopic)).toMatchObject({ lsn: 4n, index: 2 });
    // read_committed: each change once; the aborted attempt's messages are in the log, invisible.
    const read = await readTopic(kafka.server.brokers, topic, 12, 5_000);
    expect(versionsOf(read).sort()).toEqual(changes(1, 4).map((e) => (e.columns as { v: string }).v).sort());
    expect((await readUncommitted(topic, 3_000)).length).toBeGreaterThan(12);
  }, 60_000);
});
