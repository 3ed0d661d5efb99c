/**
 * The PostgreSQL source's position tracker (src/sources/postgres/position-tracker.ts) as a state
 * machine: acknowledgements in, state-store writes and the persisted/confirmed positions out, time
 * driven by hand. Then once through PostgresSource, to see it wired to ack() and the stats line.
 */
import { describe, expect, test } from 'bun:test';
import { Logger } from '../../../../src/core/logger.ts';
import { createMetrics } from '../../../../src/metrics/catalogue.ts';
import { PostgresSource, type PostgresSourceSettings } from '../../../../src/sources/postgres/source.ts';
import { PERSIST_INTERVAL_MS, PositionTracker, type PositionTrackerOptions } from '../../../../src/sources/postgres/position-tracker.ts';
import { createMemoryStateStore } from '../../../../src/state/memory-store.ts';
import type { StateStore } from '../../../../src/state/store.ts';
import { deferred, ManualTimers, settle } from '../../../helpers/async.ts';

/** A state store whose writes finish (or fail) when the test says so; it records each write. */
function handStore(initial?: bigint) {
  const memory = createMemoryStateStore();
  if (initial !== undefined) void memory.setPosition('pg', initial);
  const writes: { position: bigint; finish(): void; fail(err: Error): void }[] = [];
  const store: StateStore = {
    ...memory,
    getPosition: (source) => memory.getPosition(source),
    setPosition: (source, position) => {
      const d = deferred();
      writes.push({ position, finish: () => d.resolve(), fail: (err) => d.reject(err) });
      return d.promise.then(() => memory.setPosition(source, position));
    },
  };
  return { store, memory, writes };
}

function newTracker(store: StateStore, extra: Partial<PositionTrackerOptions> = {}) {
  const timers = new ManualTimers();
  const events: string[] = [];
  const backgroundFailures: unknown[] = [];
  const tracker = new PositionTracker({
    name: 'pg', store, timers, walRetain: 0, component: 'Source-PSQL (pg)',
    onDelivered: (p) => events.push(`delivered ${p}`),
    onPersisted: () => events.push('persisted'),
    onBackgroundFailure: (err) => backgroundFailures.push(err),
    ...extra,
  });
  return { tracker, timers, events, backgroundFailures };
}

describe('PositionTracker: ack → persist → confirm', () => {
  test('the first acknowledgement is written at once; a burst is written once, with its last position, when the last write is PERSIST_INTERVAL_MS old', async () => {
    const { store, writes } = handStore();
    const { tracker, timers, events } = newTracker(store);
    tracker.load(0n);
    await tracker.ack([10n]);
    expect(writes.map((w) => w.position)).toEqual([10n]);
    expect(tracker.persisted).toBe(0n); // not durable yet
    writes[0]!.finish();
    await settle();
    expect(tracker.persisted).toBe(10n);
    expect(events).toEqual(['delivered 10', 'persisted']);
    await tracker.ack([20n]);
    await tracker.ack([25n, 30n]);
    expect(writes).toHaveLength(1);
    timers.advance(PERSIST_INTERVAL_MS - 1);
    expect(writes).toHaveLength(1);
    timers.advance(1);
    expect(writes.map((w) => w.position)).toEqual([10n, 30n]);
    writes[1]!.finish();
    await settle();
    expect(tracker.persisted).toBe(30n);
    expect(timers.size).toBe(0);
  });

  test('positions at or below the delivered one change nothing', async () => {
    const { store, writes } = handStore();
    const { tracker, events } = newTracker(store);
    tracker.load(0n);
    await tracker.ack([10n]);
    await tracker.ack([10n]);
    await tracker.ack([8n]);
    await tracker.ack([]);
    expect(writes).toHaveLength(1);
    expect(events).toEqual(['delivered 10']);
  });

  test('acknowledgements during a write are written when it finishes (and the interval has passed)', async () => {
    const { store, writes } = handStore();
    const { tracker, timers } = newTracker(store);
    tracker.load(0n);
    await tracker.ack([10n]);
    await tracker.ack([20n]);
    timers.advance(500); // the write is slow: no second write while it runs
    expect(writes).toHaveLength(1);
    writes[0]!.finish();
    await settle();
    expect(writes.map((w) => w.position)).toEqual([10n, 20n]);
  });

  test('confirmed is the persisted position minus walRetain, never below 0', async () => {
    const { store, writes } = handStore();
    const { tracker } = newTracker(store, { walRetain: 100 });
    tracker.load(0n);
    await tracker.ack([60n]);
    writes[0]!.finish();
    await settle();
    expect(tracker.confirmed).toBe(0n);
    tracker.load(1000n);
    expect(tracker.confirmed).toBe(900n);
  });

  test('a failed background write is reported; the next acknowledgement writes at once and fails with STATE_STORE until the store heals', async () => {
    const { store, writes } = handStore();
    const { tracker, backgroundFailures } = newTracker(store);
    tracker.load(0n);
    await tracker.ack([10n]);
    writes[0]!.fail(new Error('disk full'));
    await settle();
    expect(backgroundFailures).toHaveLength(1);
    expect((backgroundFailures[0] as { code: string }).code).toBe('STATE_STORE');
    const second = tracker.ack([20n]).catch((e) => e);
    await settle();
    expect(writes.map((w) => w.position)).toEqual([10n, 20n]);
    writes[1]!.fail(new Error('disk full'));
    const err = await second;
    expect(err.code).toBe('STATE_STORE');
    expect(err.message).toContain('disk full');
    expect(err.message).toContain('0/14'); // the position, as PostgreSQL writes LSNs
    const third = tracker.ack([30n]);
    await settle();
    writes[2]!.finish();
    await third;
    expect(tracker.persisted).toBe(30n);
    expect(tracker.persistErrors).toBe(2);
  });

  test('close() waits for the write in progress, then writes what was delivered since', async () => {
    const { store, writes } = handStore();
    const { tracker, timers } = newTracker(store);
    tracker.load(0n);
    await tracker.ack([10n]);
    await tracker.ack([50n]);
    const closed = tracker.close();
    await settle();
    expect(writes).toHaveLength(1);
    writes[0]!.finish();
    await settle();
    expect(writes.map((w) => w.position)).toEqual([10n, 50n]);
    writes[1]!.finish();
    await closed;
    expect(tracker.persisted).toBe(50n);
    expect(timers.size).toBe(0);
  });

  test('close() writes at once what waits for the interval, and leaves no timer behind', async () => {
    const { store, writes } = handStore();
    const { tracker, timers } = newTracker(store);
    tracker.load(0n);
    await tracker.ack([10n]);
    writes[0]!.finish();
    await settle();
    await tracker.ack([20n]);
    expect(timers.size).toBe(1); // waiting for the interval
    const closed = tracker.close();
    expect(timers.size).toBe(0);
    await settle();
    expect(writes.map((w) => w.position)).toEqual([10n, 20n]);
    writes[1]!.finish();
    await closed;
    timers.advance(1000);
    expect(writes).toHaveLength(2);
  });

  test('close() rejects with STATE_STORE when its last write fails', async () => {
    const { store, writes } = handStore();
    const { tracker } = newTracker(store);
    tracker.load(0n);
    await tracker.ack([10n]);
    writes[0]!.finish();
    await settle();
    tracker.stop();
    await tracker.ack([20n]);
    const closed = tracker.close().catch((e) => e);
    await settle();
    writes.at(-1)!.fail(new Error('read-only file system'));
    expect((await closed).code).toBe('STATE_STORE');
  });

  test('after stop() a finished write does not start the next one in the background; close() does', async () => {
    const { store, writes } = handStore();
    const { tracker, timers } = newTracker(store);
    tracker.load(0n);
    await tracker.ack([10n]);
    await tracker.ack([20n]);
    tracker.stop();
    writes[0]!.finish();
    await settle();
    timers.advance(1000);
    expect(writes).toHaveLength(1);
    const closed = tracker.close();
    await settle();
    writes[1]!.finish();
    await closed;
    expect(writes.map((w) => w.position)).toEqual([10n, 20n]);
  });
});

describe('PositionTracker: where a session resumes', () => {
  test('load starts from the stored position; pushed positions move lastPushed', async () => {
    const { store } = handStore(500n);
    const { tracker } = newTracker(store);
    expect(tracker.load(0n)).toBe(500n);
    expect([tracker.persisted, tracker.delivered, tracker.lastPushed, tracker.fromOverride]).toEqual([500n, 500n, 500n, false]);
    tracker.pushed(600n);
    expect(tracker.lastPushed).toBe(600n);
  });

  test('walPositionOverride applies until the first position is pushed', () => {
    const { store } = handStore(500n);
    const { tracker } = newTracker(store);
    expect(tracker.load(300n)).toBe(500n);
    expect([tracker.persisted, tracker.lastPushed, tracker.fromOverride]).toEqual([300n, 300n, true]);
    expect(tracker.adoptStored()).toBeUndefined(); // the stored value was seen at load: the override wins
    tracker.pushed(310n);
    expect(tracker.fromOverride).toBe(false);
  });

  test('a store that cannot be read fails load', () => {
    const { store } = handStore();
    const { tracker } = newTracker({ ...store, getPosition: () => { throw new Error('not a position'); } });
    expect(() => tracker.load(0n)).toThrow('not a position');
  });

  test('a position another instance stored past what this one pushed is adopted; its own writes and older values are not', async () => {
    const { store, memory, writes } = handStore(100n);
    const { tracker } = newTracker(store);
    tracker.load(0n);
    expect(tracker.adoptStored()).toBeUndefined();
    await tracker.ack([150n]);
    writes[0]!.finish();
    await settle();
    expect(tracker.adoptStored()).toBeUndefined(); // written by this tracker
    tracker.pushed(200n);
    await memory.setPosition('pg', 180n); // another instance, behind what this one pushed
    expect(tracker.adoptStored()).toBeUndefined();
    await memory.setPosition('pg', 400n); // another instance, ahead
    expect(tracker.adoptStored()).toBe(400n);
    expect([tracker.persisted, tracker.delivered, tracker.lastPushed]).toEqual([400n, 400n, 400n]);
    expect(tracker.adoptStored()).toBeUndefined(); // seen now
  });

  test('adopting a stored position ends walPositionOverride', async () => {
    const { store, memory } = handStore(100n);
    const { tracker } = newTracker(store);
    tracker.load(50n);
    await memory.setPosition('pg', 300n);
    expect(tracker.adoptStored()).toBe(300n);
    expect(tracker.fromOverride).toBe(false);
  });
});

describe('PositionTracker: recording an accepted start', () => {
  test('a start ahead of an older saved position is written at once and becomes the resume point', async () => {
    const { store, memory, writes } = handStore(100n);
    const { tracker } = newTracker(store);
    tracker.load(0n);
    const recorded = tracker.recordAcceptedStart(300n);
    await settle();
    expect(writes.map((w) => w.position)).toEqual([300n]);
    writes[0]!.finish();
    await recorded;
    expect(memory.getPosition('pg')).toBe(300n);
    expect([tracker.persisted, tracker.delivered, tracker.lastPushed]).toEqual([300n, 300n, 300n]);
    expect(tracker.adoptStored()).toBeUndefined(); // its own write, not another instance's
  });

  test('nothing is written without a saved position, or for a start at or behind it', async () => {
    const fresh = handStore();
    const first = newTracker(fresh.store);
    first.tracker.load(0n);
    await first.tracker.recordAcceptedStart(300n);
    expect(fresh.writes).toHaveLength(0);
    expect(first.tracker.lastPushed).toBe(0n);

    const saved = handStore(500n);
    const second = newTracker(saved.store);
    second.tracker.load(0n);
    await second.tracker.recordAcceptedStart(500n);
    await second.tracker.recordAcceptedStart(400n);
    expect(saved.writes).toHaveLength(0);
    expect(second.tracker.lastPushed).toBe(500n);
  });
});

describe('PostgresSource: ack() goes through the tracker', () => {
  // ack() and close() never touch the connection settings: no server is needed here.
  const settings = {
    walRetain: 0, statusIntervalMs: 10_000, readCoalesceMs: 0, publication: 'p', startRetryIntervalMs: 1000,
    wal: { slotMonitorIntervalMs: 0, heartbeatIntervalMs: 0, heartbeatPrefix: 'hb', heartbeatEvents: false, budget: { warnBytes: 0, maxBytes: 0, action: 'wait' } },
    snapshot: { mode: 'never', chunkRows: 1000, chunkBytes: 1 << 20, maxLagBytes: 1 << 20 },
  } as PostgresSourceSettings;

  test('acknowledged positions are persisted, failures counted in the stats line', async () => {
    let failing = true;
    const memory = createMemoryStateStore();
    const store: StateStore = {
      ...memory,
      getPosition: (s) => memory.getPosition(s),
      setPosition: async (s, p) => {
        if (failing) throw new Error('disk full');
        await memory.setPosition(s, p);
      },
    };
    const source = new PostgresSource('persist-test', settings, store, Logger.for('Test', 'persist'), createMetrics());
    await source.ack([10n]);
    await Bun.sleep(5);
    const err = await source.ack([20n]).catch((e) => e);
    expect(err.code).toBe('STATE_STORE');
    failing = false;
    await source.ack([30n]);
    expect(source.stats()).toContain('persistErrors: 2');
    expect(source.stats()).toContain('walPosPersist: 30;');
    await source.close();
    expect(memory.getPosition('persist-test')).toBe(30n);
  });
});
