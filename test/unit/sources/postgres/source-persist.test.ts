import { describe, expect, test } from 'bun:test';
import { Logger } from '../../../../src/core/logger.ts';
import { PostgresSource, type PostgresSourceSettings } from '../../../../src/sources/postgres/source.ts';
import { createMemoryStateStore } from '../../../../src/state/memory-store.ts';
import type { StateStore } from '../../../../src/state/store.ts';

/** A state store that records its writes (when each started, and which finished), slow or failing on demand. */
function recordingStore() {
  const started: bigint[] = [];
  const durable: bigint[] = [];
  const control = { failing: false, delayMs: 0 };
  const store: StateStore = {
    ...createMemoryStateStore(),
    getPosition: () => undefined,
    setPosition: async (_source, position) => {
      started.push(position);
      if (control.delayMs > 0) await Bun.sleep(control.delayMs);
      if (control.failing) throw new Error('disk full');
      durable.push(position);
    },
  };
  return { store, started, durable, control };
}

// ack() and close() never touch the connection settings: no server is needed here.
const settings = {
  walRetain: 0, statusIntervalMs: 10_000, readCoalesceMs: 0, publication: 'p',
  wal: { slotMonitorIntervalMs: 0, heartbeatIntervalMs: 0, heartbeatPrefix: 'hb', heartbeatEvents: false, budget: { warnBytes: 0, maxBytes: 0, action: 'wait' } },
} as PostgresSourceSettings;
const newSource = (store: StateStore) => new PostgresSource('persist-test', settings, store, Logger.for('Test', 'persist'));
const persistedOf = (source: PostgresSource) => /walPosPersist: (\d+)/.exec(source.stats())![1];

describe('PostgresSource: persisting delivered positions', () => {
  test('the first acknowledgement is written at once; a burst within 100 ms is written once, with its last position', async () => {
    const { store, started, durable } = recordingStore();
    const source = newSource(store);
    await source.ack([10n]);
    expect(started).toEqual([10n]);
    await Bun.sleep(5);
    expect(durable).toEqual([10n]);
    expect(persistedOf(source)).toBe('10');
    await source.ack([20n]);
    await source.ack([25n, 30n]);
    expect(started).toEqual([10n]);
    await Bun.sleep(150);
    expect(durable).toEqual([10n, 30n]);
    expect(persistedOf(source)).toBe('30');
    await Bun.sleep(110);
    await source.ack([40n]);
    expect(started).toEqual([10n, 30n, 40n]);
    await source.ack([40n, 35n]); // nothing new
    await source.close();
    expect(durable).toEqual([10n, 30n, 40n]);
  });

  test('an acknowledgement does not wait for the disk; the persisted position moves only once the write is durable', async () => {
    const { store, durable, control } = recordingStore();
    control.delayMs = 60;
    const source = newSource(store);
    const before = performance.now();
    await source.ack([10n]);
    expect(performance.now() - before).toBeLessThan(30);
    expect(persistedOf(source)).toBe('0');
    await Bun.sleep(90);
    expect(durable).toEqual([10n]);
    expect(persistedOf(source)).toBe('10');
    await source.close();
  });

  test('close() waits for the write in progress, then writes what was delivered since', async () => {
    const { store, durable, control } = recordingStore();
    const source = newSource(store);
    control.delayMs = 30;
    await source.ack([10n]);
    await source.ack([50n]);
    await source.close();
    expect(durable).toEqual([10n, 50n]);
    await Bun.sleep(150);
    expect(durable).toEqual([10n, 50n]); // no timer left behind
  });

  test('a failed write is logged; the next acknowledgement writes at once and fails with STATE_STORE until the store heals', async () => {
    const { store, started, durable, control } = recordingStore();
    const source = newSource(store);
    control.failing = true;
    await source.ack([10n]); // written in the background: its failure is logged, not thrown here
    await Bun.sleep(5);
    const second = await source.ack([20n]).catch((e) => e);
    expect(second.code).toBe('STATE_STORE');
    expect(second.message).toContain('disk full');
    control.failing = false;
    await source.ack([30n]);
    expect(started).toEqual([10n, 20n, 30n]);
    expect(durable).toEqual([30n]);
    expect(source.stats()).toContain('persistErrors: 2');
    expect(persistedOf(source)).toBe('30');
    await source.close();
  });
});
