/**
 * The Kafka source on the real broker: original-format events from every partition in offset
 * order, commits only of what was acknowledged, malformed messages (dead-letter copies, committed
 * in order), back-pressure, two members sharing partitions, acknowledgements after a revocation,
 * an unreachable broker.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { StreamerError } from '../../../src/core/errors.ts';
import { encodePassthrough } from '../../../src/event/passthrough.ts';
import type { KafkaSource } from '../../../src/sources/kafka/source.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { runScript } from '../../helpers/env.ts';
import { uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { waitFor } from '../../helpers/streamer.ts';
import { readTopic } from '../../helpers/kafka-sink.ts';
import {
  RecordingOutput,
  committedOffsets,
  groupMembers,
  makeSource,
  originalEventJson,
  produce,
  sourceSettings,
  uuidOf,
} from '../../helpers/kafka-source.ts';

const kafka = useKafka();
const logs = captureLogs();
const running: KafkaSource[] = [];

afterEach(async () => {
  for (const source of running.splice(0)) {
    await source.stop().catch(() => {});
    await source.close().catch(() => {});
  }
});

function start(source: KafkaSource, output = new RecordingOutput()): RecordingOutput {
  running.push(source);
  void source.start(output);
  return output;
}

async function stopAndClose(source: KafkaSource): Promise<void> {
  running.splice(running.indexOf(source), 1);
  await source.stop();
  await source.close();
}

const partitionsOf = (source: KafkaSource) => Number(/partitions: (\d+)/.exec(source.stats())?.[1]);

describe('reading', () => {
  test('original events from every partition in offset order; commits only what was acknowledged, per partition', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-read', partitions: 3 });
    const brokers = kafka.server.brokers;
    const sent = Array.from({ length: 30 }, (_, i) => originalEventJson(i));
    await produce(brokers, topic, sent.map((value, i) => ({ partition: i % 3, value })));

    const settings = sourceSettings(brokers, [topic]);
    const source = makeSource('read', settings);
    const output = start(source);
    await waitFor('30 events', () => output.items.length >= 30, 30_000);
    await Bun.sleep(300);
    expect(output.items.length).toBe(30);

    for (let p = 0; p < 3; p++) {
      expect(output.positions.filter((pos) => pos.partition === p).map((pos) => Number(pos.offset))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    // Every event re-encodes to the very bytes the original wrote.
    const byUuid = new Map(sent.map((json) => [uuidOf(json), json]));
    for (const item of output.items) {
      expect(item.event?.source).toBe('read');
      expect(encodePassthrough(item.event!)).toBe(byUuid.get(item.event!.uuid)!);
    }

    // Nothing is committed before the pipeline acknowledges.
    expect(await committedOffsets(kafka.admin(), settings.groupId)).toEqual({});
    const firstOfEach = [0, 1, 2].map((p) => output.items.findIndex((i) => i.position?.partition === p));
    const cut = Math.max(...firstOfEach) + 3;
    await source.ack(output.positions.slice(0, cut));
    const partial = await committedOffsets(kafka.admin(), settings.groupId);
    for (let p = 0; p < 3; p++) {
      const delivered = output.positions.slice(0, cut).filter((pos) => pos.partition === p);
      expect(partial[`${topic}:${p}`]).toBe(Number(delivered.at(-1)!.offset) + 1);
    }
    await source.ack(output.positions.slice(cut));
    expect(await committedOffsets(kafka.admin(), settings.groupId)).toEqual({ [`${topic}:0`]: 10, [`${topic}:1`]: 10, [`${topic}:2`]: 10 });
    expect(source.status()).toBeNull();
    expect(source.stats()).toBe(`events: 30 errors: 0 fetchErrors: 0 sinks: , topics: ${topic}; malformed: 0, partitions: 3`);

    // close() leaves the group: the coordinator has no member left.
    await stopAndClose(source);
    expect(await groupMembers(kafka.admin(), settings.groupId)).toBe(0);
  }, 60_000);

  test('a restarted member of the group resumes after the committed offsets', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-resume' });
    const brokers = kafka.server.brokers;
    await produce(brokers, topic, Array.from({ length: 6 }, (_, i) => ({ value: originalEventJson(i) })));
    const settings = sourceSettings(brokers, [topic]);
    const first = makeSource('resume', settings);
    const out1 = start(first);
    await waitFor('6 events', () => out1.items.length >= 6, 30_000);
    await first.ack(out1.positions.slice(0, 4));
    await stopAndClose(first);

    const second = makeSource('resume', settings);
    const out2 = start(second);
    await waitFor('2 events', () => out2.items.length >= 2, 30_000);
    expect(out2.trail()).toEqual(['0@4', '0@5']);
  }, 60_000);
});

describe('malformed messages', () => {
  test('counted, copied to the dead-letter topic with why and where, committed only together with the messages before them', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-bad' });
    const dlq = uniqueTopic('src-bad-dlq');
    const brokers = kafka.server.brokers;
    await produce(brokers, topic, [
      { value: originalEventJson(0) },
      { value: 'not json', key: 'k1', headers: { trace: 'abc' } },
      { value: originalEventJson(1) },
      { value: '{"Host":"h","Table":"t"}' },
      { value: originalEventJson(2) },
      { value: null },
      { value: originalEventJson(3).replace('"Timestamp":"2020-03-07T20:40:31', '"Timestamp":"2020-03-07 20:40:31') },
      { value: originalEventJson(4) },
    ]);
    const settings = sourceSettings(brokers, [topic], { deadLetterTopic: dlq });
    const source = makeSource('bad', settings);
    const output = start(source);
    await waitFor('8 items', () => output.items.length >= 8, 30_000);
    expect(output.trail()).toEqual(['0@0', '0@1!', '0@2', '0@3!', '0@4', '0@5!', '0@6!', '0@7']);

    // The original committed a malformed message at once, skipping the undelivered ones before it.
    await Bun.sleep(500);
    expect(await committedOffsets(kafka.admin(), settings.groupId)).toEqual({});
    await source.ack(output.positions.slice(0, 2));
    expect(await committedOffsets(kafka.admin(), settings.groupId)).toEqual({ [`${topic}:0`]: 2 });
    await source.ack(output.positions.slice(2));
    expect(await committedOffsets(kafka.admin(), settings.groupId)).toEqual({ [`${topic}:0`]: 8 });

    expect(source.stats()).toContain('errors: 4 fetchErrors: 0 ');
    expect(source.stats()).toContain('; malformed: 4, deadLettered: 4, ');
    const letters = await readTopic(brokers, dlq, 4);
    expect(letters.map((m) => m.value)).toEqual(['not json', '{"Host":"h","Table":"t"}', undefined, expect.stringContaining('2020-03-07 20:40:31')]);
    expect(letters[0]!.key).toBe('k1');
    expect(letters[0]!.headers).toMatchObject({
      trace: 'abc',
      'psql-streamer-error-code': 'MALFORMED_EVENT',
      'psql-streamer-source': 'bad',
      'psql-streamer-original-topic': topic,
      'psql-streamer-original-partition': '0',
      'psql-streamer-original-offset': '1',
    });
    expect(letters[0]!.headers['psql-streamer-error']).toStartWith('Unable to unmarshal event: invalid character');
    expect(letters[1]!.headers['psql-streamer-error']).toBe('Malformed event: no UUID');
    expect(letters[2]!.headers['psql-streamer-error']).toBe('Unable to unmarshal event: unexpected end of JSON input');
    expect(letters[3]!.headers['psql-streamer-error']).toContain('Timestamp');
    expect(letters.map((m) => m.headers['psql-streamer-original-offset'])).toEqual(['1', '3', '5', '6']);
    expect(logs.join('\n')).toContain(`Malformed event: no UUID [topic ${topic} partition 0 offset 3]; copied to "${dlq}"`);
  }, 60_000);

  test('without a dead-letter topic they are counted, logged and committed in order', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-bad-nodlq' });
    const brokers = kafka.server.brokers;
    await produce(brokers, topic, [{ value: '[]' }, { value: originalEventJson(0) }]);
    const settings = sourceSettings(brokers, [topic]);
    const source = makeSource('bad-nodlq', settings);
    const output = start(source);
    await waitFor('2 items', () => output.items.length >= 2, 30_000);
    expect(output.trail()).toEqual(['0@0!', '0@1']);
    await source.ack(output.positions);
    expect(await committedOffsets(kafka.admin(), settings.groupId)).toEqual({ [`${topic}:0`]: 2 });
    expect(source.stats()).toContain('; malformed: 1, partitions');
    expect(logs.join('\n')).toContain('cannot unmarshal array into an event object');
    expect(logs.join('\n')).toContain('skipped, committed after the messages before it');
  }, 60_000);
});

describe('flow control and the group', () => {
  test('back-pressure: a full pipeline pauses fetching until it drains', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-bp' });
    const brokers = kafka.server.brokers;
    await produce(brokers, topic, Array.from({ length: 50 }, (_, i) => ({ value: originalEventJson(i) })));
    const output = new RecordingOutput();
    output.room = (count) => count < 5;
    const source = makeSource('bp', sourceSettings(brokers, [topic]));
    start(source, output);
    await waitFor('5 items', () => output.items.length >= 5, 30_000);
    await Bun.sleep(1500);
    expect(output.items.length).toBe(5);
    output.release();
    await waitFor('50 items', () => output.items.length >= 50, 30_000);
    expect(output.positions.map((p) => Number(p.offset))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  }, 60_000);

  test('two members of one group share the partitions of a 4-partition topic; together they read everything', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-share', partitions: 4 });
    const brokers = kafka.server.brokers;
    const settings = sourceSettings(brokers, [topic]);
    const a = makeSource('share-a', settings);
    const b = makeSource('share-b', settings);
    const outA = start(a);
    await waitFor('a owns 4 partitions', () => partitionsOf(a) === 4, 30_000);
    const outB = start(b);
    await waitFor('2 partitions each', () => partitionsOf(a) === 2 && partitionsOf(b) === 2, 30_000);

    const sent = Array.from({ length: 40 }, (_, i) => originalEventJson(i));
    await produce(brokers, topic, sent.map((value, i) => ({ partition: i % 4, value })));
    await waitFor('40 events', () => outA.items.length + outB.items.length >= 40, 30_000);
    await Bun.sleep(300);
    const partsA = new Set(outA.positions.map((p) => p.partition));
    const partsB = new Set(outB.positions.map((p) => p.partition));
    expect(partsA.size).toBe(2);
    expect(partsB.size).toBe(2);
    expect([...partsA].some((p) => partsB.has(p))).toBe(false);
    const uuids = [...outA.items, ...outB.items].map((i) => i.event!.uuid).sort();
    expect(uuids).toEqual(sent.map(uuidOf).sort());

    await a.ack(outA.positions);
    await b.ack(outB.positions);
    expect(await committedOffsets(kafka.admin(), settings.groupId)).toEqual(Object.fromEntries([0, 1, 2, 3].map((p) => [`${topic}:${p}`, 10])));
  }, 90_000);

  test('acknowledgements after a revocation: no crash, revoked partitions not committed, their new owner re-reads them', async () => {
    const topic = await kafka.createTopic({ prefix: 'src-revoke', partitions: 4 });
    const brokers = kafka.server.brokers;
    const sent = Array.from({ length: 20 }, (_, i) => originalEventJson(i));
    await produce(brokers, topic, sent.map((value, i) => ({ partition: i % 4, value })));
    const settings = sourceSettings(brokers, [topic]);
    const a = makeSource('revoke-a', settings);
    const outA = start(a);
    await waitFor('a read 20', () => outA.items.length >= 20, 30_000);

    const b = makeSource('revoke-b', settings);
    const outB = start(b);
    await waitFor('2 partitions each', () => partitionsOf(a) === 2 && partitionsOf(b) === 2, 30_000);
    await a.ack(outA.positions);
    const committed = await committedOffsets(kafka.admin(), settings.groupId);
    const kept = [0, 1, 2, 3].filter((p) => committed[`${topic}:${p}`] !== undefined);
    expect(kept.length).toBe(2);
    for (const p of kept) {
      const last = outA.positions.filter((pos) => pos.partition === p).at(-1)!;
      expect(`${p}@${committed[`${topic}:${p}`]}`).toBe(`${p}@${last.offset + 1n}`);
    }
    // b owns the other two, never committed: it reads them from the start (at-least-once).
    await waitFor('b read its 10', () => outB.items.length >= 10, 30_000);
    expect(new Set(outB.positions.map((p) => p.partition))).toEqual(new Set([0, 1, 2, 3].filter((p) => !kept.includes(p))));
    expect(outB.positions.filter((p) => p.offset === 0n).length).toBe(2);
  }, 90_000);
});

describe('health', () => {
  test('a broker that stops answering: unhealthy with the reason, then fetching resumes by itself', async () => {
    // A broker of this test alone, frozen with SIGSTOP (an unreachable broker) and thawed again.
    const vars = await runScript('kafka/start', ['--private']);
    const dir = vars.PSQL_STREAMER_KAFKA_DIR!;
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
    const brokers = [vars.KAFKA_BROKERS!];
    try {
      const topic = uniqueTopic('src-freeze');
      await produce(brokers, topic, [{ value: originalEventJson(0) }]);
      const source = makeSource('freeze', sourceSettings(brokers, [topic], { unhealthyAfterMs: 1500 }));
      const output = start(source);
      await waitFor('the first event', () => output.items.length === 1, 30_000);
      expect(source.status()).toBeNull();
      process.kill(pid, 'SIGSTOP');
      try {
        await waitFor('unhealthy', () => source.status() !== null, 20_000);
        expect(source.status()).toMatch(new RegExp(`^no answer to a fetch from the brokers for \\d+ s \\(${brokers[0]}\\)$`));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await produce(brokers, topic, [{ value: originalEventJson(1) }]);
      await waitFor('the second event', () => output.items.length === 2, 60_000);
      await waitFor('healthy again', () => source.status() === null, 10_000);
      await source.ack(output.positions);
      await stopAndClose(source);
    } finally {
      process.kill(pid, 'SIGCONT');
      await runScript('kafka/stop', ['--dir', dir]);
    }
  }, 120_000);

  test('regression: an offset commit the broker did not answer held the acknowledgement forever; now it fails it (retryable); the same positions commit once it answers again', async () => {
    const vars = await runScript('kafka/start', ['--private']);
    const dir = vars.PSQL_STREAMER_KAFKA_DIR!;
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
    const brokers = [vars.KAFKA_BROKERS!];
    const admin = new Admin({ clientId: 'test-commit-admin', bootstrapBrokers: brokers });
    try {
      const topic = uniqueTopic('src-commit');
      await produce(brokers, topic, [0, 1, 2].map((i) => ({ value: originalEventJson(i) })));
      // A session that outlives the freeze, so the member keeps its partition.
      const settings = sourceSettings(brokers, [topic], { sessionTimeoutMs: 60_000 });
      const source = makeSource('commit', settings);
      const output = start(source);
      await waitFor('three events', () => output.items.length === 3, 30_000);
      process.kill(pid, 'SIGSTOP');
      let failure: unknown;
      try {
        failure = await source.ack(output.positions).then(() => undefined, (err: unknown) => err);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      expect(failure).toBeInstanceOf(StreamerError);
      expect((failure as StreamerError).retryable).toBe(true);
      expect((failure as StreamerError).message).toContain(`unable to commit offsets ${topic}:0@3`);
      expect(source.stats()).toMatch(/^events: 3 errors: 1 /);
      // The pipeline retries the same positions: they commit now.
      await source.ack(output.positions);
      expect(await committedOffsets(admin, settings.groupId)).toEqual({ [`${topic}:0`]: 3 });
      await stopAndClose(source);
    } finally {
      process.kill(pid, 'SIGCONT');
      await admin.close().catch(() => {});
      await runScript('kafka/stop', ['--dir', dir]);
    }
  }, 120_000);

  test('regression: an unreachable broker was OK for 15 s, then a reason repeating "findGroupCoordinator failed 4 times."; now not OK at once, the reason said once', async () => {
    const source = makeSource('down', sourceSettings(['127.0.0.1:1'], ['nowhere']));
    const started = Date.now();
    start(source);
    expect(source.status()).toMatch(/^connecting: joining consumer group "[^"]+" via 127\.0\.0\.1:1 \(/);
    await waitFor('the refused connection in the status', () => /refused/.test(source.status() ?? ''), 10_000, () => `status: ${source.status()}`);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(source.status()).toMatch(/^connecting: cannot reach broker 127\.0\.0\.1:1: connection refused \(ECONNREFUSED\) \((attempt 1 failed|\d+ attempts failed in a row)\)$/);
    await waitFor('a fetch error counted', () => /fetchErrors: [1-9]/.test(source.stats()), 30_000);
    const status = source.status()!;
    expect(status).toStartWith('connecting: cannot reach broker 127.0.0.1:1: connection refused (ECONNREFUSED) (');
    expect(status.match(/127\.0\.0\.1:1/g)?.length).toBe(1);
    expect(logs.join('\n')).toContain('Unable to fetch (1 errors so far), retrying in 1000 ms');
  }, 60_000);
});
