import { describe, expect, test } from 'bun:test';
import { Logger } from '../../../src/core/logger.ts';
import { PostgresSource, type PostgresSourceSettings } from '../../../src/postgres/source.ts';
import type { StateStore } from '../../../src/state/store.ts';

/** A state store that records its writes and can be made to fail. */
function recordingStore() {
  const writes: bigint[] = [];
  let failing = false;
  const store: StateStore = {
    getPosition: () => undefined,
    setPosition: (_source, position) => {
      if (failing) throw new Error('disk full');
      writes.push(position);
    },
    close: () => {},
  };
  return { store, writes, fail: (on: boolean) => (failing = on) };
}

// ack() and close() never touch the connection settings: no server is needed here.
const settings = { walRetain: 0, statusIntervalMs: 10_000, publication: 'p' } as PostgresSourceSettings;
const newSource = (store: StateStore) => new PostgresSource('persist-test', settings, store, Logger.for('Test', 'persist'));

describe('PostgresSource: persisting delivered positions', () => {
  test('the first acknowledgement is written at once; a burst within 100 ms is written once, with its last position', async () => {
    const { store, writes } = recordingStore();
    const source = newSource(store);
    await source.ack([10n]);
    expect(writes).toEqual([10n]);
    await source.ack([20n]);
    await source.ack([25n, 30n]);
    expect(writes).toEqual([10n]);
    await Bun.sleep(150);
    expect(writes).toEqual([10n, 30n]);
    expect(source.stats()).toContain('walPosPersist: 30');
    await Bun.sleep(110);
    await source.ack([40n]);
    expect(writes).toEqual([10n, 30n, 40n]);
    await source.ack([40n, 35n]); // nothing new
    await source.close();
    expect(writes).toEqual([10n, 30n, 40n]);
  });

  test('close() writes what was delivered but not yet written', async () => {
    const { store, writes } = recordingStore();
    const source = newSource(store);
    await source.ack([10n]);
    await source.ack([50n]);
    await source.close();
    expect(writes).toEqual([10n, 50n]);
    await Bun.sleep(150);
    expect(writes).toEqual([10n, 50n]); // the timer was cancelled
  });

  test('a failing write throws STATE_STORE; the next acknowledgement writes at once, and succeeds once the store heals', async () => {
    const { store, writes, fail } = recordingStore();
    const source = newSource(store);
    fail(true);
    const first = await source.ack([10n]).catch((e) => e);
    expect(first.code).toBe('STATE_STORE');
    const second = await source.ack([20n]).catch((e) => e);
    expect(second.code).toBe('STATE_STORE');
    fail(false);
    await source.ack([30n]);
    expect(writes).toEqual([30n]);
    expect(source.stats()).toContain('persistErrors: 2');
    await source.close();
  });
});
