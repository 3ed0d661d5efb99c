import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { StreamerError, permanentError } from '../../../src/core/errors.ts';
import { Logger } from '../../../src/core/logger.ts';
import { Pipeline, type PipelineOptions, type PipelineSink } from '../../../src/pipeline/pipeline.ts';
import type { PipelineItem } from '../../../src/sources/source.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { ManualTimers, deferred, settle, until } from '../../helpers/async.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';

const logLines = captureLogs();

/** A source that records what it is acknowledged and fails the test on concurrent acks. */
function fakeSource<P = number>(options: { failFirst?: number; failWith?: () => unknown } = {}) {
  const acks: P[][] = [];
  let calls = 0;
  let active = false;
  let concurrent = false;
  return {
    acks,
    get calls() { return calls; },
    get concurrent() { return concurrent; },
    flat: () => acks.flat(),
    async ack(positions: readonly P[]): Promise<void> {
      if (active) concurrent = true;
      active = true;
      calls++;
      try {
        await Promise.resolve();
        if (calls <= (options.failFirst ?? 0)) throw options.failWith?.() ?? new Error('state store busy');
        acks.push([...positions]);
      } finally {
        active = false;
      }
    },
  };
}

/** A sink that records each successful batch; `failing` makes it reject, `gate` makes it wait for the test. */
function fakeSink(name: string) {
  const batches: ChangeEvent[][] = [];
  const gates: Array<ReturnType<typeof deferred>> = [];
  const sink = {
    name,
    batches,
    calls: 0,
    failing: false as boolean,
    failWith: (): unknown => new Error('broker down'),
    gated: false,
    delayMs: 0,
    /** Lets the oldest gated write complete. */
    releaseOne(): void { gates.shift()?.resolve(undefined); },
    get waiting(): number { return gates.length; },
    ids: () => batches.flat().map((e) => Number(e.lsn - 0x1000000n)),
    async write(batch: readonly ChangeEvent[]): Promise<void> {
      sink.calls++;
      if (sink.gated) {
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
      }
      if (sink.delayMs > 0) await new Promise((r) => setTimeout(r, Math.random() * sink.delayMs));
      if (sink.failing) throw sink.failWith();
      batches.push([...batch]);
    },
  };
  return sink;
}

function item(i: number, source = 'db1'): PipelineItem<number> {
  return { event: makeTestEvent(i, source), position: i };
}

function makePipeline(
  source: ReturnType<typeof fakeSource>,
  sinks: PipelineSink[],
  overrides: Partial<PipelineOptions<number>> = {},
): Pipeline<number> {
  return new Pipeline<number>({
    name: 'db1',
    source,
    sinks,
    batchSize: 3,
    batchFlushIntervalMs: 60_000,
    sendRetryIntervalMs: 1,
    maxRetryIntervalMs: 4,
    maxBufferedEvents: 10_000,
    maxBufferedBytes: 1_000_000_000,
    log: Logger.for('Pipeline', overrides.name ?? 'db1'),
    // Batches as pushed, so the tests can name them; merging has tests of its own.
    mergeLimit: overrides.batchSize ?? 3,
    ...overrides,
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

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
    const source = fakeSource();
    const sink = fakeSink('s');
    sink.gated = true;
    const p = makePipeline(source, [sink], { timers, batchSize: 2, batchFlushIntervalMs: 10, mergeLimit: 5 });
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
      const source = fakeSource();
      const sink = fakeSink('s');
      sink.gated = true;
      const p = makePipeline(source, [sink], { timers, batchSize: 2, batchFlushIntervalMs: 10, maxBufferedBytes: 1024 ** 3, mergeLimit: undefined });
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
    const source = fakeSource();
    const sink = fakeSink('s');
    sink.gated = true;
    const p = makePipeline(source, [sink], { batchSize: 1 });
    p.push(item(0));
    await until(() => sink.waiting === 1, 'write in flight');
    p.close();
    sink.releaseOne();
    await until(() => sink.batches.length === 1, 'write completed');
    await settle();
    expect(source.calls).toBe(0);
  });
});

describe('back-pressure', () => {
  test('an obedient source never has more than maxBufferedEvents buffered, even with a stalled sink', async () => {
    const source = fakeSource();
    let acked = 0;
    const ack = source.ack;
    source.ack = async (positions) => {
      await ack(positions);
      acked = positions[positions.length - 1]! + 1;
    };
    const sink = fakeSink('s');
    sink.gated = true;
    const p = makePipeline(source, [sink], { batchSize: 50, batchFlushIntervalMs: 1, maxBufferedEvents: 500 });
    let pushed = 0;
    let maxBuffered = 0;
    let refusals = 0;
    const producer = (async () => {
      for (let i = 0; i < 100_000; i++) {
        const ok = p.push(item(i));
        pushed++;
        maxBuffered = Math.max(maxBuffered, pushed - acked);
        if (!ok) {
          refusals++;
          await p.drained();
        }
      }
    })();
    await until(() => refusals === 1, 'the pipeline to fill up');
    await settle(20);
    expect(pushed).toBe(500);
    expect(sink.waiting).toBe(1);

    sink.gated = false;
    sink.releaseOne();
    await producer;
    await p.drain();
    expect(acked).toBe(100_000);
    expect(maxBuffered).toBeLessThanOrEqual(500);
    expect(source.flat()).toEqual(range(0, 100_000));
    expect(p.stats()).toContain('buffered: 0 (0 bytes)');
  });

  test('the byte bound holds too (exceeded by at most the last item)', async () => {
    const source = fakeSource();
    let ackedBytes = 0;
    source.ack = async (positions) => { ackedBytes += positions.length * 1000; };
    const sink = fakeSink('s');
    sink.gated = true;
    const p = makePipeline(source, [sink], { batchSize: 7, batchFlushIntervalMs: 1, maxBufferedBytes: 20_000 });
    let pushedBytes = 0;
    let maxBuffered = 0;
    let refusals = 0;
    const producer = (async () => {
      for (let i = 0; i < 5_000; i++) {
        const ok = p.push({ event: makeTestEvent(i), position: i, bytes: 1000 });
        pushedBytes += 1000;
        maxBuffered = Math.max(maxBuffered, pushedBytes - ackedBytes);
        if (!ok) {
          refusals++;
          await p.drained();
        }
      }
    })();
    await until(() => refusals === 1, 'the pipeline to fill up');
    await settle(20);
    expect(pushedBytes).toBe(20_000);
    sink.gated = false;
    sink.releaseOne();
    await producer;
    await p.drain();
    expect(ackedBytes).toBe(5_000_000);
    expect(maxBuffered).toBeLessThanOrEqual(20_000);
  });

  test('drained() resolves only once the buffer is down to half (no flapping)', async () => {
    const source = fakeSource();
    const sink = fakeSink('s');
    sink.gated = true;
    const p = makePipeline(source, [sink], { batchSize: 2, maxBufferedEvents: 10 });
    const results = range(0, 10).map((i) => p.push(item(i)));
    expect(results).toEqual([true, true, true, true, true, true, true, true, true, false]);
    let resumed = false;
    void p.drained().then(() => { resumed = true; });
    // 10 buffered → 8 → 6: still paused; push keeps saying no.
    for (const expectedAcks of [1, 2]) {
      await until(() => sink.waiting === 1, 'a write in flight');
      sink.releaseOne();
      await until(() => source.acks.length === expectedAcks, `ack ${expectedAcks}`);
      await settle();
      expect(resumed).toBe(false);
    }
    expect(p.push({ position: 100 })).toBe(false);
    await until(() => sink.waiting === 1, 'a write in flight');
    sink.releaseOne();
    await until(() => resumed, 'resume at 4 buffered');
    expect(p.push(item(10))).toBe(true);
    sink.gated = false;
    while (sink.waiting > 0) sink.releaseOne();
    await p.drain();
    expect(source.flat()).toEqual([...range(0, 10), 100, 10]);
  });

  test('a flood of bare positions is bounded by the byte bound', () => {
    const source = fakeSource();
    const sink = fakeSink('s');
    sink.gated = true;
    const p = makePipeline(source, [sink], { batchSize: 1, maxBufferedBytes: 64 * 100 });
    p.push(item(0)); // stalls the loop with a batch in flight
    let accepted = 0;
    while (p.push({ position: accepted + 1 })) accepted++;
    expect(accepted).toBeLessThan(100);
  });
});

describe('bare positions', () => {
  test('are acked promptly when nothing is buffered, without waiting for the flush timer', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = fakeSink('s');
    const p = makePipeline(source, [sink], { timers, batchSize: 100 });
    expect(p.push({ position: 7 })).toBe(true);
    await until(() => source.acks.length === 1, 'ack of an idle position');
    p.push({ position: 8 });
    p.push({ position: 9 });
    await until(() => source.flat().length === 3, 'acks of later positions');
    expect(source.flat()).toEqual([7, 8, 9]);
    expect(sink.calls).toBe(0);
  });

  test('never overtake events waiting in the open batch', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = fakeSink('s');
    const p = makePipeline(source, [sink], { timers, batchSize: 100, batchFlushIntervalMs: 1000 });
    p.push({ event: makeTestEvent(0) });
    p.push({ position: 1 });
    await settle();
    expect(source.calls).toBe(0);
    timers.advance(1000);
    await until(() => source.acks.length === 1, 'ack after flush');
    expect(sink.ids()).toEqual([0]);
    expect(source.acks).toEqual([[1]]);
  });

  test('never overtake a batch in flight', async () => {
    const source = fakeSource();
    const sink = fakeSink('s');
    sink.gated = true;
    const p = makePipeline(source, [sink], { batchSize: 1 });
    p.push(item(1));
    await until(() => sink.waiting === 1, 'batch in flight');
    p.push({ position: 2 });
    p.push({ position: 3 });
    await settle();
    expect(source.calls).toBe(0);
    sink.releaseOne();
    await until(() => source.flat().length === 3, 'all acks');
    expect(source.acks).toEqual([[1], [2, 3]]);
  });

  test('with a large batchSize, a later event does not hold back earlier bare positions', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = fakeSink('s');
    sink.gated = true;
    const p = makePipeline(source, [sink], { timers, batchSize: 2 });
    p.push(item(0));
    p.push(item(1));
    await until(() => sink.waiting === 1, 'batch in flight');
    p.push({ position: 2 });
    p.push({ event: makeTestEvent(3) });
    sink.releaseOne();
    await until(() => source.flat().length === 3, 'acks up to 2');
    expect(source.acks).toEqual([[0, 1], [2]]);
    expect(sink.waiting).toBe(0); // event 3 waits for its own flush timer
    timers.advance(60_000);
    await until(() => sink.waiting === 1, 'event 3 flushed');
    sink.releaseOne();
  });
});

describe('shutdown drain', () => {
  test('delivers the partial batch at once and acks everything before resolving', async () => {
    const timers = new ManualTimers();
    const source = fakeSource();
    const sink = fakeSink('s');
    const p = makePipeline(source, [sink], { timers, batchSize: 4 });
    for (const i of range(0, 10)) p.push(item(i));
    await p.drain();
    expect(sink.ids()).toEqual(range(0, 10));
    expect(source.flat()).toEqual(range(0, 10));
    expect(p.stats()).toBe('events: 10, delivered: 10, batches: 3, retries: 0, acks: 3, buffered: 0 (0 bytes)');
    await p.drain(); // idle: resolves at once
    p.close();
  });

  test('waits for a failing sink to heal', async () => {
    const source = fakeSource();
    const sink = fakeSink('s');
    sink.failing = true;
    const p = makePipeline(source, [sink], { batchSize: 100 });
    p.push(item(0));
    let done = false;
    const draining = p.drain().then(() => { done = true; });
    await until(() => sink.calls >= 3, 'a few retries');
    expect(done).toBe(false);
    sink.failing = false;
    await draining;
    expect(source.acks).toEqual([[0]]);
  });
});

describe('one sink, several pipelines', () => {
  test('serves two sources concurrently; each source sees its events in order and its own acks in order', async () => {
    const shared = fakeSink('shared');
    shared.delayMs = 2;
    const s1 = fakeSource();
    const s2 = fakeSource();
    const p1 = makePipeline(s1, [shared], { name: 'db1', batchSize: 4, batchFlushIntervalMs: 1 });
    const p2 = makePipeline(s2, [shared], { name: 'db2', batchSize: 3, batchFlushIntervalMs: 1 });
    for (const i of range(0, 100)) {
      p1.push(item(i, 'db1'));
      p2.push(item(i, 'db2'));
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all([p1.drain(), p2.drain()]);
    const seen = shared.batches.flat();
    const idsOf = (source: string) => seen.filter((e) => e.source === source).map((e) => Number(e.lsn - 0x1000000n));
    expect(idsOf('db1')).toEqual(range(0, 100));
    expect(idsOf('db2')).toEqual(range(0, 100));
    expect(s1.flat()).toEqual(range(0, 100));
    expect(s2.flat()).toEqual(range(0, 100));
  });
});

describe('component', () => {
  test('type, name, setDebug and the debug line per batch', async () => {
    const source = fakeSource();
    const p = makePipeline(source, [fakeSink('s')], { batchSize: 1 });
    expect(p.type).toBe('Pipeline');
    expect(p.name).toBe('db1');
    p.setDebug(true);
    p.push(item(0));
    await p.drain();
    p.setDebug(false);
    expect(logLines.some((l) => l.includes('DEBUG Pipeline (db1): Batch of 1 events delivered to 1 sink(s)'))).toBe(true);
  });
});
