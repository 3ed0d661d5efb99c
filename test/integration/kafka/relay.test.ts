/**
 * The Kafka source through the whole program (src/main.ts as a child process): Kafka → Kafka relay
 * of events in the original's format, a crash (kill -9) between malformed and good messages, and a
 * sink that cannot write, whose source's offsets must not move.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaSinkToml, kafkaSourceToml, sinkToml, streamerToml } from '../../helpers/configs.ts';
import { uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { completeLines, killChildren, startStreamer, useTempDirs, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';
import { readTopic, topicSize } from '../../helpers/kafka-sink.ts';
import { committedOffsets, groupMembers, originalEventJson, produce, uuidOf } from '../../helpers/kafka-source.ts';

const kafka = useKafka();
const children: StreamerProcess[] = [];
afterAll(() => killChildren(children));
const newDir = useTempDirs('psql-streamer-relay-');

function start(dir: string, config: string, name: string): StreamerProcess {
  const child = startStreamer(dir, config, name);
  children.push(child);
  return child;
}

/** `[source.NAME]` (kafka) on the test broker, quick group timing. */
function kafkaSource(name: string, topics: string[], group: string, extra = ''): string {
  return kafkaSourceToml({ name, brokers: kafka.server.brokers, topics, group, source: extra });
}

const lines = (path: string): string[] => completeLines(path);

describe('Kafka → Kafka relay', () => {
  test('events in the original format reach the Kafka sink and a file sink unchanged; offsets committed after both; SIGTERM leaves the group', async () => {
    const dir = newDir();
    const input = await kafka.createTopic({ prefix: 'relay-in', partitions: 3 });
    const output = await kafka.createTopic({ prefix: 'relay-out' });
    const group = uniqueTopic('relay-group');
    const file = join(dir, 'out.jsonl');
    const sent = Array.from({ length: 30 }, (_, i) => originalEventJson(i, i % 2 ? 'orders' : 'users'));
    await produce(kafka.server.brokers, input, sent.map((value, i) => ({ partition: i % 3, value })));

    const streamer = start(dir, streamerToml({
      sections: [
        kafkaSource('relay', [input], group),
        kafkaSinkToml({ name: 'out', brokers: kafka.server.brokers, sources: ['relay'], sink: `topicFallback = "${output}"\nkey = "original"` }),
        sinkToml('file', 'file', `path = "${file}"`, ['relay']),
      ],
    }), 'relay');
    const relayed = await readTopic(kafka.server.brokers, output, 30, 60_000);
    expect(relayed.length).toBe(30);
    // Byte for byte: a consumer of the original sees the same messages after the relay.
    expect(relayed.map((m) => m.value!).sort()).toEqual([...sent].sort());
    expect(relayed.every((m) => m.key === `db1.example:shop:${JSON.parse(m.value!).Table}:${JSON.parse(m.value!).Action}`)).toBe(true);
    await waitFor('30 lines in the file', () => lines(file).length >= 30, 30_000);
    expect([...lines(file)].sort()).toEqual([...sent].sort());

    await waitFor('offsets committed', async () => {
      const committed = await committedOffsets(kafka.admin(), group);
      return [0, 1, 2].every((p) => committed[`${input}:${p}`] === 10);
    }, 30_000);

    const url = await streamer.httpUrl();
    const stats = await (await fetch(`${url}/stats`)).text();
    expect(stats).toContain(`Source-Kafka (relay): events: 30 errors: 0 fetchErrors: 0 sinks: out, file, topics: ${input}; malformed: 0, partitions: 3`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(`source_events{sourceName="relay",sourceType="Source-Kafka",table="orders"} 15`);
    expect(metrics).toContain(`kafka_source_committed_offset{sourceName="relay",topic="${input}",partition="0"} 10`);
    expect((await fetch(`${url}/status`)).status).toBe(200);

    streamer.proc.kill('SIGTERM');
    expect(await streamer.exited).toBe(0);
    expect(await groupMembers(kafka.admin(), group)).toBe(0);
    expect(streamer.stderr()).toContain(`Left consumer group "${group}"`);
  }, 120_000);
});

describe('crash', () => {
  test('kill -9 with malformed messages between good ones: after the restart no good message is skipped, malformed ones are dead-lettered', async () => {
    const dir = newDir();
    const input = await kafka.createTopic({ prefix: 'crash-in', partitions: 2 });
    const dlq = uniqueTopic('crash-dlq');
    const group = uniqueTopic('crash-group');
    const file = join(dir, 'out.jsonl');
    const total = 3000;
    const isBad = (i: number) => i % 7 === 3;
    // Message i goes to partition i % 2 at offset floor(i / 2).
    const messages = Array.from({ length: total }, (_, i) => ({ partition: i % 2, value: isBad(i) ? `{"broken": ${i}` : originalEventJson(i) }));
    await produce(kafka.server.brokers, input, messages.slice(0, total / 2));
    const config = streamerToml({
      top: 'shutdownTimeout = "20s"',
      sections: [kafkaSource('relay', [input], group, `deadLetterTopic = "${dlq}"\nbatchSize = 20`), sinkToml('file', 'file', `path = "${file}"`, ['relay'])],
    });
    const first = start(dir, config, 'first');
    // Kill as soon as the first events are in the file: batches are still being delivered.
    const deadline = Date.now() + 60_000;
    while (lines(file).length < 100 && Date.now() < deadline && first.proc.exitCode === null) await Bun.sleep(1);
    first.proc.kill('SIGKILL');
    await first.exited;
    // The kill can cut the file's last line short; the next run ends it with a newline before
    // appending (the file sink's regression test in test/unit/sinks/file/), so from then on that
    // one line is complete but no event.
    // (Parsing it made this test fail now and then.)
    const atKill = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const torn = atKill.endsWith('\n') ? undefined : atKill.slice(atKill.lastIndexOf('\n') + 1);
    const events = (): string[] => lines(file).filter((line) => line !== torn);
    const delivered = new Set(events().map(uuidOf));
    expect(delivered.size).toBeGreaterThan(0);

    // Nothing was committed past a good message that is not in the file.
    const committed = await committedOffsets(kafka.admin(), group);
    process.stderr.write(`[relay crash] killed with ${lines(file).length} lines in the file (of ${total / 2} messages produced), committed ${JSON.stringify(committed)}\n`);
    for (const [key, next] of Object.entries(committed)) {
      const partition = Number(key.slice(key.lastIndexOf(':') + 1));
      for (let i = partition; Math.floor(i / 2) < next; i += 2) {
        if (!isBad(i)) expect({ i, delivered: delivered.has(uuidOf(messages[i]!.value)) }).toEqual({ i, delivered: true });
      }
    }

    await produce(kafka.server.brokers, input, messages.slice(total / 2));
    const second = start(dir, config, 'second');
    const good = messages.filter((_, i) => !isBad(i)).map((m) => uuidOf(m.value));
    await waitFor('every good message in the file', () => {
      const seen = new Set(events().map(uuidOf));
      return good.every((uuid) => seen.has(uuid));
    }, 60_000, () => `${new Set(events().map(uuidOf)).size} of ${good.length} good messages`);
    await waitFor('all offsets committed', async () => {
      const c = await committedOffsets(kafka.admin(), group);
      return c[`${input}:0`] === total / 2 && c[`${input}:1`] === total / 2;
    }, 30_000);

    // Every malformed message is in the dead-letter topic at least once, with its position.
    const bad = messages.map((m, i) => ({ ...m, i })).filter((m) => isBad(m.i));
    const letters = await readTopic(kafka.server.brokers, dlq, await topicSize(kafka.server.brokers, dlq), 30_000);
    const lettered = new Set(letters.map((m) => `${m.headers['psql-streamer-original-partition']}@${m.headers['psql-streamer-original-offset']}`));
    for (const m of bad) expect(lettered.has(`${m.partition}@${Math.floor(m.i / 2)}`)).toBe(true);
    expect(letters.every((m) => m.headers['psql-streamer-error']?.startsWith('Unable to unmarshal event'))).toBe(true);

    // Lag, measured every 5 s, reaches 0 on both partitions once everything is committed.
    const url = await second.httpUrl();
    await waitFor('lag 0', async () => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      return [0, 1].every((p) => metrics.includes(`kafka_source_consumer_lag{sourceName="relay",topic="${input}",partition="${p}"} 0`));
    }, 30_000);

    // The restarted streamer counts the malformed messages it read.
    const stats = await (await fetch(`${url}/stats`)).text();
    const malformed = Number(/malformed: (\d+)/.exec(stats)?.[1]);
    expect(malformed).toBeGreaterThanOrEqual(bad.filter((m) => Math.floor(m.i / 2) >= Math.min(...Object.values(committed), total)).length);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});

describe('a sink that cannot write', () => {
  test('keeps the committed offsets where they are; /status says why', async () => {
    const dir = newDir();
    const input = await kafka.createTopic({ prefix: 'stuck-in' });
    const group = uniqueTopic('stuck-group');
    await produce(kafka.server.brokers, input, Array.from({ length: 5 }, (_, i) => ({ value: originalEventJson(i) })));
    // /dev/full: every write fails with ENOSPC, which the file sink retries forever.
    const streamer = start(dir, streamerToml({
      top: 'shutdownTimeout = "1s"',
      sections: [kafkaSource('relay', [input], group), sinkToml('full', 'file', 'path = "/dev/full"', ['relay'])],
    }), 'stuck');
    await streamer.waitForLog('Unable to send batch (5 events)', 60_000);
    await streamer.waitForLog('(retry 3)', 30_000);
    expect(await committedOffsets(kafka.admin(), group)).toEqual({});
    const status = await fetch(`${await streamer.httpUrl()}/status`);
    expect(status.status).toBe(500);
    expect(await status.text()).toContain('ENOSPC');
    streamer.proc.kill('SIGKILL');
    await streamer.exited;
    expect(await committedOffsets(kafka.admin(), group)).toEqual({});
  }, 120_000);
});
