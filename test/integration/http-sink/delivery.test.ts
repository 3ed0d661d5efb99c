/**
 * The HTTP sink inside the real app and pipeline (counting source → http sink, in this process)
 * against a real receiver that misbehaves as a webhook can (docs/http-sink.md): an outage, a slow
 * server, a 429 storm with Retry-After, a 4xx with and without deadLetterFile, partial acceptance
 * (207, 413). Each time: nothing lost, first deliveries in order, a redelivered request carries
 * the same Idempotency-Key and events, and the persisted position never passes what was accepted.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startReceiver, type Receiver, type ReceivedRequest } from '../../helpers/http-receiver.ts';
import { firstOccurrences, metricValue, numbersOf, startCountingToHttp, type CountingApp } from '../../helpers/http-sink.ts';
import { useTempDirs, waitFor } from '../../helpers/streamer.ts';

const newDir = useTempDirs('psql-streamer-http-sink-');
const running: Array<{ app?: CountingApp; receiver: Receiver }> = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.app?.app.stop();
    await r.receiver.stop();
  }
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Every request answered for one Idempotency-Key carried the same events. */
function sameEventsPerKey(requests: readonly ReceivedRequest[]): void {
  const byKey = new Map<string, string>();
  for (const r of requests) {
    const key = r.headers['idempotency-key'];
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    const uuids = r.events.map((e) => e.UUID).join(',');
    expect(r.headers['x-psql-streamer-events']).toBe(String(r.events.length));
    expect(r.headers['x-psql-streamer-first-uuid']).toBe(r.events[0]!.UUID as string);
    expect(r.headers['x-psql-streamer-last-uuid']).toBe(r.events[r.events.length - 1]!.UUID as string);
    const before = byKey.get(key!);
    if (before !== undefined) expect(uuids).toBe(before);
    byKey.set(key!, uuids);
  }
}

async function run(c: { count: number; batchSize?: number; sinkLines?: string; respond?: NonNullable<Parameters<typeof startReceiver>[0]>['respond'] }) {
  const receiver = startReceiver({ respond: c.respond });
  const entry: { app?: CountingApp; receiver: Receiver } = { receiver };
  running.push(entry);
  entry.app = await startCountingToHttp(newDir(), { url: `${receiver.url}/hook`, count: c.count, batchSize: c.batchSize, sinkLines: c.sinkLines });
  return { receiver, app: entry.app };
}

async function allAccepted(receiver: Receiver, app: CountingApp, count: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(`all ${count} events accepted and persisted`, () => new Set(numbersOf(receiver.accepted())).size >= count && app.persisted() === BigInt(count),
    timeoutMs, () => `accepted ${new Set(numbersOf(receiver.accepted())).size}, persisted ${app.persisted()}, pipeline: ${app.pipelineStatus()}`);
}

describe('http sink in the pipeline', () => {
  test('outage: the receiver stops mid-stream and comes back on the same port; nothing lost, order kept', async () => {
    const count = 3000;
    const { receiver, app } = await run({ count, respond: () => ({ delayMs: 2 }) });
    await waitFor('some events accepted', () => receiver.accepted().length > 300);
    await receiver.stop();
    const acceptedAtStop = receiver.accepted().length;
    await Bun.sleep(800);
    expect(app.pipelineStatus() ?? '').toContain('hook');
    receiver.start();
    await allAccepted(receiver, app, count);
    const numbers = numbersOf(receiver.accepted());
    expect(acceptedAtStop).toBeLessThan(count);
    expect(firstOccurrences(numbers)).toEqual(range(count));
    sameEventsPerKey(receiver.requests);
    const metrics = await app.metrics();
    expect(metricValue(metrics, 'http_sink_requests_total', { sinkName: 'hook', status: 'network' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'http_sink_requests_total', { sinkName: 'hook', status: '200' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'sink_events', { sinkName: 'hook', sinkType: 'Sink-HTTP', table: 'numbers' })).toBe(count);
    expect(metricValue(metrics, 'pipeline_retries_total', { sink: 'hook' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'http_sink_bytes_total', { sinkName: 'hook' })).toBeGreaterThan(0);
    await waitFor('healthy again', () => app.pipelineStatus() === null);
  }, 60_000);

  test('slow server: a request past `timeout` is retried; the late copy and the retry carry the same key and events', async () => {
    const count = 500;
    let slow = 2;
    const { receiver, app } = await run({
      count,
      sinkLines: 'timeout = "300ms"',
      respond: (r) => (r.n > 0 && slow-- > 0 ? { delayMs: 1200 } : undefined),
    });
    await allAccepted(receiver, app, count);
    expect(firstOccurrences(numbersOf(receiver.accepted()))).toEqual(range(count));
    sameEventsPerKey(receiver.requests);
    // The slow request reached the receiver, then again with the same key.
    const keys = receiver.requests.map((r) => r.headers['idempotency-key']);
    expect(keys.length - new Set(keys).size).toBeGreaterThanOrEqual(1);
    expect(metricValue(await app.metrics(), 'http_sink_requests_total', { sinkName: 'hook', status: 'timeout' })).toBeGreaterThanOrEqual(1);
  }, 60_000);

  test('429 storm with Retry-After: the sink waits what the receiver asks, longer than its own backoff', async () => {
    const count = 300;
    const storm = 4;
    const { receiver, app } = await run({
      count,
      respond: (r) => (r.n >= 1 && r.n <= storm ? { status: 429, headers: { 'Retry-After': '1' }, body: '{"error":"slow down"}' } : undefined),
    });
    await allAccepted(receiver, app, count);
    expect(firstOccurrences(numbersOf(receiver.accepted()))).toEqual(range(count));
    sameEventsPerKey(receiver.requests);
    // Arrival times are not recorded by the receiver; the retries' spacing shows in the pipeline's delivery time instead.
    const metrics = await app.metrics();
    expect(metricValue(metrics, 'http_sink_requests_total', { sinkName: 'hook', status: '429' })).toBe(storm);
    expect(metricValue(metrics, 'pipeline_retries_total', { sink: 'hook' })).toBe(storm);
  }, 60_000);

  test('Retry-After spacing: consecutive 429 attempts are at least the asked second apart (backoff alone is 20 ms)', async () => {
    const times: number[] = [];
    const { receiver, app } = await run({
      count: 10,
      respond: () => {
        times.push(performance.now());
        return times.length <= 3 ? { status: 503, headers: { 'Retry-After': '1' } } : undefined;
      },
    });
    await allAccepted(receiver, app, 10);
    const gaps = times.slice(1, 4).map((t, i) => t - times[i]!);
    expect(gaps.every((g) => g >= 950)).toBe(true);
  }, 60_000);

  test('a permanent 4xx without deadLetterFile stops the pipeline, naming the status and the answer; nothing acknowledged past it', async () => {
    const { receiver, app } = await run({
      count: 200,
      respond: (r) => (numbersOf(r.events).includes(150) ? { status: 422, body: '{"error":"column n out of range"}' } : undefined),
    });
    await waitFor('the pipeline stops', () => (app.pipelineStatus() ?? '').includes('422'), 20_000, () => String(app.pipelineStatus()));
    const status = app.pipelineStatus()!;
    expect(status).toContain('answered 422');
    expect(status).toContain('column n out of range');
    expect(status).toContain('deadLetterFile');
    expect(app.persisted()).toBeLessThan(150n);
    expect(Math.max(...numbersOf(receiver.accepted()))).toBeLessThan(150);
    expect(metricValue(await app.metrics(), 'pipeline_stopped', { source: 'numbers' })).toBe(1);
    expect(metricValue(await app.metrics(), 'sink_errors', { sinkName: 'hook' })).toBeGreaterThan(0);
  }, 60_000);

  test('a permanent 4xx with deadLetterFile: the refused events go to the file with the status; the rest is delivered, the position passes them', async () => {
    const dir = newDir();
    const deadLetters = join(dir, 'dead.jsonl');
    const count = 400;
    const { receiver, app } = await run({
      count,
      sinkLines: `deadLetterFile = "${deadLetters}"\nmaxRequestEvents = 25`,
      respond: (r) => (numbersOf(r.events).includes(150) ? { status: 400, body: 'bad event' } : undefined),
    });
    await waitFor('the position at the end', () => app.persisted() === BigInt(count), 30_000, () => `persisted ${app.persisted()}: ${app.pipelineStatus()}`);
    expect(existsSync(deadLetters)).toBe(true);
    const dead = readFileSync(deadLetters, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { deadLetter: Record<string, unknown>; event: { Columns: { n: number } } });
    const deadNumbers = dead.map((d) => d.event.Columns.n);
    expect(deadNumbers).toContain(150);
    expect(deadNumbers.length).toBeLessThanOrEqual(25);
    expect(dead[0]!.deadLetter).toMatchObject({ sink: 'hook', status: 400, answer: 'bad event' });
    expect(String(dead[0]!.deadLetter.url)).toEndWith('/hook');
    const delivered = new Set(numbersOf(receiver.accepted()));
    expect(range(count).filter((n) => !delivered.has(n))).toEqual(deadNumbers);
    expect(metricValue(await app.metrics(), 'http_sink_dead_lettered_total', { sinkName: 'hook', status: '400' })).toBe(deadNumbers.length);
    expect(app.pipelineStatus()).toBeNull();
  }, 60_000);

  test('partial acceptance: 207 resends the whole request under the same key; 413 splits it until it fits', async () => {
    const count = 600;
    let multi = 3;
    const { receiver, app } = await run({
      count,
      batchSize: 200,
      respond: (r) => {
        if (r.events.length > 30) return { status: 413, body: 'too large' };
        if (r.n > 5 && multi-- > 0) return { status: 207, body: '{"failed":[1]}' };
        return undefined;
      },
    });
    await allAccepted(receiver, app, count);
    expect(firstOccurrences(numbersOf(receiver.accepted()))).toEqual(range(count));
    sameEventsPerKey(receiver.requests);
    expect(receiver.requests.filter((r) => r.status === 413).length).toBeGreaterThan(0);
    // Every accepted request fits; the 207 ones were sent again with the same key.
    expect(receiver.requests.filter((r) => r.status === 200).every((r) => r.events.length <= 30)).toBe(true);
    for (const refused of receiver.requests.filter((r) => r.status === 207)) {
      expect(receiver.requests.some((r) => r.status === 200 && r.headers['idempotency-key'] === refused.headers['idempotency-key'])).toBe(true);
    }
  }, 60_000);

  test('headers: ${ENV} values reach the receiver; Content-Type per format', async () => {
    const receiver = startReceiver();
    const entry: { app?: CountingApp; receiver: Receiver } = { receiver };
    running.push(entry);
    entry.app = await startCountingToHttp(newDir(), {
      url: `${receiver.url}/hook`, count: 20,
      sinkLines: 'format = "json_array"\nheaders = { Authorization = "Bearer ${HOOK_TOKEN}", "X-Tenant" = "acme" }',
      env: { HOOK_TOKEN: 's3cret' },
    });
    await allAccepted(receiver, entry.app, 20);
    const first = receiver.requests[0]!;
    expect(first.headers.authorization).toBe('Bearer s3cret');
    expect(first.headers['x-tenant']).toBe('acme');
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.body.startsWith('[')).toBe(true);
  }, 60_000);
});
