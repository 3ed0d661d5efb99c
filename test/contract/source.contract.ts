/**
 * The behaviour every Source must have (src/sources/source.ts), run against each implementation on
 * its real server: `runSourceContract('postgres', makePostgresSource)` inside a `*.test.ts` file.
 * The contract plays the pipeline itself (a recording output, acknowledgements by hand), so it can
 * acknowledge part of what was pushed, refuse room, and see exactly what comes after a stop.
 */
import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../src/event/event.ts';
import type { PipelineItem, Source, SourceOutput } from '../../src/sources/source.ts';

/** A source's upstream, and a way to open sources on it. */
export interface SourceUnderTest<P> {
  /**
   * A new source on the same stream with the same durable state (name, slot or group, state
   * store): it resumes where the last one's acknowledged positions say.
   */
  open(): Promise<Source<P>>;
  /**
   * Makes `count` changes upstream, in this order, and returns the key of each (see keyOf).
   * Each change gets a position of its own, unless `bulk` (one transaction is fine).
   */
  produce(count: number, options?: { bulk?: boolean }): Promise<string[]>;
  /** The key of a pushed event, as produce() returned it. */
  keyOf(event: ChangeEvent): string;
  /** Removes what the upstream was made of; every source is already closed. */
  cleanup?(): Promise<void>;
}

const WAIT_MS = 60_000;
/** How long "nothing more happens" is watched: longer than a fetch wait or a read of a live stream. */
const QUIET_MS = 1_500;

/** The pipeline as the contract plays it: records pushes, answers `room`, resolves drained() on `release()`. */
class RecordingOutput<P> implements SourceOutput<P> {
  readonly items: PipelineItem<P>[] = [];
  room: (count: number) => boolean = () => true;
  drainedCalls = 0;
  private waiters: (() => void)[] = [];

  push(item: PipelineItem<P>): boolean {
    this.items.push(item);
    return this.room(this.items.length);
  }

  drained(): Promise<void> {
    this.drainedCalls++;
    if (this.room(this.items.length)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.room = () => true;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  events(): ChangeEvent[] {
    return this.items.flatMap((item) => (item.event ? [item.event] : []));
  }

  /** The positions of the items up to and including the first one with a position at or after item `index`. */
  positionsThrough(index: number): P[] {
    const positions: P[] = [];
    for (let i = 0; i < this.items.length; i++) {
      const position = this.items[i]!.position;
      if (position !== undefined) positions.push(position);
      if (i >= index && position !== undefined) return positions;
    }
    throw new Error(`no position pushed at or after item ${index}`);
  }

  /** Whether a position was pushed at or after item `index`. */
  hasPositionFrom(index: number): boolean {
    return this.items.some((item, i) => i >= index && item.position !== undefined);
  }

  allPositions(): P[] {
    return this.items.flatMap((item) => (item.position === undefined ? [] : [item.position]));
  }

  /** Index of the item carrying event number `n` (0-based among events). */
  indexOfEvent(n: number): number {
    let seen = -1;
    return this.items.findIndex((item) => item.event !== undefined && ++seen === n);
  }
}

async function until(what: string, cond: () => boolean, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${detail()}`);
    await Bun.sleep(20);
  }
}

/** Registers the Source contract tests for one implementation. `make` prepares a fresh upstream. */
export function runSourceContract<P>(name: string, make: () => Promise<SourceUnderTest<P>>): void {
  /** Runs `body` with a fresh upstream; every source it opened is stopped and closed afterwards. */
  async function withUpstream(body: (u: SourceUnderTest<P>, open: (output: RecordingOutput<P>) => Promise<Source<P>>) => Promise<void>): Promise<void> {
    const upstream = await make();
    const opened: Source<P>[] = [];
    const open = async (output: RecordingOutput<P>) => {
      const source = await upstream.open();
      opened.push(source);
      await source.start(output);
      return source;
    };
    try {
      await body(upstream, open);
    } finally {
      for (const source of opened) {
        await source.stop().catch(() => {});
        await source.close().catch(() => {});
      }
      await upstream.cleanup?.();
    }
  }

  /**
   * Waits for `count` events on `output` and the position that follows the last of them (a
   * PostgreSQL source pushes it with the Commit, which may arrive in a later read than the
   * changes), then checks they are `keys` in order.
   */
  async function expectEvents(u: SourceUnderTest<P>, output: RecordingOutput<P>, keys: string[]): Promise<void> {
    await until(`${keys.length} events`, () => output.events().length >= keys.length, () => `(got ${output.events().length})`);
    expect(output.events().map((e) => u.keyOf(e))).toEqual(keys);
    if (keys.length > 0) await until('the position after the last event', () => output.hasPositionFrom(output.indexOfEvent(keys.length - 1)));
  }

  /** The end of a source's life as the pipeline runs it: stop, acknowledge everything pushed, close. */
  async function finish(source: Source<P>, output: RecordingOutput<P>): Promise<void> {
    await source.stop();
    const positions = output.allPositions();
    if (positions.length > 0) await source.ack(positions);
    await source.close();
  }

  describe(`Source contract: ${name}`, () => {
    test('pushes every change once, in upstream order; healthy status, a one-line stats', () =>
      withUpstream(async (u, open) => {
        const keys = await u.produce(5);
        const output = new RecordingOutput<P>();
        const source = await open(output);
        expect(typeof source.name).toBe('string');
        expect(typeof source.type).toBe('string');
        await expectEvents(u, output, keys);
        await until('status() null', () => source.status() === null, () => `(status: ${source.status()})`);
        const stats = source.stats();
        expect(typeof stats).toBe('string');
        expect(stats.length).toBeGreaterThan(0);
        expect(stats).not.toContain('\n');
        // Every event is covered by a position pushed with it or after it.
        expect(output.items.findLastIndex((item) => item.position !== undefined)).toBeGreaterThanOrEqual(output.indexOfEvent(4));
        await finish(source, output);
        expect(output.events()).toHaveLength(5);
      }), WAIT_MS * 2);

    test('acknowledged positions are durable: the next source resumes after the last one, in order, and close() keeps the final one', () =>
      withUpstream(async (u, open) => {
        const keys = await u.produce(6);
        const first = new RecordingOutput<P>();
        const a = await open(first);
        await expectEvents(u, first, keys);
        // In push order, in two calls: through the 2nd event, then through the 3rd.
        const throughSecond = first.positionsThrough(first.indexOfEvent(1));
        const throughThird = first.positionsThrough(first.indexOfEvent(2));
        await a.ack(throughSecond);
        await a.ack(throughThird.slice(throughSecond.length));
        await a.stop();
        await a.close();

        const second = new RecordingOutput<P>();
        const b = await open(second);
        await expectEvents(u, second, keys.slice(3));
        const more = await u.produce(2);
        await expectEvents(u, second, [...keys.slice(3), ...more]);
        await finish(b, second);

        // Everything was acknowledged before close(): nothing of it comes again.
        const last = await u.produce(1);
        const third = new RecordingOutput<P>();
        const c = await open(third);
        await expectEvents(u, third, last);
        await Bun.sleep(QUIET_MS);
        expect(third.events().map((e) => u.keyOf(e))).toEqual(last);
        await finish(c, third);
      }), WAIT_MS * 4);

    test('nothing is pushed after stop() resolves', () =>
      withUpstream(async (u, open) => {
        const output = new RecordingOutput<P>();
        const source = await open(output);
        const keys = await u.produce(3);
        await expectEvents(u, output, keys);
        await source.stop();
        const pushed = output.items.length;
        await u.produce(3);
        await Bun.sleep(QUIET_MS);
        expect(output.items.length).toBe(pushed);
        await source.ack(output.allPositions());
        await source.close();
        expect(output.items.length).toBe(pushed);
      }), WAIT_MS * 2);

    test('back-pressure: while push() answers false the source stops pushing until drained() resolves, then goes on in order', () =>
      withUpstream(async (u, open) => {
        const count = 5_000;
        const keys = await u.produce(count, { bulk: true });
        const output = new RecordingOutput<P>();
        output.room = (n) => n < 5;
        const source = await open(output);
        await until('the first pushes', () => output.items.length >= 5);
        // Stopped: no pushes for a while, and far from everything pushed.
        let seen = -1;
        await until('pushes to stop', () => {
          const now = output.items.length;
          const still = now === seen;
          seen = now;
          return still;
        });
        await Bun.sleep(QUIET_MS);
        expect(output.items.length).toBe(seen);
        expect(output.events().length).toBeLessThan(count);
        expect(output.drainedCalls).toBeGreaterThan(0);
        output.release();
        await expectEvents(u, output, keys);
        await finish(source, output);
      }), WAIT_MS * 2);
  });
}
