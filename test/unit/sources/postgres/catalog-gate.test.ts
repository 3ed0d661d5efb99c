/**
 * The catalog gate (src/sources/postgres/catalog-gate.ts): frames held while a lookup runs come
 * back in order, behind nested lookups, and not at all for an ended session. No server: frames are
 * one-byte payloads, lookups are promises the test settles.
 */
import { describe, expect, test } from 'bun:test';
import { CatalogGate } from '../../../../src/sources/postgres/catalog-gate.ts';
import { deferred, settle } from '../../../helpers/async.ts';

/** A gate whose frames go through `feed` (held while a lookup runs, else handled), recording what happened. */
function newGate(onHandle: (n: number, gate: CatalogGate) => void = () => {}) {
  const log: string[] = [];
  const gate: CatalogGate = new CatalogGate({
    pause: () => log.push('pause'),
    resume: () => log.push('resume'),
    handle: (frame) => {
      log.push(`handle ${frame[0]}`);
      onHandle(frame[0]!, gate);
    },
    fail: (err) => log.push(`fail ${(err as Error).message}`),
  });
  const feed = (n: number) => {
    if (gate.held) gate.hold(Uint8Array.of(9, n, 9), 1, 2);
    else log.push(`handle ${n}`);
  };
  return { gate, log, feed };
}

describe('CatalogGate', () => {
  test('frames arriving during a lookup are held, then replayed in order; reading resumes after the last', async () => {
    const { gate, log, feed } = newGate();
    feed(1);
    const lookup = deferred();
    gate.wait(lookup.promise, () => false);
    expect(gate.held).toEqual([]);
    feed(2);
    feed(3);
    await settle();
    expect(log).toEqual(['handle 1', 'pause']);
    lookup.resolve();
    await settle();
    expect(log).toEqual(['handle 1', 'pause', 'handle 2', 'handle 3', 'resume']);
    expect(gate.held).toBeUndefined();
    feed(4);
    expect(log.at(-1)).toBe('handle 4');
  });

  test('a held frame is a copy: the socket buffer may be reused', async () => {
    const { gate } = newGate();
    gate.wait(new Promise(() => {}), () => false);
    const buffer = Uint8Array.of(1, 2, 3, 4);
    gate.hold(buffer, 1, 3);
    buffer.fill(0);
    expect([...gate.held![0]!]).toEqual([2, 3]);
  });

  test('a replayed frame that starts another lookup: the rest waits behind it, in order, with frames arriving meanwhile', async () => {
    const second = deferred();
    const { gate, log, feed } = newGate((n, g) => {
      if (n === 2) g.wait(second.promise, () => false);
    });
    const first = deferred();
    gate.wait(first.promise, () => false);
    feed(2);
    feed(3);
    feed(4);
    first.resolve();
    await settle();
    expect(log).toEqual(['pause', 'handle 2', 'pause']);
    expect(gate.held?.map((f) => f[0])).toEqual([3, 4]);
    feed(5);
    second.resolve();
    await settle();
    expect(log).toEqual(['pause', 'handle 2', 'pause', 'handle 3', 'handle 4', 'handle 5', 'resume']);
  });

  test('a session that ended meanwhile (reset) or a stopped source (cancelled) replays nothing', async () => {
    const { gate, log, feed } = newGate();
    const lookup = deferred();
    gate.wait(lookup.promise, () => false);
    feed(1);
    gate.reset();
    expect(gate.held).toBeUndefined();
    lookup.resolve();
    await settle();
    expect(log).toEqual(['pause']);

    const stopped = newGate();
    const other = deferred();
    stopped.gate.wait(other.promise, () => true);
    stopped.feed(1);
    other.resolve();
    await settle();
    expect(stopped.log).toEqual(['pause']);
  });

  test('a replayed frame that throws fails the session: the rest is dropped and reading does not resume', async () => {
    const { gate, log, feed } = newGate((n) => {
      if (n === 2) throw new Error('malformed');
    });
    const lookup = deferred();
    gate.wait(lookup.promise, () => false);
    feed(1);
    feed(2);
    feed(3);
    lookup.resolve();
    await settle();
    expect(log).toEqual(['pause', 'handle 1', 'handle 2', 'fail malformed']);
  });
});
