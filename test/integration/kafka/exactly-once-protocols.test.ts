/**
 * The exactly-once Kafka sink under both of Kafka's transaction protocols (src/sinks/kafka/txn-v2.ts),
 * on a private broker whose `transaction.version` feature the tests change (others' tests are
 * unaffected): 2 (KIP-890, the default of Kafka 4 clusters) and 1 (older or downgraded clusters),
 * in this order. Under each: every batch exactly once for read_committed consumers, the position
 * read back by a new instance across the change of protocol, and fencing of an older instance; under
 * 1, an EndTxn whose answer is lost after the commit (protocol 2's case is in exactly-once-sink.test.ts);
 * and a running instance carries on when the cluster is upgraded or downgraded under it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Admin, Connection, apiVersionsV3, updateFeaturesV1 } from '@platformatic/kafka';
import { isRetryable, type StreamerError } from '../../../src/core/errors.ts';
import type { ChangeEvent } from '../../../src/event/event.ts';
import type { Sink } from '../../../src/sinks/sink.ts';
import { rejection } from '../../helpers/async.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { uniqueTopic } from '../../helpers/kafka.ts';
import { RestartableBroker, createTopicWithConfigs, makeKafkaSink, readTopic } from '../../helpers/kafka-sink.ts';
import { changes, committedPosition, versionsOf } from '../../helpers/exactly-once/changes.ts';
import { waitFor } from '../../helpers/streamer.ts';
import { loseEndTxnAnswers } from '../../helpers/exactly-once/lost-end-answer.ts';

const logs = captureLogs();
let broker: RestartableBroker;
let admin: Admin;

beforeAll(async () => {
  broker = await RestartableBroker.create();
  admin = new Admin({ clientId: 'eos-protocols-admin', bootstrapBrokers: broker.brokers });
}, 180_000);

afterAll(async () => {
  await admin?.close().catch(() => {});
  await broker?.destroy();
}, 60_000);

/** Runs `work` over a connection of its own to the broker. */
async function withConnection<T>(work: (connection: Connection) => Promise<T>): Promise<T> {
  const [host, port] = broker.brokers[0]!.split(':');
  const connection = new Connection('eos-protocols');
  await connection.connect(host!, Number(port));
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

/** The cluster's finalized transaction.version, as ApiVersions says it (0 when not listed). */
const transactionVersion = () => withConnection(async (connection) => {
  const answer = await apiVersionsV3.api.async(connection, 'test', '1');
  return answer.finalizedFeatures?.find((f) => f.name === 'transaction.version')?.maxVersionLevel ?? 0;
});

/** Sets the cluster's transaction.version (an upgrade, or a safe downgrade) and waits until the broker says so. */
async function setTransactionVersion(level: number): Promise<void> {
  const current = await transactionVersion();
  if (current === level) return;
  await withConnection((connection) => updateFeaturesV1.api.async(connection, 30_000, [{ feature: 'transaction.version', maxVersionLevel: level, upgradeType: level > current ? 1 : 2 }], false));
  await waitFor(`transaction.version ${level}`, async () => (await transactionVersion()) === level, 30_000);
}

const protocolLines = () => logs.filter((l) => l.includes("use Kafka's transaction protocol"));

/** Writes the batches in order as the pipeline does: a retryable failure is retried. */
async function deliver(sink: Sink, batch: ChangeEvent[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sink.write(batch);
    } catch (err) {
      if (!isRetryable(err) || attempt >= 10) throw err;
      await Bun.sleep(200);
    }
  }
}

describe('exactly-once sink, transaction protocols 2 and 1', () => {
  const topic = uniqueTopic('eos-protocols');
  const positionTopic = uniqueTopic('positions');
  const transactionalId = `eos-${topic}.{source}`;
  const sink = (name: string) => makeKafkaSink(name, { hosts: broker.brokers, topicFallback: topic, exactlyOnce: true, positionTopic, transactionalId });

  test('protocol 2 where the cluster has it: batches once, position kept, an older instance fenced', async () => {
    expect(await transactionVersion()).toBeGreaterThanOrEqual(2);
    await createTopicWithConfigs(admin, topic, 3, {});
    const older = await sink('v2');
    await older.write(changes(1, 2));
    await older.write(changes(3, 3));
    const newer = await sink('v2');
    await newer.write(changes(3, 5)); // 3.x is in Kafka already
    const err = await rejection<StreamerError>(older.write(changes(6, 6)));
    expect(isRetryable(err)).toBe(false);
    expect(err.message).toContain('fenced');
    await Promise.all([older.close(), newer.close()]);
    expect(protocolLines().every((l) => l.includes('protocol 2'))).toBe(true);
    expect(await committedPosition(broker.brokers, `eos-${topic}.pg`, positionTopic)).toMatchObject({ lsn: 5n, index: 2 });
    expect(await committedVersions(topic, 15)).toEqual(expectedVersions(1, 5));
  }, 90_000);

  test('protocol 1 once the cluster is downgraded: the next instance resumes from the position written under 2', async () => {
    await setTransactionVersion(1);
    logs.length = 0;
    const older = await sink('v1');
    await older.write(changes(4, 7)); // 4.x and 5.x are in Kafka already
    await older.write(changes(8, 8));
    const newer = await sink('v1');
    await newer.write(changes(8, 9));
    const err = await rejection<StreamerError>(older.write(changes(10, 10)));
    expect(err.message).toContain('fenced');
    await Promise.all([older.close(), newer.close()]);
    expect(protocolLines().length).toBeGreaterThan(0);
    expect(protocolLines().every((l) => l.includes('protocol 1'))).toBe(true);
    expect(await committedPosition(broker.brokers, `eos-${topic}.pg`, positionTopic)).toMatchObject({ lsn: 9n, index: 2 });
    expect(await committedVersions(topic, 27)).toEqual(expectedVersions(1, 9));
  }, 90_000);

  test("protocol 1: EndTxn's answer lost after the brokers committed: no false fencing, nothing written twice", async () => {
    const lostTopic = uniqueTopic('eos-lost-end-v1');
    await createTopicWithConfigs(admin, lostTopic, 3, {});
    logs.length = 0;
    const lost = loseEndTxnAnswers();
    try {
      const running = await makeKafkaSink('lost-v1', { hosts: broker.brokers, topicFallback: lostTopic, exactlyOnce: true, positionTopic, transactionalId: `eos-${lostTopic}.{source}` });
      await running.write(changes(1, 2));
      lost.lose(1);
      await running.write(changes(3, 4)); // committed, its answer lost, then found in Kafka
      expect(lost.pending).toBe(0);
      await running.write(changes(5, 6));
      await running.close();
    } finally {
      lost.restore();
    }
    expect(protocolLines().every((l) => l.includes('protocol 1'))).toBe(true);
    expect(logs.filter((l) => /6 message\(s\) up to 0\/4 #2 are in Kafka already/.test(l)).length).toBe(1);
    expect(await committedVersions(lostTopic, 18)).toEqual(expectedVersions(1, 6));
  }, 90_000);

  test('a running instance carries on when the cluster is upgraded to 2 under it, nothing lost or doubled', async () => {
    const running = await sink('switch');
    await deliver(running, changes(10, 11));
    await setTransactionVersion(2);
    for (let lsn = 12; lsn <= 15; lsn++) await deliver(running, changes(lsn, lsn));
    await running.close();
    // A new instance after the upgrade speaks 2.
    logs.length = 0;
    const next = await sink('switch');
    await next.write(changes(15, 16));
    await next.close();
    expect(protocolLines().every((l) => l.includes('protocol 2'))).toBe(true);
    expect(await committedVersions(topic, 48)).toEqual(expectedVersions(1, 16));
  }, 120_000);

  test('a running instance carries on when the cluster is downgraded to 1 under it, nothing lost or doubled', async () => {
    const running = await sink('switch-down');
    await deliver(running, changes(17, 18));
    await setTransactionVersion(1);
    for (let lsn = 19; lsn <= 22; lsn++) await deliver(running, changes(lsn, lsn));
    await running.close();
    expect(await committedVersions(topic, 66)).toEqual(expectedVersions(1, 22));
    expect(await committedPosition(broker.brokers, `eos-${topic}.pg`, positionTopic)).toMatchObject({ lsn: 22n, index: 2 });
  }, 120_000);
});

/** Every message of the topic, read_committed, in order of versions; one more than expected is waited for, so a duplicate shows. */
async function committedVersions(topic: string, expected: number): Promise<string[]> {
  return versionsOf(await readTopic(broker.brokers, topic, expected + 1, 4_000)).sort();
}

/** The versions ("lsn.index") of transactions from..to. */
const expectedVersions = (from: number, to: number) => changes(from, to).map((e) => (e.columns as { v: string }).v).sort();
