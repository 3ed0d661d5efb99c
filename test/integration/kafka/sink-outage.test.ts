/**
 * The Kafka sink when the broker goes away: a private broker (others' tests are unaffected) is
 * stopped mid-stream and started again; nothing is lost and delivery resumes by itself. Then the
 * same broker with topic auto-creation off: a topic that does not exist is undeliverable.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Admin } from '@platformatic/kafka';
import { isRetryable, type StreamerError } from '../../../src/core/errors.ts';
import type { ChangeEvent } from '../../../src/core/event.ts';
import type { Sink } from '../../../src/sinks/sink.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { createTopic, uniqueTopic } from '../../helpers/kafka.ts';
import { waitFor } from '../../helpers/streamer.ts';
import { RestartableBroker, makeKafkaSink, readTopic } from './sink-support.ts';

const logs = captureLogs();
let broker: RestartableBroker;
let admin: Admin;

beforeAll(async () => {
  broker = await RestartableBroker.create();
  admin = new Admin({ clientId: 'outage-admin', bootstrapBrokers: broker.brokers });
}, 180_000);

afterAll(async () => {
  await admin?.close().catch(() => {});
  await broker?.destroy();
}, 60_000);

/** Messages the brokers acknowledged so far ("kafka msgs sent" of the stats line). */
const sent = (sink: Sink) => Number(/kafka msgs sent: (\d+)/.exec(sink.stats())![1]);

/** Writes the batches in order as the pipeline does: a retryable failure is retried with backoff. */
async function deliverAll(sink: Sink, batches: ChangeEvent[][], failures: string[]): Promise<void> {
  for (const batch of batches) {
    for (let retry = 0; ; retry++) {
      try {
        await sink.write(batch);
        break;
      } catch (err) {
        if (!isRetryable(err)) throw err;
        failures.push((err as StreamerError).message);
        await Bun.sleep(Math.min(50 * 2 ** retry, 500));
      }
    }
    await Bun.sleep(5);
  }
}

test('broker stopped mid-stream and started again: retried until it is back, nothing lost, status clears', async () => {
  const topic = uniqueTopic('outage');
  await createTopic(admin, topic, 1);
  const sink = await makeKafkaSink('outage', { hosts: broker.brokers, topicFallback: topic, timeout: 1000, maxAttempts: 2 });
  const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: 25 }, (_, k) => makeTestEvent(b * 25 + k)));
  const failures: string[] = [];
  try {
    const writer = deliverAll(sink, batches, failures);
    await waitFor('a quarter of the stream', () => sent(sink) >= 250, 30_000);
    await broker.stop();
    await waitFor('the sink to report the broker', () => sink.status() !== null, 30_000);
    expect(sink.status()).toContain(broker.brokers[0]!);
    const sentWhileDown = sent(sink);
    await Bun.sleep(1500); // down for a while: the writer keeps retrying, nothing is acknowledged
    expect(sent(sink)).toBe(sentWhileDown);
    expect(sent(sink)).toBeLessThan(1000);
    // The next test needs topic auto-creation off: one restart serves both.
    broker.setProperty('auto.create.topics.enable', 'false');
    await broker.start();
    await writer;
    expect(sink.status()).toBeNull();
    expect(failures.length).toBeGreaterThan(0);
    expect(logs.some((l) => l.includes('Writing to Kafka works again'))).toBe(true);

    const read = await readTopic(broker.brokers, topic, 1000, 30_000);
    const seen = new Set(read.map((m) => (JSON.parse(m.value!) as { UUID: string }).UUID));
    const missing = batches.flat().filter((e) => !seen.has(e.uuid));
    expect(missing.length).toBe(0);
    // At-least-once: a request cut by the shutdown may have been appended before its answer was lost.
    expect(read.length).toBeGreaterThanOrEqual(1000);
    expect(read.length - seen.size).toBeLessThanOrEqual(25 * 2);
  } finally {
    await sink.close();
  }
}, 180_000);

test('topic auto-creation off: a missing topic is undeliverable after a grace period (dead-letter topic, else a permanent error)', async () => {
  // The broker runs with auto.create.topics.enable=false since the restart of the previous test.
  const dlq = uniqueTopic('dlq');
  await createTopic(admin, dlq, 1);
  const missing = uniqueTopic('missing');
  const withDlq = await makeKafkaSink('missing-dlq', { hosts: broker.brokers, topicFallback: missing, deadLetterTopic: dlq, maxAttempts: 1 });
  const without = await makeKafkaSink('missing', { hosts: broker.brokers, topicFallback: missing, maxAttempts: 1 });
  try {
    const event = makeTestEvent(1);
    const failures: string[] = [];
    // Both sinks wait out the grace period at the same time.
    const [, err] = await Promise.all([
      deliverAll(withDlq, [[event]], failures),
      deliverAll(without, [[makeTestEvent(2)]], []).then(() => undefined, (e: StreamerError) => e),
    ]);
    expect(failures.some((f) => f.includes(`topic "${missing}" does not exist (yet)`))).toBe(true);
    const [dead] = await readTopic(broker.brokers, dlq, 1);
    expect(dead!.headers['psql-streamer-error-code']).toBe('UNKNOWN_TOPIC');
    expect(dead!.headers['psql-streamer-original-topic']).toBe(missing);

    expect(err).toBeDefined();
    expect(isRetryable(err)).toBe(false);
    expect(err!.message).toContain(`topic "${missing}" does not exist and the brokers do not create it`);
    expect(err!.message).toContain('Create the topic (or enable auto.create.topics.enable on the brokers)');
  } finally {
    await Promise.all([withDlq.close(), without.close()]);
  }
}, 120_000);
