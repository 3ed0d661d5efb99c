/**
 * The behaviour every Sink must have (src/sinks/sink.ts), run against each implementation:
 * `runSinkContract('file', makeFileSink)` inside a `*.test.ts` file.
 */
import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../src/event/event.ts';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import { makeTestEvent } from './events.ts';

/** A sink plus a way to see what it delivered. */
export interface SinkUnderTest {
  sink: Sink;
  /** Number of events the sink has made observable (written, logged, counted). */
  count(): Promise<number>;
  /** UUIDs of the delivered events in delivery order, or undefined when the sink keeps nothing readable. */
  observed(): Promise<string[] | undefined>;
  /** Removes files and the like; the sink is already closed. */
  cleanup?(): Promise<void>;
  /** The delivered-event count in the sink's stats line; default: the leading `events: N`. */
  statsEvents?(stats: string): number | undefined;
}

const leadingEvents = (stats: string): number | undefined => {
  const match = /^events: (\d+)\b/.exec(stats);
  return match ? Number(match[1]) : undefined;
};

const batchOf = (from: number, to: number, source = 'db1', table = 'items'): ChangeEvent[] =>
  Array.from({ length: to - from }, (_, k) => makeTestEvent(from + k, source, table));

const uuids = (batch: readonly ChangeEvent[]) => batch.map((e) => e.uuid);

async function sinkEventsValue(metrics: Metrics, sink: Sink, table: string): Promise<number> {
  const metric = await metrics.sinkEvents.get();
  return metric.values.find((v) => v.labels.sinkName === sink.name && v.labels.sinkType === sink.type && v.labels.table === table)?.value ?? 0;
}

/**
 * Registers the Sink contract tests for one implementation. `makeSink` builds a fresh, empty sink
 * that updates `metrics` (a fresh set per test).
 */
export function runSinkContract(name: string, makeSink: (metrics: Metrics) => Promise<SinkUnderTest>): void {
  let metrics = createMetrics();
  async function withSink(body: (s: SinkUnderTest) => Promise<void>): Promise<void> {
    metrics = createMetrics();
    const s = await makeSink(metrics);
    try {
      await body(s);
    } finally {
      await s.sink.close();
      await s.cleanup?.();
    }
  }

  describe(`Sink contract: ${name}`, () => {
    test('write resolves only after the batch is observable', () =>
      withSink(async (s) => {
        const batch = batchOf(0, 5);
        await s.sink.write(batch);
        expect(await s.count()).toBe(5);
        const seen = await s.observed();
        if (seen) expect(seen).toEqual(uuids(batch));
      }));

    test('keeps order within and across batches, and does not hold on to the batch array', () =>
      withSink(async (s) => {
        const a = batchOf(0, 10);
        const b = batchOf(10, 20);
        await s.sink.write(a);
        const expected = [...uuids(a), ...uuids(b)];
        a.length = 0; // the caller may reuse its array once write settled
        await s.sink.write(b);
        expect(await s.count()).toBe(20);
        const seen = await s.observed();
        if (seen) expect(seen).toEqual(expected);
      }));

    test('two concurrent callers: every batch stays contiguous and each caller keeps its order', () =>
      withSink(async (s) => {
        const batches = { db1: [] as ChangeEvent[][], db2: [] as ChangeEvent[][] };
        for (let k = 0; k < 5; k++) {
          batches.db1.push(batchOf(k * 20, k * 20 + 20, 'db1'));
          batches.db2.push(batchOf(k * 7, k * 7 + 7, 'db2'));
        }
        const caller = async (list: ChangeEvent[][]) => {
          for (const batch of list) await s.sink.write(batch);
        };
        await Promise.all([caller(batches.db1), caller(batches.db2)]);
        expect(await s.count()).toBe(135);
        const seen = await s.observed();
        if (!seen) return;
        expect(seen.length).toBe(135);
        const all = [...batches.db1, ...batches.db2];
        for (const batch of all) expect(findBatch(seen, uuids(batch))).toBeGreaterThanOrEqual(0);
        for (const list of [batches.db1, batches.db2]) {
          const starts = list.map((batch) => findBatch(seen, uuids(batch)));
          expect([...starts].sort((x, y) => x - y)).toEqual(starts);
        }
      }));

    test('close waits for writes in progress', () =>
      withSink(async (s) => {
        const pending = s.sink.write(batchOf(0, 50));
        await s.sink.close();
        await pending;
        expect(await s.count()).toBe(50);
      }));

    test('an empty batch resolves and delivers nothing', () =>
      withSink(async (s) => {
        await s.sink.write([]);
        expect(await s.count()).toBe(0);
      }));

    test('component surface: healthy status, stats with the event count, debug toggles, sink_events per table', () =>
      withSink(async (s) => {
        expect(s.sink.type).toMatch(/^Sink-/);
        // A sink with a server to reach is "connecting" (not OK) until it answers (docs/operations.md, "Status: connecting").
        const deadline = Date.now() + 20_000;
        while (s.sink.status() !== null && Date.now() < deadline) await Bun.sleep(20);
        expect(s.sink.status()).toBeNull();
        const before = await sinkEventsValue(metrics, s.sink, 'orders');
        s.sink.setDebug(true);
        await s.sink.write([...batchOf(0, 3, 'db1', 'orders'), ...batchOf(3, 4, 'db1', 'lines')]);
        s.sink.setDebug(false);
        expect((s.statsEvents ?? leadingEvents)(s.sink.stats())).toBe(4);
        expect(await sinkEventsValue(metrics, s.sink, 'orders')).toBe(before + 3);
      }));
  });
}

/** Index where `batch` starts inside `seen` as a contiguous run, or -1. */
function findBatch(seen: string[], batch: string[]): number {
  for (let i = seen.indexOf(batch[0]!); i >= 0; i = seen.indexOf(batch[0]!, i + 1)) {
    if (batch.every((id, k) => seen[i + k] === id)) return i;
  }
  return -1;
}
