/**
 * The HTTP sink on its own against a real receiver: the errors it gives the pipeline (retryable
 * or not, with Retry-After), a retried batch resuming after its delivered requests, and TLS with a
 * test CA (server verification, client certificates, tlsInsecureSkipVerify).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRetryable, StreamerError } from '../../../src/core/errors.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import type { Sink } from '../../../src/sinks/sink.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { makeCertificates } from '../../helpers/certs.ts';
import { startReceiver, type Receiver } from '../../helpers/http-receiver.ts';
import { makeHttpSink } from '../../helpers/http-sink.ts';
import { useTempDirs } from '../../helpers/streamer.ts';

const newDir = useTempDirs('psql-streamer-http-tls-');
const open: Array<{ sink?: Sink; receiver: Receiver }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.sink?.close();
    await o.receiver.stop();
  }
});

const certs = newDir();
makeCertificates(certs);
const pem = (name: string) => readFileSync(join(certs, name), 'utf8');

const batch = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => makeTestEvent(from + k));

async function failure(p: Promise<unknown>): Promise<StreamerError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StreamerError);
    return err as StreamerError;
  }
  throw new Error('expected the write to fail');
}

describe('http sink errors and retries', () => {
  test('a retried batch sends only the requests not yet answered 2xx, with the same keys', async () => {
    let failSecond = true;
    const receiver = startReceiver({ respond: (r) => (r.n === 1 && failSecond ? ((failSecond = false), { status: 503 }) : undefined) });
    const sink = await makeHttpSink('hook', { url: receiver.url, maxRequestEvents: 10 });
    open.push({ sink, receiver });
    const events = batch(0, 30);
    const err = await failure(sink.write(events));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('answered 503');
    expect(sink.status()).toContain('answered 503');
    await sink.write(events);
    expect(sink.status()).toBeNull();
    expect(receiver.requests.map((r) => r.status)).toEqual([200, 503, 200, 200]);
    expect(receiver.accepted().map((e) => e.UUID)).toEqual(events.map((e) => e.uuid));
    expect(receiver.requests[1]!.headers['idempotency-key']).toBe(receiver.requests[2]!.headers['idempotency-key']);
    expect(sink.stats()).toStartWith('events: 30, requests: 3,');
  });

  test('Retry-After is handed to the pipeline (capped by maxRetryAfter); a refused request is permanent', async () => {
    let answer: { status: number; headers?: Record<string, string> } = { status: 429, headers: { 'Retry-After': '120' } };
    const receiver = startReceiver({ respond: () => answer });
    const sink = await makeHttpSink('hook', { url: receiver.url, maxRetryAfter: 5000 });
    open.push({ sink, receiver });
    const throttled = await failure(sink.write(batch(0, 3)));
    expect(isRetryable(throttled)).toBe(true);
    expect(throttled.retryAfterMs).toBe(5000);
    answer = { status: 404 };
    const refused = await failure(sink.write(batch(0, 3)));
    expect(isRetryable(refused)).toBe(false);
    expect(refused.message).toContain('answered 404: refused with 404');
    expect(refused.message).toContain('UUID ' + makeTestEvent(0).uuid);
  });

  test('network errors and timeouts are retryable and say what happened', async () => {
    const receiver = startReceiver({ respond: () => ({ delayMs: 1000 }) });
    const slow = await makeHttpSink('hook', { url: receiver.url, timeout: 100 });
    open.push({ sink: slow, receiver });
    const timedOut = await failure(slow.write(batch(0, 1)));
    expect(isRetryable(timedOut)).toBe(true);
    expect(timedOut.message).toContain('no answer within 100 ms');
    const port = receiver.port;
    await receiver.stop();
    const down = await makeHttpSink('down', { url: `http://127.0.0.1:${port}/x?token=secret` });
    const refused = await failure(down.write(batch(0, 1)));
    await down.close();
    expect(isRetryable(refused)).toBe(true);
    expect(refused.message).toContain(`POST http://127.0.0.1:${port}/x?… (1 events) failed`);
    expect(refused.message).not.toContain('secret');
  });

  test('metrics: requests by status, request time, bytes; encode time per table', async () => {
    const receiver = startReceiver();
    const metrics = createMetrics();
    const sink = await makeHttpSink('hook', { url: receiver.url }, metrics);
    open.push({ sink, receiver });
    await sink.write(batch(0, 64));
    const text = (await metrics.scrape()).body;
    expect(text).toContain('http_sink_requests_total{sinkName="hook",status="200"} 1');
    expect(text).toContain('http_sink_request_seconds_count{sinkName="hook"} 1');
    expect(text).toMatch(new RegExp(`http_sink_bytes_total\\{sinkName="hook"\\} ${receiver.requests[0]!.body.length}\\b`));
    expect(text).toMatch(/sink_event_processing_time_sec_count\{sinkName="hook",sinkType="Sink-HTTP",table="items"\} [1-9]/);
  });
});

describe('http sink over TLS (a test CA, a server certificate for 127.0.0.1)', () => {
  const tls = () => ({ cert: pem('server.pem'), key: pem('server.key') });

  test('tlsCaFile verifies the server; without it the unknown CA is refused (retryable), tlsInsecureSkipVerify accepts it', async () => {
    const receiver = startReceiver({ tls: tls() });
    open.push({ receiver });
    const verified = await makeHttpSink('verified', { url: receiver.url, tlsCaFile: join(certs, 'ca.pem') });
    await verified.write(batch(0, 5));
    await verified.close();
    expect(receiver.accepted().length).toBe(5);

    const unknown = await makeHttpSink('unknown', { url: receiver.url });
    const err = await failure(unknown.write(batch(5, 6)));
    await unknown.close();
    expect(isRetryable(err)).toBe(true);
    expect(err.message.toLowerCase()).toMatch(/certificate|self.signed|issuer/);

    const insecure = await makeHttpSink('insecure', { url: receiver.url, tlsInsecureSkipVerify: true });
    await insecure.write(batch(5, 6));
    await insecure.close();
    expect(receiver.accepted().length).toBe(6);
  });

  test('a client certificate (tlsCertFile/tlsKeyFile) for a receiver that requires one', async () => {
    const receiver = startReceiver({ tls: { ...tls(), ca: pem('ca.pem'), requestCert: true, rejectUnauthorized: true } });
    open.push({ receiver });
    const withCert = await makeHttpSink('mtls', {
      url: receiver.url, tlsCaFile: join(certs, 'ca.pem'), tlsCertFile: join(certs, 'client.pem'), tlsKeyFile: join(certs, 'client.key'),
    });
    await withCert.write(batch(0, 3));
    await withCert.close();
    expect(receiver.accepted().length).toBe(3);

    const without = await makeHttpSink('nocert', { url: receiver.url, tlsCaFile: join(certs, 'ca.pem') });
    const err = await failure(without.write(batch(3, 4)));
    await without.close();
    expect(isRetryable(err)).toBe(true);
    expect(receiver.accepted().length).toBe(3);
  });

  test('an unreadable tlsCaFile fails the start with the key and path', async () => {
    await expect(makeHttpSink('bad', { url: 'https://127.0.0.1:1/', tlsCaFile: join(certs, 'missing.pem') })).rejects.toThrow(`cannot read tlsCaFile "${join(certs, 'missing.pem')}"`);
  });
});
