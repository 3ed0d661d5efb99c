/**
 * The sources' reconnect loop (src/sources/reconnect.ts) with time driven by hand: capped
 * exponential backoff, a series that starts over after progress, steady waits, halting and stop().
 */
import { describe, expect, test } from 'bun:test';
import { ReconnectLoop, type ReconnectDecision } from '../../../src/sources/reconnect.ts';
import { deferred, ManualTimers, settle } from '../../helpers/async.ts';

/** A loop whose attempts the test ends one by one; records the attempts, failures and waits. */
function harness(decide: (err: Error) => ReconnectDecision = () => 'backoff', maxMs = 8_000) {
  const timers = new ManualTimers();
  const loop = new ReconnectLoop({ firstMs: 1_000, maxMs, timers });
  const log: string[] = [];
  let current: ReturnType<typeof deferred<void>> | undefined;
  let progress: (() => void) | undefined;
  let attempts = 0;
  loop.start({
    attempt: (progressed) => {
      attempts++;
      log.push(`attempt ${attempts}`);
      current = deferred<void>();
      progress = progressed;
      return current.promise;
    },
    failed: (err, waitMs) => {
      log.push(`failed ${(err as Error).message} wait ${waitMs}`);
      return decide(err as Error);
    },
    ended: () => log.push('ended'),
  });
  return {
    loop, timers, log,
    attempts: () => attempts,
    async fail(message = 'down') {
      current!.reject(new Error(message));
      await settle();
    },
    async finish() {
      current!.resolve();
      await settle();
    },
    /** Ends the attempt with a failure and lets the wait it was given pass. */
    async failAndWait(message = 'down') {
      current!.reject(new Error(message));
      await settle();
      timers.advance(Number(/wait (\d+)/.exec(log.findLast((l) => l.startsWith('failed')) ?? '')![1]));
      await settle();
    },
    progressed: () => progress!(),
    lastFailure: () => log.findLast((l) => l.startsWith('failed')),
  };
}

describe('ReconnectLoop', () => {
  test('the first attempt starts at once; failures in a row wait 1 s, 2 s, 4 s, then the cap', async () => {
    const h = harness();
    expect(h.attempts()).toBe(1);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      await h.fail();
      const wait = Number(/wait (\d+)/.exec(h.lastFailure() ?? '')![1]);
      waits.push(wait);
      h.timers.advance(wait - 1);
      await settle();
      expect(h.attempts()).toBe(i + 1); // not before the wait is over
      h.timers.advance(1);
      await settle();
      expect(h.attempts()).toBe(i + 2);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(h.log.slice(0, 4)).toEqual(['attempt 1', 'ended', 'failed down wait 1000', 'attempt 2']);
  });

  test('an attempt that got somewhere starts the series over', async () => {
    const h = harness();
    await h.failAndWait();
    await h.failAndWait();
    h.progressed();
    await h.fail();
    expect(h.log.filter((l) => l.startsWith('failed'))).toEqual(['failed down wait 1000', 'failed down wait 2000', 'failed down wait 1000']);
  });

  test('an attempt that ends without an error is followed by another at once, with the series over', async () => {
    const h = harness();
    await h.failAndWait();
    await h.finish();
    expect(h.attempts()).toBe(3);
    await h.fail();
    expect(h.lastFailure()).toBe('failed down wait 1000');
  });

  test('a steady wait does not count as a failure and starts the series over', async () => {
    const h = harness((err) => (err.message === 'busy' ? { steadyMs: 5_000 } : 'backoff'));
    await h.failAndWait();
    await h.failAndWait();
    await h.fail('busy');
    h.timers.advance(4999);
    await settle();
    expect(h.attempts()).toBe(3);
    h.timers.advance(1);
    await settle();
    expect(h.attempts()).toBe(4);
    await h.fail();
    expect(h.lastFailure()).toBe('failed down wait 1000');
  });

  test('halt ends the loop', async () => {
    const h = harness(() => 'halt');
    await h.fail('refused');
    expect(await Promise.race([h.loop.done().then(() => 'done'), settle().then(() => 'running')])).toBe('done');
    expect(h.timers.size).toBe(0);
    expect(h.attempts()).toBe(1);
    expect(h.loop.stopping).toBe(false);
  });

  test('stop() cuts a wait short and no attempt follows', async () => {
    const h = harness();
    await h.fail();
    expect(h.timers.size).toBe(1);
    h.loop.stop();
    await h.loop.done();
    expect(h.timers.size).toBe(0);
    expect(h.attempts()).toBe(1);
    expect(h.loop.stopping).toBe(true);
  });

  test('a failure after stop() is not reported and not retried', async () => {
    const h = harness();
    h.loop.stop();
    await h.fail('closed under it');
    await h.loop.done();
    expect(h.log).toEqual(['attempt 1', 'ended']);
    expect(h.timers.size).toBe(0);
  });

  test('the cap is never below the first delay', async () => {
    const h = harness(() => 'backoff', 10);
    await h.failAndWait();
    await h.fail();
    expect(h.log.filter((l) => l.startsWith('failed'))).toEqual(['failed down wait 1000', 'failed down wait 1000']);
  });
});
