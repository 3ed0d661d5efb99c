/**
 * The pipeline's unit tests' parts: a source and sinks that record what they get and can fail,
 * wait or be slow on demand, items, and a pipeline of small batches and quick retries.
 */
import type { ChangeEvent } from '../../src/event/event.ts';
import { Logger } from '../../src/core/logger.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { Pipeline, type PipelineOptions, type PipelineSink } from '../../src/pipeline/pipeline.ts';
import type { PipelineItem } from '../../src/sources/source.ts';
import { makeTestEvent } from '../contract/events.ts';
import { deferred } from './async.ts';

/** A source that records what it is acknowledged and fails the test on concurrent acks. */
export function fakeSource<P = number>(options: { failFirst?: number; failWith?: () => unknown } = {}) {
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
export function fakeSink(name: string) {
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

/** Event `i` of `source` (makeTestEvent) with position `i`. */
export function item(i: number, source = 'db1'): PipelineItem<number> {
  return { event: makeTestEvent(i, source), position: i };
}

/** A pipeline of source `db1` with small batches and quick retries; mergeLimit = batchSize unless told. */
export function makePipeline(
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
    metrics: createMetrics(),
    // Batches as pushed, so the tests can name them; merging has tests of its own.
    mergeLimit: overrides.batchSize ?? 3,
    ...overrides,
  });
}

/** The integers from `from` up to, not including, `to`. */
export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** A pipeline (makePipeline with `overrides`) whose one sink `s` is gated: each write waits for releaseOne(). */
export function gatedPipeline(overrides: Partial<PipelineOptions<number>> = {}) {
  const source = fakeSource();
  const sink = fakeSink('s');
  sink.gated = true;
  return { source, sink, p: makePipeline(source, [sink], overrides) };
}

/**
 * Pushes items 0..count-1 as an obedient source does: after a refusal it waits for drained().
 * `pushed(i)` runs after each push (to track what is buffered); `done` resolves after the last.
 */
export function obedientProducer(p: Pipeline<number>, count: number, itemOf: (i: number) => PipelineItem<number>, pushed: (i: number) => void) {
  let refusals = 0;
  const done = (async () => {
    for (let i = 0; i < count; i++) {
      const ok = p.push(itemOf(i));
      pushed(i);
      if (!ok) {
        refusals++;
        await p.drained();
      }
    }
  })();
  return { done, get refusals() { return refusals; } };
}
