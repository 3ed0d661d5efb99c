/**
 * The NATS sink against a real JetStream server: outage and restart on the same store (nothing lost,
 * every event once, in order), redeliveries dropped by the duplicate window (Nats-Msg-Id), a subject
 * no stream captures (retryable, named), the `stream` expectation and createStream, a table whose
 * name makes no valid subject.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { isRetryable, StreamerError } from '../../../src/core/errors.ts';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { passthroughBytes } from '../../../src/event/passthrough.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import type { Sink } from '../../../src/sinks/sink.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { createStream, makeNatsSink, readStream, startPrivateNats, streamSize, uniqueName, useNats, type PrivateNats } from '../../helpers/nats.ts';

const batchOf = (from: number, to: number, table = 'items'): ChangeEvent[] =>
  Array.from({ length: to - from }, (_, k) => makeTestEvent(from + k, 'db1', table));

const uuidsOf = (messages: Array<{ data: string }>) => messages.map((m) => (JSON.parse(m.data) as { UUID: string }).UUID);

/** Writes `batch` as the pipeline does: the same array again after a retryable failure. Returns the failures. */
async function writeWithRetries(sink: Sink, batch: readonly ChangeEvent[], deadlineMs = 60_000): Promise<StreamerError[]> {
  const failures: StreamerError[] = [];
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      await sink.write(batch);
      return failures;
    } catch (err) {
      if (!isRetryable(err) || Date.now() > deadline) throw err;
      failures.push(err as StreamerError);
      await Bun.sleep(100);
    }
  }
}

describe('NATS sink: outage', () => {
  let server: PrivateNats;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await startPrivateNats();
  }, 60_000);
  afterAll(async () => {
    await nc?.close().catch(() => {});
    await server.remove();
  }, 60_000);

  test('nats-server stopped mid-stream and started again on its store: every event once, in order', async () => {
    const stream = uniqueName('outage');
    nc = await connect({ servers: server.url });
    await createStream(await jetstreamManager(nc), stream, [`${stream}.>`]);
    await nc.close();
    nc = undefined;
    const sink = await makeNatsSink('nats-outage', { servers: [server.url], subjectFallback: `${stream}.{table}`, stream, timeout: 1000 });
    const expected: string[] = [];
    const failures: StreamerError[] = [];
    let statusDuringOutage: string | null = null;
    try {
      const total = 40;
      for (let b = 0; b < total; b++) {
        const batch = batchOf(b * 100, b * 100 + 100, b % 2 === 0 ? 'orders' : 'lines');
        expected.push(...batch.map((e) => e.uuid));
        if (b === 10) await server.stop();
        if (b === 10) {
          // The write fails while the server is down; the next attempts succeed once it is back.
          const writing = writeWithRetries(sink, batch).then((f) => failures.push(...f));
          await Bun.sleep(2500);
          statusDuringOutage = sink.status();
          await server.start();
          await writing;
          continue;
        }
        failures.push(...await writeWithRetries(sink, batch));
      }
    } finally {
      await sink.close();
    }
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) expect(f.retryable).toBe(true);
    expect(statusDuringOutage).toMatch(/NATS/);
    nc = await connect({ servers: server.url });
    const messages = await readStream(nc, stream);
    expect(messages.length).toBe(expected.length);
    expect(uuidsOf(messages)).toEqual(expected);
    expect(messages.every((m, i) => m.msgId === expected[i])).toBe(true);
  }, 120_000);
});

describe('NATS sink', () => {
  const nats = useNats();

  test('a batch written again (ack lost, crash) is dropped by the duplicate window: each event once', async () => {
    const stream = await nats.createStream('dedupe');
    const metrics = createMetrics();
    const sink = await makeNatsSink('nats-dedupe', { servers: [nats.server.url], subjectFallback: `${stream}.{schema}.{table}` }, metrics);
    try {
      const batch = batchOf(0, 500);
      await sink.write(batch);
      await sink.write(batch);
      await sink.write(batch.slice(100, 300));
      expect(sink.stats()).toContain('duplicates dropped: 700');
      // nats_sink_*: every acknowledged message, the duplicates among them, their payload bytes, one timing per write.
      const text = await metrics.registry.metrics();
      expect(text).toContain('nats_sink_messages_total{sinkName="nats-dedupe"} 1200');
      expect(text).toContain('nats_sink_duplicates_total{sinkName="nats-dedupe"} 700');
      expect(text).toContain('nats_sink_publish_seconds_count{sinkName="nats-dedupe"} 3');
      const bytes = Number(/nats_sink_bytes_total\{sinkName="nats-dedupe"\} (\d+)/.exec(text)![1]);
      const payload = (e: ChangeEvent) => passthroughBytes(e).length;
      expect(bytes).toBe(2 * batch.reduce((n, e) => n + payload(e), 0) + batch.slice(100, 300).reduce((n, e) => n + payload(e), 0));
    } finally {
      await sink.close();
    }
    const messages = await readStream(await nats.connection(), stream);
    expect(messages.length).toBe(500);
    expect(new Set(messages.map((m) => m.msgId)).size).toBe(500);
    expect(messages[0]!.subject).toBe(`${stream}.public.items`);
  }, 60_000);

  test('a subject no stream captures: retryable error naming it, delivered once a stream exists', async () => {
    const prefix = uniqueName('nostream');
    const sink = await makeNatsSink('nats-nostream', { servers: [nats.server.url], tableSubjectMapping: { items: `${prefix}.items` }, timeout: 2000 });
    try {
      const batch = batchOf(0, 20);
      const err = await sink.write(batch).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(StreamerError);
      expect((err as StreamerError).retryable).toBe(true);
      expect((err as StreamerError).message).toContain(`no JetStream stream captures subject "${prefix}.items"`);
      expect(sink.status()).toContain(`"${prefix}.items"`);
      const jsm = await jetstreamManager(await nats.connection());
      await createStream(jsm, prefix, [`${prefix}.>`]);
      try {
        await sink.write(batch);
        expect(sink.status()).toBeNull();
        expect(await streamSize(await nats.connection(), prefix)).toBe(20);
      } finally {
        await jsm.streams.delete(prefix);
      }
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('stream expectation: an event captured by another stream stops the sink with a clear error', async () => {
    const other = await nats.createStream('other');
    const sink = await makeNatsSink('nats-wrong', { servers: [nats.server.url], subjectFallback: `${other}.x`, stream: other + '_expected', createStream: false });
    try {
      // The expected stream does not exist: the sink says so while it waits for it.
      const deadline = Date.now() + 20_000;
      while (!/does not exist/.test(sink.status() ?? '') && Date.now() < deadline) await Bun.sleep(50);
      expect(sink.status()).toContain(`JetStream stream "${other}_expected" does not exist`);
    } finally {
      await sink.close();
    }
    const expected = await nats.createStream('expected');
    const metrics = createMetrics();
    const wrong = await makeNatsSink('nats-wrong2', { servers: [nats.server.url], subjectFallback: `${other}.x`, stream: expected }, metrics);
    try {
      const err = await wrong.write(batchOf(0, 3)).then(() => undefined, (e: unknown) => e);
      expect((err as StreamerError).retryable).toBe(false);
      expect((err as StreamerError).message).toContain(`subject "${other}.x" is captured by another stream than the configured stream "${expected}"`);
      expect(await metrics.registry.metrics()).toContain('nats_sink_publish_errors_total{sinkName="nats-wrong2",error="WRONG_STREAM"} 1');
    } finally {
      await wrong.close();
    }
  }, 60_000);

  test('createStream: a missing stream is created with the configured subjects', async () => {
    const stream = uniqueName('created');
    const sink = await makeNatsSink('nats-create', {
      servers: [nats.server.url], stream, createStream: true,
      tableSubjectMapping: { orders: `${stream}.orders` }, subjectFallback: `${stream}.all.{table}`,
    });
    const jsm = await jetstreamManager(await nats.connection());
    try {
      await sink.write([...batchOf(0, 5, 'orders'), ...batchOf(5, 9, 'lines')]);
      const info = await jsm.streams.info(stream);
      expect(info.config.subjects.sort()).toEqual([`${stream}.all.*`, `${stream}.orders`]);
      expect(info.state.messages).toBe(9);
    } finally {
      await sink.close();
      await jsm.streams.delete(stream).catch(() => {});
    }
  }, 60_000);

  test('a table whose name makes an invalid subject: permanent error naming table and subject', async () => {
    const stream = await nats.createStream('invalid');
    const sink = await makeNatsSink('nats-invalid', { servers: [nats.server.url], subjectFallback: `${stream}.{table}` });
    try {
      const err = await sink.write(batchOf(0, 2, 'bad table')).then(() => undefined, (e: unknown) => e);
      expect((err as StreamerError).retryable).toBe(false);
      expect((err as StreamerError).message).toContain('public.bad table');
      expect((err as StreamerError).message).toContain('white space');
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('cannot reach the servers: status says connecting with the reason, a write fails retryable', async () => {
    const sink = await makeNatsSink('nats-down', { servers: ['nats://127.0.0.1:1'], subjectFallback: 'x', timeout: 500 });
    try {
      const err = await sink.write(batchOf(0, 1)).then(() => undefined, (e: unknown) => e);
      expect((err as StreamerError).retryable).toBe(true);
      expect(sink.status()).toMatch(/^connecting: cannot reach NATS nats:\/\/127\.0\.0\.1:1/);
    } finally {
      await sink.close();
    }
  }, 30_000);
});
