/**
 * `/status` tells the truth at once (docs/operations.md, "Status: connecting"): for each kind of
 * source and sink, a server that cannot be reached makes `/status` answer 500 from its first answer
 * ("connecting: ..."), with the refused connection as one reason within 2 s, and OK once the server
 * appears (a port that refuses connections until it forwards them to the real server:
 * helpers/tcp-proxy.ts). The streamer runs as a child (src/main.ts), as an operator runs it.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaSourceToml, postgresSourceToml, postgresToFileToml, postgresToKafkaToml, sinkToml, streamerToml } from '../helpers/configs.ts';
import { readTopic } from '../helpers/kafka-sink.ts';
import { uniqueTopic, useKafka } from '../helpers/kafka.ts';
import { createStream, uniqueName, usePostgres } from '../helpers/pg.ts';
import { dsnFor } from '../helpers/postgres-source.ts';
import { killChildrenAndDropSlots, startStreamer, useTempDirs, waitFor, type StreamerProcess } from '../helpers/streamer.ts';
import { LateServer } from '../helpers/tcp-proxy.ts';

const children: StreamerProcess[] = [];
const slots: string[] = [];
const lateServers: LateServer[] = [];

// Registered before the server fixtures' hooks, so it runs while the servers are still there.
afterAll(async () => {
  await killChildrenAndDropSlots(children, slots, pg.sql());
  for (const late of lateServers) await late.close();
});
const kafka = useKafka();
const pg = usePostgres();
const newDir = useTempDirs('psql-streamer-status-');

/** Within this long of the HTTP API's start, the refused connection is in /status (the box is loaded: 1–2 s is the aim). */
const REASON_WITHIN_MS = 2_000;

function start(dir: string, config: string): StreamerProcess {
  const child = startStreamer(dir, config, 'status');
  children.push(child);
  return child;
}

async function late(): Promise<LateServer> {
  const server = await LateServer.reserve();
  lateServers.push(server);
  return server;
}

async function status(url: string): Promise<{ code: number; body: string }> {
  const response = await fetch(`${url}/status`);
  return { code: response.status, body: await response.text() };
}

/**
 * The first /status answer is already 500, and `line` (the component's line) appears within
 * REASON_WITHIN_MS of the HTTP API's start; returns that line.
 */
async function notOkAtOnce(streamer: StreamerProcess, line: RegExp): Promise<string> {
  const url = await streamer.httpUrl();
  const up = Date.now();
  const first = await status(url);
  expect(first.code).toBe(500);
  let last = first;
  const found = () => last.body.split('\n').find((text) => line.test(text));
  await waitFor(`a /status line matching ${line}`, async () => {
    last = await status(url);
    return last.code === 500 && found() !== undefined;
  }, 20_000, () => `${last.code}\n${last.body}\n${streamer.stderr()}`);
  expect(Date.now() - up).toBeLessThan(REASON_WITHIN_MS);
  return found()!;
}

async function okOnceServerUp(streamer: StreamerProcess, timeoutMs: number): Promise<void> {
  const url = await streamer.httpUrl();
  let last = { code: 0, body: '' };
  await waitFor('/status 200', async () => {
    last = await status(url);
    return last.code === 200;
  }, timeoutMs, () => `${last.code}\n${last.body}\n${streamer.stderr()}`);
  expect(last.body).not.toContain('connecting');
}

/** The reason is said once: the address appears once in the line. */
function saidOnce(line: string, address: string): void {
  expect(line.split(address).length - 1).toBe(1);
}

describe('/status is not OK from the first failed connection, with one reason; OK once the server appears', () => {
  test('PostgreSQL source', async () => {
    const stream = await createStream(pg.sql(), 'status_pg', 'id int primary key');
    slots.push(stream.slot);
    const server = await late();
    const dir = newDir();
    const streamer = start(dir, postgresToFileToml({
      dsn: dsnFor(pg.server, { port: server.port }), publication: stream.publication, slot: stream.slot,
      source: 'startRetryInterval = "200ms"\n', state: join(dir, 'state.db'), out: join(dir, 'out.json'),
    }));
    const line = await notOkAtOnce(streamer, /^Source-PSQL \(db1\): connecting: connection to 127\.0\.0\.1:\d+ refused/);
    expect(line).toMatch(/\((attempt 1 failed|\d+ attempts failed in a row), retrying (in [\d.]+ s|now)\)/);
    saidOnce(line, server.address);
    await server.forwardTo(`${pg.server.host}:${pg.server.port}`);
    await okOnceServerUp(streamer, 30_000);
  }, 90_000);

  test('Kafka source', async () => {
    const topic = await kafka.createTopic({ prefix: 'status-source' });
    const server = await late();
    const dir = newDir();
    const streamer = start(dir, streamerToml({
      sections: [
        kafkaSourceToml({ name: 'k1', brokers: [server.address], topics: [topic], group: uniqueName('status_group') }),
        sinkToml('out', 'file', `path = "${join(dir, 'out.json')}"`, ['k1']),
      ],
    }));
    const line = await notOkAtOnce(streamer, /^Source-Kafka \(k1\): connecting: cannot reach broker 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/);
    saidOnce(line, server.address);
    expect(line).not.toContain('failed 4 times');
    await server.forwardTo(kafka.server.brokers[0]!);
    await okOnceServerUp(streamer, 60_000);
  }, 120_000);

  test('Kafka sink: before any write, during writes, then every row once the broker appears', async () => {
    const sql = pg.sql();
    const stream = await createStream(sql, 'status_kafka', 'id int primary key');
    slots.push(stream.slot);
    const topic = uniqueTopic('status-sink');
    const server = await late();
    const dir = newDir();
    const streamer = start(dir, postgresToKafkaToml({
      server: pg.server, publication: stream.publication, slot: stream.slot, source: 'startRetryInterval = "200ms"\n',
      state: join(dir, 'state.db'), brokers: [server.address], sink: `topicFallback = "${topic}"\ntimeout = "500ms"\nmaxAttempts = 1\n`,
    }));
    const line = await notOkAtOnce(streamer, /^Sink-Kafka \(kafka\): connecting: cannot reach broker 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/);
    saidOnce(line, server.address);
    // During writes: the pipeline says its delivery is retried, and why.
    await streamer.waitForLog('Streaming from');
    await sql.unsafe(`INSERT INTO ${stream.table} SELECT generate_series(1, 3)`);
    const url = await streamer.httpUrl();
    let body = '';
    await waitFor('the pipeline to report the failing sink', async () => {
      body = (await status(url)).body;
      return /^Pipeline \(db1\): (?!OK).*127\.0\.0\.1:\d+/m.test(body);
    }, 30_000, () => body);
    expect(body).toMatch(/^Sink-Kafka \(kafka\): (?!OK)/m);
    await server.forwardTo(kafka.server.brokers[0]!);
    await okOnceServerUp(streamer, 60_000);
    const messages = await readTopic(kafka.server.brokers, topic, 3);
    expect(messages.length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  (existsSync('/dev/full') ? test : test.skip)('file sink: a path that cannot be written (/dev/full) makes the sink and the pipeline not OK at the first write', async () => {
    const sql = pg.sql();
    const stream = await createStream(sql, 'status_file', 'id int primary key');
    slots.push(stream.slot);
    const dir = newDir();
    const streamer = start(dir, streamerToml({
      state: join(dir, 'state.db'),
      sections: [postgresSourceToml({ server: pg.server, publication: stream.publication, slot: stream.slot }), sinkToml('out', 'file', 'path = "/dev/full"')],
    }));
    await streamer.waitForLog('Streaming from');
    const url = await streamer.httpUrl();
    await okOnceServerUp(streamer, 20_000);
    await sql.unsafe(`INSERT INTO ${stream.table} VALUES (1)`);
    let body = '';
    await waitFor('the sink to report the failed write', async () => {
      const answer = await status(url);
      body = answer.body;
      return answer.code === 500 && /^Sink-File \(out\): cannot write to '\/dev\/full'/m.test(body);
    }, 20_000, () => body);
    expect(body).toMatch(/no space left on device|ENOSPC/i);
    expect(body).toMatch(/^Pipeline \(db1\): (?!OK)/m);
  }, 60_000);
});
