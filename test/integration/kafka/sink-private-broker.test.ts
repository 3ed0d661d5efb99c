/**
 * The Kafka sink on a private broker (others' tests are unaffected) that the tests stop, reconfigure
 * and start again, in this order: stopped mid-stream and started again (nothing lost, delivery
 * resumes by itself); topic auto-creation off (a topic that does not exist is undeliverable); TLS
 * and SASL listeners (every mechanism the sink offers).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Admin, Connection, alterUserScramCredentialsV0 } from '@platformatic/kafka';
import { isRetryable, type StreamerError } from '../../../src/core/errors.ts';
import type { ChangeEvent } from '../../../src/event/event.ts';
import type { Sink } from '../../../src/sinks/sink.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { createTopic, uniqueTopic } from '../../helpers/kafka.ts';
import { waitFor } from '../../helpers/streamer.ts';
import { RestartableBroker, makeKafkaSink, readTopic, topicSize } from '../../helpers/kafka-sink.ts';
import { makeCertificates } from '../../helpers/certs.ts';

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

    // Everything in the topic: with a batch appended twice (below) reading 1,000 would stop short.
    const read = await readTopic(broker.brokers, topic, await topicSize(broker.brokers, topic), 30_000);
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

/** A free loopback port (bound and released). */
async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Adds SCRAM credentials for `user` (AlterUserScramCredentials, as kafka-configs.sh --add-config does). */
async function addScramUser(user: string, password: string, mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'): Promise<void> {
  const [host, port] = broker.brokers[0]!.split(':');
  const connection = new Connection('scram-admin');
  await connection.connect(host!, Number(port));
  try {
    const salt = randomBytes(16);
    const iterations = 4096;
    const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
    const saltedPassword = pbkdf2Sync(password, salt, iterations, hash === 'sha256' ? 32 : 64, hash);
    const response = await alterUserScramCredentialsV0.api.async(connection, [], [{ name: user, mechanism: mechanism === 'SCRAM-SHA-256' ? 1 : 2, iterations, salt, saltedPassword }]);
    if (response.results.some((r) => r.errorCode !== 0)) throw new Error(`SCRAM credentials for ${user}: ${JSON.stringify(response.results)}`);
  } finally {
    await connection.close();
  }
}

test('regression: a TLS broker at 127.0.0.1 hung every write (an IP as TLS server name); now TLS with a client certificate, SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; a wrong password is a clear, retried error', async () => {
  const tls = join(broker.dir, 'tls');
  makeCertificates(tls);
  const [saslPort, sslPort] = [await freePort(), await freePort()];
  await broker.stop();
  const plain = broker.property('listeners')!.split(',').find((l) => l.startsWith('PLAINTEXT://'))!;
  const controller = broker.property('listeners')!.split(',').find((l) => l.startsWith('CONTROLLER://'))!;
  broker.setProperty('listeners', [plain, controller, `SASL_PLAINTEXT://127.0.0.1:${saslPort}`, `SSL://127.0.0.1:${sslPort}`].join(','));
  broker.setProperty('advertised.listeners', [plain, `SASL_PLAINTEXT://127.0.0.1:${saslPort}`, `SSL://127.0.0.1:${sslPort}`].join(','));
  broker.setProperty('listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL');
  broker.setProperty('sasl.enabled.mechanisms', 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512');
  broker.setProperty('listener.name.sasl_plaintext.plain.sasl.jaas.config',
    'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";');
  broker.setProperty('listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config', 'org.apache.kafka.common.security.scram.ScramLoginModule required;');
  broker.setProperty('listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config', 'org.apache.kafka.common.security.scram.ScramLoginModule required;');
  broker.setProperty('ssl.keystore.type', 'PEM');
  broker.setProperty('ssl.keystore.location', join(tls, 'server-keystore.pem'));
  broker.setProperty('ssl.truststore.type', 'PEM');
  broker.setProperty('ssl.truststore.location', join(tls, 'ca.pem'));
  broker.setProperty('ssl.client.auth', 'required');
  await broker.start();
  await addScramUser('bob', 'bob-secret', 'SCRAM-SHA-256');
  await addScramUser('carol', 'carol-secret', 'SCRAM-SHA-512');

  const topic = uniqueTopic('secure');
  await createTopic(admin, topic, 1);
  const sasl = [`127.0.0.1:${saslPort}`];
  const sinks = {
    plain: await makeKafkaSink('plain', { hosts: sasl, topicFallback: topic, saslMechanism: 'PLAIN', saslUsername: 'alice', saslPassword: 'alice-secret' }),
    scram256: await makeKafkaSink('scram256', { hosts: sasl, topicFallback: topic, saslMechanism: 'SCRAM-SHA-256', saslUsername: 'bob', saslPassword: 'bob-secret' }),
    scram512: await makeKafkaSink('scram512', { hosts: sasl, topicFallback: topic, saslMechanism: 'SCRAM-SHA-512', saslUsername: 'carol', saslPassword: 'carol-secret' }),
    tls: await makeKafkaSink('tls', {
      hosts: [`127.0.0.1:${sslPort}`], topicFallback: topic,
      tlsCaFile: join(tls, 'ca.pem'), tlsCertFile: join(tls, 'client.pem'), tlsKeyFile: join(tls, 'client.key'),
    }),
  };
  const wrong = await makeKafkaSink('wrong', { hosts: sasl, topicFallback: topic, saslMechanism: 'SCRAM-SHA-256', saslUsername: 'bob', saslPassword: 'nope', maxAttempts: 1 });
  try {
    const events = Object.keys(sinks).map((_, k) => makeTestEvent(k));
    await Promise.all(Object.values(sinks).map((sink, k) => sink.write([events[k]!])));
    const read = await readTopic(broker.brokers, topic, events.length);
    expect(new Set(read.map((m) => (JSON.parse(m.value!) as { UUID: string }).UUID))).toEqual(new Set(events.map((e) => e.uuid)));
    for (const sink of Object.values(sinks)) expect(sink.status()).toBeNull();

    const err = await wrong.write([makeTestEvent(99)]).then(() => undefined, (e: StreamerError) => e);
    expect(err).toBeDefined();
    expect(isRetryable(err)).toBe(true);
    expect(err!.message).toMatch(/authenticat/i);
    expect(wrong.status()).toMatch(/authenticat/i);
  } finally {
    await Promise.all([...Object.values(sinks), wrong].map((s) => s.close()));
  }
}, 120_000);
