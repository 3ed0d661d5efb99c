/**
 * The Kafka source and transactional producers (docs/kafka.md, "Isolation" and "Exactly-once
 * relays"): `isolation = "read_committed"` (the default) does not read the records of an aborted
 * Kafka transaction, `read_uncommitted` does; every event carries its origin (topic, partition,
 * offset, and the consumer's group ref) and keeps the UUID it was read with.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { Producer } from '@platformatic/kafka';
import { TxnRequests } from '../../../src/sinks/kafka/txn-requests.ts';
import type { ChangeEvent } from '../../../src/event/event.ts';
import type { KafkaIsolation } from '../../../src/sources/kafka/consumer.ts';
import type { KafkaSource } from '../../../src/sources/kafka/source.ts';
import { uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { waitFor } from '../../helpers/streamer.ts';
import { RecordingOutput, committedOffsets, makeSource, originalEventJson, sourceSettings, uuidOf } from '../../helpers/kafka-source.ts';

const kafka = useKafka();
const running: KafkaSource[] = [];

afterEach(async () => {
  for (const source of running.splice(0)) {
    await source.stop().catch(() => {});
    await source.close().catch(() => {});
  }
});

/** One transaction: its sends (each a record batch of these values, to partition 0) and how it ends. */
interface Txn {
  sends: (string | Buffer)[][];
  end: 'commit' | 'abort';
}

/** Runs the transactions in order with one transactional producer (@platformatic/kafka's own). */
async function runTransactions(topic: string, transactions: readonly Txn[], transactionalId = uniqueTopic('txn')): Promise<void> {
  const producer = new Producer({
    clientId: 'test-txn-producer', bootstrapBrokers: kafka.server.brokers, acks: -1, idempotent: true, retryDelay: 20, transactionalId,
  });
  try {
    for (const { sends, end } of transactions) {
      const transaction = await producer.beginTransaction();
      for (const values of sends) await transaction.send({ messages: values.map((value) => ({ topic, partition: 0, value: Buffer.from(value) })) });
      await (end === 'commit' ? transaction.commit() : transaction.abort());
    }
  } finally {
    await producer.close().catch(() => {});
  }
}

/**
 * Three transactions of one transactional producer: events 0–1 committed, 2–3 aborted, 4
 * committed; then event 5 from a plain (non-transactional) producer. Returns the event JSON by index.
 */
async function produceTransactions(brokers: string[], topic: string): Promise<string[]> {
  const events = Array.from({ length: 6 }, (_, i) => originalEventJson(i));
  const message = (i: number) => ({ topic, partition: 0, value: Buffer.from(events[i]!) });
  await runTransactions(topic, [
    { sends: [[events[0]!, events[1]!]], end: 'commit' },
    { sends: [[events[2]!, events[3]!]], end: 'abort' },
    { sends: [[events[4]!]], end: 'commit' },
  ]);
  const plain = new Producer({ clientId: 'test-plain-producer', bootstrapBrokers: brokers, acks: -1 });
  try {
    await plain.send({ messages: [message(5)] });
  } finally {
    await plain.close().catch(() => {});
  }
  return events;
}

async function readAll(topic: string, isolation: KafkaIsolation | undefined, expected: number) {
  const settings = sourceSettings(kafka.server.brokers, [topic], isolation === undefined ? {} : { isolation });
  const source = makeSource(`txn-${isolation ?? 'default'}`, settings);
  const output = new RecordingOutput();
  running.push(source);
  void source.start(output);
  await waitFor(`${expected} events`, () => output.items.length >= expected, 30_000);
  await Bun.sleep(500); // nothing more arrives
  return { source, settings, output, events: output.items.map((item) => item.event as ChangeEvent) };
}

/** Event index of a pushed event (its JSON carries the index in the UUID's last group). */
const indexOf = (event: ChangeEvent) => Number.parseInt(event.uuid.slice(-12), 16);

describe('isolation', () => {
  test('read_committed (the default): records of an aborted transaction are not read; the offsets past them are committed', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-txn-committed' });
    await produceTransactions(kafka.server.brokers, topic);
    for (const isolation of [undefined, 'read_committed'] as const) {
      const { source, settings, output, events } = await readAll(topic, isolation, 4);
      expect(events.map(indexOf)).toEqual([0, 1, 4, 5]);
      // The aborted records and the transaction markers take offsets of their own: 0 1 [2] 3 4 [5] 6 [7] 8.
      expect(output.trail()).toEqual(['0@0', '0@1', '0@6', '0@8']);
      await source.ack(output.positions);
      expect(await committedOffsets(kafka.admin(), settings.groupId)).toEqual({ [`${topic}:0`]: 9 });
    }
  }, 90_000);

  test('regression: with two aborted transactions of one producer in one fetch, @platformatic/kafka let the first one through; now neither is read', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-txn-aborts' });
    const events = Array.from({ length: 12 }, (_, i) => originalEventJson(i));
    // commit 0-1, abort 2-3, abort 4-5, commit 6-7, abort 8-9, commit 10-11: all in the first fetch.
    const ends = ['commit', 'abort', 'abort', 'commit', 'abort', 'commit'] as const;
    await runTransactions(topic, ends.map((end, t) => ({ sends: [[events[2 * t]!, events[2 * t + 1]!]], end })));
    const { events: read } = await readAll(topic, 'read_committed', 6);
    expect(read.map(indexOf)).toEqual([0, 1, 6, 7, 10, 11]);
  }, 60_000);

  test('regression: an abort marker without records after a committed transaction made @platformatic/kafka drop the committed one; now it is read', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-txn-empty-abort' });
    const events = Array.from({ length: 4 }, (_, i) => originalEventJson(i));
    const transactionalId = uniqueTopic('txn');
    await runTransactions(topic, [
      { sends: [[events[0]!, events[1]!]], end: 'abort' },
      { sends: [[events[2]!, events[3]!]], end: 'commit' },
    ], transactionalId);
    // The same producer id, killed after adding partition 0 to a transaction but before producing
    // to it: the abort leaves a marker on partition 0 and no records (so the brokers do not list it).
    const client = new Producer({ clientId: 'test-txn-requests', bootstrapBrokers: kafka.server.brokers });
    try {
      const txn = new TxnRequests(client, transactionalId, 60_000);
      const producer = await txn.initProducerId();
      await txn.addPartitions(producer, new Map([[topic, new Set([0])]]));
      await txn.endTxn(producer, false);
    } finally {
      await client.close().catch(() => {});
    }
    const { events: read } = await readAll(topic, 'read_committed', 2);
    expect(read.map(indexOf)).toEqual([2, 3]);
  }, 60_000);

  test('regression: an aborted transaction larger than a fetch left the consumer fetching the same records for ever; now it reads on', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-txn-big-abort' });
    const events = Array.from({ length: 3 }, (_, i) => originalEventJson(i));
    await runTransactions(topic, [
      { sends: [[events[0]!]], end: 'commit' },
      // 4 MiB in 32 batches, aborted: a fetch (1 MiB per partition) ends inside it, its abort marker comes later.
      { sends: Array.from({ length: 32 }, () => [Buffer.alloc(128 * 1024, 'x')]), end: 'abort' },
      { sends: [[events[1]!, events[2]!]], end: 'commit' },
    ]);
    const { events: read } = await readAll(topic, 'read_committed', 3);
    expect(read.map(indexOf)).toEqual([0, 1, 2]);
  }, 60_000);

  test('read_uncommitted: records of an aborted transaction are read too', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-txn-uncommitted' });
    await produceTransactions(kafka.server.brokers, topic);
    const { output, events } = await readAll(topic, 'read_uncommitted', 6);
    expect(events.map(indexOf)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(output.trail()).toEqual(['0@0', '0@1', '0@3', '0@4', '0@6', '0@8']);
  }, 60_000);
});

describe('origin', () => {
  test('every event: its topic, partition and offset, one shared group ref with the live generation and member id; the UUID it was read with', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-origin', partitions: 2 });
    const sent = await produceTransactions(kafka.server.brokers, topic);
    const { source, settings, output, events } = await readAll(topic, undefined, 4);
    const group = source.group;
    expect(group.id).toBe(settings.groupId);
    expect(group.generation()).toBeGreaterThanOrEqual(1);
    expect(group.member()).not.toBe('');
    output.items.forEach((item, n) => {
      const event = events[n]!;
      expect(event.origin).toEqual({ group, topic, partition: item.position!.partition, offset: item.position!.offset, generation: group.generation() });
      // One object for the whole consumer, not one per event.
      expect(event.origin!.group).toBe(group);
      // The relayed event keeps its identity.
      expect(event.uuid).toBe(uuidOf(sent[indexOf(event)]!));
    });
    // Left the group: not a member any more.
    running.splice(running.indexOf(source), 1);
    await source.stop();
    await source.close();
    expect(group.member()).toBe('');
    expect(group.generation()).toBe(-1);
  }, 60_000);
});
