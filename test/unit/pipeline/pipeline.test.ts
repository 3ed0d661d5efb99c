/** The pipeline (docs/delivery.md): batching, ordering and acknowledgement, failing sinks and acks. */
import { describe, expect, test } from 'bun:test';
import { StreamerError, permanentError } from '../../../src/core/errors.ts';
import { ManualTimers, settle, until } from '../../helpers/async.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { fakeSink, fakeSource, gatedPipeline, item, makePipeline, range } from '../../helpers/pipeline-fakes.ts';

const logLines = captureLogs();

describe('batching', () => {
  test('seals a batch when batchSize events arrived, without waiting for the timer', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = fakeSink('s');
    const p = makePipeline(source, [sink], { timers });
    for (const i of range(0, 7)) p.push(item(i));
    await until(() => source.acks.length === 2, 'two acks');
    expect(sink.batches.map((b) => b.length)).toEqual([3, 3]);
    expect(source.acks).toEqual([[0, 1, 2], [3, 4, 5]]);
    await settle();
    expect(sink.batches.length).toBe(2);
    timers.advance(60_000);
    await until(() => source.acks.length === 3, 'third ack');
    expect(sink.ids()).toEqual(range(0, 7));
    expect(source.acks[2]).toEqual([6]);
  });

  test('batches sealed while one is in flight are delivered together, up to mergeLimit events', async () => {
    const timers = new ManualTimers();
    const { source, sink, p } = gatedPipeline({ timers, batchSize: 2, batchFlushIntervalMs: 10, mergeLimit: 5 });
    p.push(item(0));
    timers.advance(10);
    await until(() => sink.waiting === 1, 'first batch in flight');
    // Four timer-sealed batches of two events queue up behind it.
    for (let i = 1; i <= 8; i += 2) {
      p.push(item(i));
      p.push(item(i + 1));
      timers.advance(10);
      await settle();
    }
    sink.gated = false;
    sink.releaseOne();
    await until(() => source.flat().length === 9, 'everything acknowledged');
    expect(sink.batches.map((b) => b.length)).toEqual([1, 4, 4]);
    expect(sink.ids()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(source.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('by default waiting batches merge beyond batchSize (up to 4,096 events), and never beyond 8 MiB', async () => {
    for (const [bytes, expected] of [[undefined, [1, 8]], [3 * 1024 * 1024, [1, 2, 2, 2, 2]]] as const) {
      const timers = new ManualTimers();
      const { source, sink, p } = gatedPipeline({ timers, batchSize: 2, batchFlushIntervalMs: 10, maxBufferedBytes: 1024 ** 3, mergeLimit: undefined });
      p.push(item(0));
      timers.advance(10);
      await until(() => sink.waiting === 1, 'first batch in flight');
      for (let i = 1; i <= 8; i++) p.push({ ...item(i), bytes });
      await settle();
      sink.gated = false;
      sink.releaseOne();
      await until(() => source.flat().length === 9, 'everything acknowledged');
      expect(sink.batches.map((b) => b.length)).toEqual([...expected]);
      expect(sink.ids()).toEqual(range(0, 9));
      p.close();
    }
  });

  test("a sink's mergeEvents raises the merge limit, and its bytes with it (an exactly-once Kafka sink asks for more)", async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = Object.assign(fakeSink('s'), { mergeEvents: 4096 * 4 });
    sink.gated = true;
    const p = makePipeline(source, [sink], { timers, batchSize: 2, batchFlushIntervalMs: 10, maxBufferedBytes: 1024 ** 3, maxBufferedEvents: 100_000, mergeLimit: undefined });
    p.push(item(0));
    timers.advance(10);
    await until(() => sink.waiting === 1, 'first batch in flight');
    // 3 MiB each: 8 MiB would merge two at most, the sink's 32 MiB takes ten.
    for (let i = 1; i <= 12; i++) p.push({ ...item(i), bytes: 3 * 1024 * 1024 });
    await settle();
    sink.gated = false;
    sink.releaseOne();
    await until(() => source.flat().length === 13, 'everything acknowledged');
    expect(sink.batches.map((b) => b.length)).toEqual([1, 10, 2]);
    p.close();
  });

  test('flushes a partial batch batchFlushInterval after its first event arrived', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = fakeSink('s');
    const p = makePipeline(source, [sink], { timers, batchSize: 100, batchFlushIntervalMs: 1000 });
    p.push(item(0));
    p.push(item(1));
    timers.advance(999);
    await settle();
    expect(sink.batches.length).toBe(0);
    timers.advance(1);
    await until(() => source.acks.length === 1, 'first flush');
    expect(sink.ids()).toEqual([0, 1]);

    // The next batch's timer starts with its own first event, not on a fixed tick.
    timers.advance(700);
    p.push(item(2));
    timers.advance(500);
    p.push(item(3));
    timers.advance(499);
    await settle();
    expect(sink.batches.length).toBe(1);
    timers.advance(1);
    await until(() => source.acks.length === 2, 'second flush');
    expect(sink.batches[1]!.map((e) => e.uuid)).toEqual([makeTestEvent(2).uuid, makeTestEvent(3).uuid]);
  });

  test('an empty pipeline sets no timer and writes nothing', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = fakeSink('s');
    makePipeline(source, [sink], { timers });
    timers.advance(120_000);
    await settle();
    expect(timers.size).toBe(0);
    expect(sink.calls).toBe(0);
  });
});

describe('ordering and acknowledgement', () => {
  test('acks every position once, in push order, never concurrently, with slow and fast sinks', async () => {
    const source = fakeSource();
    const slow = fakeSink('slow');
    slow.delayMs = 3;
    const fast = fakeSink('fast');
    const p = makePipeline(source, [slow, fast], { batchSize: 5, batchFlushIntervalMs: 2 });
    for (const i of range(0, 200)) {
      p.push(item(i));
      if (i % 17 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await p.drain();
    expect(source.flat()).toEqual(range(0, 200));
    expect(source.concurrent).toBe(false);
    expect(slow.ids()).toEqual(range(0, 200));
    expect(fast.ids()).toEqual(range(0, 200));
    expect(p.status()).toBeNull();
  });

  test('a batch is acked only after every sink finished it, and the next batch waits its turn', async () => {
    const source = fakeSource();
    const a = fakeSink('a');
    const b = fakeSink('b');
    b.gated = true;
    const p = makePipeline(source, [a, b], { batchSize: 2 });
    for (const i of range(0, 4)) p.push(item(i));
    await until(() => b.waiting === 1, 'b to receive batch 1');
    await settle();
    expect(a.ids()).toEqual([0, 1]);
    expect(source.acks).toEqual([]);
    b.releaseOne();
    await until(() => b.waiting === 1 && source.acks.length === 1, 'batch 2 in flight');
    expect(source.acks).toEqual([[0, 1]]);
    expect(a.ids()).toEqual([0, 1, 2, 3]);
    b.releaseOne();
    await until(() => source.acks.length === 2, 'second ack');
    expect(source.acks).toEqual([[0, 1], [2, 3]]);
  });

  test('a batch without positions delivers but makes no ack call', async () => {
    const source = fakeSource();
    const sink = fakeSink('s');
    const p = makePipeline(source, [sink], { batchSize: 2 });
    p.push({ event: makeTestEvent(0) });
    p.push({ event: makeTestEvent(1) });
    p.push({ position: 99 });
    await p.drain();
    expect(sink.ids()).toEqual([0, 1]);
    expect(source.calls).toBe(1);
    expect(source.acks).toEqual([[99]]);
  });
});

describe('failing sinks', () => {
  test('a failing sink never produces an ack; after it heals everything is acked and the healthy sink got each batch once', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const healthy = fakeSink('a');
    const broken = fakeSink('b');
    broken.failing = true;
    const p = makePipeline(source, [healthy, broken], { timers, batchSize: 2, sendRetryIntervalMs: 10, maxRetryIntervalMs: 40 });
    p.push(item(0));
    p.push(item(1));
    await until(() => broken.calls === 1 && timers.size === 1, 'first failure');
    expect(p.status()).toBe("Unable to send batch (2 events) to sink 'b' (retry 1): broker down");
    expect(logLines.some((l) => l.includes("WARN  Pipeline (db1): Unable to send batch (2 events) to sink 'b' (retry 1): broker down"))).toBe(true);

    // Backoff: 10, 20, 40, 40 ms.
    const expectedDelays = [10, 20, 40, 40];
    for (const [k, delay] of expectedDelays.entries()) {
      timers.advance(delay - 1);
      await settle();
      expect(broken.calls).toBe(k + 1);
      timers.advance(1);
      await until(() => broken.calls === k + 2 && timers.size === 1, `retry ${k + 1}`);
    }
    expect(p.status()).toContain('(retry 5)');

    // Later events queue up behind the failing batch; nothing is acked.
    for (const i of range(2, 6)) p.push(item(i));
    await settle();
    expect(source.calls).toBe(0);
    expect(healthy.calls).toBe(1);

    broken.failing = false;
    timers.advance(40);
    await until(() => source.acks.length === 3, 'all acks after healing');
    expect(source.acks).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(healthy.calls).toBe(3);
    expect(healthy.ids()).toEqual(range(0, 6));
    expect(broken.ids()).toEqual(range(0, 6));
    expect(p.status()).toBeNull();
    expect(p.stats()).toContain('retries: 5');
    expect(logLines.some((l) => l.includes("Batch (2 events) delivered to sink 'b' after 5 retries"))).toBe(true);
  });

  test('a permanent sink error stops the pipeline: status set, failure resolved, no ack ever, source kept paused', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const retrying = fakeSink('a');
    retrying.failing = true;
    const fatal = fakeSink('b');
    fatal.failing = true;
    fatal.failWith = () => permanentError('message too large (2 MB > 1 MB)');
    const p = makePipeline(source, [retrying, fatal], { timers, batchSize: 2 });
    p.push(item(0));
    expect(p.push(item(1))).toBe(true);

    const err = await p.failure;
    expect(err).toBeInstanceOf(StreamerError);
    expect(err.code).toBe('PIPELINE_STOPPED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("permanent error from sink 'b' on a batch of 2 events: message too large (2 MB > 1 MB)");
    expect(p.error).toBe(err);
    expect(p.status()).toBe(err.message);
    expect(logLines.filter((l) => l.includes('ERROR') && l.includes('Pipeline stopped')).length).toBe(1);

    // The other sink's retries stop, nothing is acked, pushes are refused, drain and drained do not pretend.
    const callsAtStop = retrying.calls;
    timers.advance(60_000);
    expect(p.push(item(2))).toBe(false);
    expect(p.push({ position: 3 })).toBe(false);
    let drainedResolved = false;
    void p.drained().then(() => { drainedResolved = true; });
    await expect(p.drain()).rejects.toBe(err);
    await settle();
    expect(drainedResolved).toBe(false);
    expect(retrying.calls).toBe(callsAtStop);
    expect(fatal.calls).toBe(1);
    expect(source.calls).toBe(0);
  });

  test('a failing ack is retried in order, never skipped, and the next batch waits for it', async () => {
    const source = fakeSource({ failFirst: 2 });
    const sink = fakeSink('s');
    const p = makePipeline(source, [sink], { batchSize: 2 });
    for (const i of range(0, 6)) p.push(item(i));
    await p.drain();
    expect(source.calls).toBe(5);
    expect(source.acks).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(source.concurrent).toBe(false);
    expect(sink.ids()).toEqual(range(0, 6));
    expect(logLines.some((l) => l.includes('Unable to acknowledge 2 position(s) to the source (retry 2): state store busy'))).toBe(true);
    expect(p.status()).toBeNull();
  });

  test('a non-retryable ack error stops the pipeline', async () => {
    const source = fakeSource({ failFirst: 1, failWith: () => new StreamerError('STATE_STORE', 'store closed', { retryable: false }) });
    const p = makePipeline(source, [fakeSink('s')], { batchSize: 1 });
    p.push(item(0));
    const err = await p.failure;
    expect(err.message).toContain('could not make delivered positions durable: store closed');
    expect(source.acks).toEqual([]);
  });

  test('close() stops retries and rejects a pending drain', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = fakeSink('s');
    sink.failing = true;
    const p = makePipeline(source, [sink], { timers, batchSize: 1 });
    p.push(item(0));
    await until(() => timers.size === 1, 'retry scheduled');
    const draining = p.drain();
    p.close();
    await expect(draining).rejects.toThrow('closed');
    expect(timers.size).toBe(0);
    sink.failing = false;
    timers.advance(1000);
    await settle();
    expect(sink.calls).toBe(1);
    expect(source.calls).toBe(0);
    expect(p.push(item(1))).toBe(false);
  });

  test('a write that completes after close() is not acknowledged', async () => {
    const { source, sink, p } = gatedPipeline({ batchSize: 1 });
    p.push(item(0));
    await until(() => sink.waiting === 1, 'write in flight');
    p.close();
    sink.releaseOne();
    await until(() => sink.batches.length === 1, 'write completed');
    await settle();
    expect(source.calls).toBe(0);
  });
});
