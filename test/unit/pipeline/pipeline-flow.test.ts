/** The pipeline (docs/delivery.md): back-pressure, bare positions, the shutdown drain, shared sinks. */
import { describe, expect, test } from 'bun:test';
import { ManualTimers, settle, until } from '../../helpers/async.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { fakeSink, fakeSource, gatedPipeline, item, makePipeline, obedientProducer, range } from '../../helpers/pipeline-fakes.ts';

const logLines = captureLogs();

describe('back-pressure', () => {
  test('an obedient source never has more than maxBufferedEvents buffered, even with a stalled sink', async () => {
    const { source, sink, p } = gatedPipeline({ batchSize: 50, batchFlushIntervalMs: 1, maxBufferedEvents: 500 });
    let acked = 0;
    const ack = source.ack;
    source.ack = async (positions) => {
      await ack(positions);
      acked = positions[positions.length - 1]! + 1;
    };
    let pushed = 0;
    let maxBuffered = 0;
    const producer = obedientProducer(p, 100_000, item, () => {
      pushed++;
      maxBuffered = Math.max(maxBuffered, pushed - acked);
    });
    await until(() => producer.refusals === 1, 'the pipeline to fill up');
    await settle(20);
    expect(pushed).toBe(500);
    expect(sink.waiting).toBe(1);

    sink.gated = false;
    sink.releaseOne();
    await producer.done;
    await p.drain();
    expect(acked).toBe(100_000);
    expect(maxBuffered).toBeLessThanOrEqual(500);
    expect(source.flat()).toEqual(range(0, 100_000));
    expect(p.stats()).toContain('buffered: 0 (0 bytes)');
  });

  test('the byte bound holds too (exceeded by at most the last item)', async () => {
    const { source, sink, p } = gatedPipeline({ batchSize: 7, batchFlushIntervalMs: 1, maxBufferedBytes: 20_000 });
    let ackedBytes = 0;
    source.ack = async (positions) => { ackedBytes += positions.length * 1000; };
    let pushedBytes = 0;
    let maxBuffered = 0;
    const producer = obedientProducer(p, 5_000, (i) => ({ event: makeTestEvent(i), position: i, bytes: 1000 }), () => {
      pushedBytes += 1000;
      maxBuffered = Math.max(maxBuffered, pushedBytes - ackedBytes);
    });
    await until(() => producer.refusals === 1, 'the pipeline to fill up');
    await settle(20);
    expect(pushedBytes).toBe(20_000);
    sink.gated = false;
    sink.releaseOne();
    await producer.done;
    await p.drain();
    expect(ackedBytes).toBe(5_000_000);
    expect(maxBuffered).toBeLessThanOrEqual(20_000);
  });

  test('drained() resolves only once the buffer is down to half (no flapping)', async () => {
    const { source, sink, p } = gatedPipeline({ batchSize: 2, maxBufferedEvents: 10 });
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
    const { p } = gatedPipeline({ batchSize: 1, maxBufferedBytes: 64 * 100 });
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
    const { source, sink, p } = gatedPipeline({ batchSize: 1 });
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
    const { source, sink, p } = gatedPipeline({ timers, batchSize: 2 });
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
