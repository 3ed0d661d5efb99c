import { describe, expect, test } from 'bun:test';
import { StreamerError, retryAfterOf } from '../../../src/core/errors.ts';
import { STOP, retryUntilDone, type RetryHooks } from '../../../src/pipeline/retry.ts';

/** Hooks that record every call; `stopAt` makes stopped() true from that many failures on. */
function recordingHooks(options: { stopAt?: number; waitThrowsAt?: number } = {}) {
  const calls: string[] = [];
  let failures = 0;
  const hooks: RetryHooks = {
    stopped: () => {
      failures++;
      return options.stopAt !== undefined && failures >= options.stopAt;
    },
    permanent: (err) => { calls.push(`permanent ${(err as Error).message}`); },
    retrying: (retry, err) => { calls.push(`retrying ${retry} ${(err as Error).message}`); },
    wait: async (retry) => {
      calls.push(`wait ${retry}`);
      if (retry === options.waitThrowsAt) throw STOP;
    },
  };
  return { calls, hooks };
}

/** An attempt that fails `failures` times with `error()`, then succeeds; counts its calls. */
function flaky(failures: number, error = (n: number) => new Error(`down ${n}`)) {
  let calls = 0;
  return {
    get calls() { return calls; },
    attempt: async () => {
      calls++;
      if (calls <= failures) throw error(calls);
    },
  };
}

describe('retryUntilDone', () => {
  test('a step that succeeds at once: no retry, no hook called', async () => {
    const { calls, hooks } = recordingHooks();
    const step = flaky(0);
    expect(await retryUntilDone(step.attempt, hooks)).toBe(0);
    expect(step.calls).toBe(1);
    expect(calls).toEqual([]);
  });

  test('retryable failures are reported and waited out, numbered from 1, until the step succeeds', async () => {
    const { calls, hooks } = recordingHooks();
    const step = flaky(3);
    expect(await retryUntilDone(step.attempt, hooks)).toBe(3);
    expect(step.calls).toBe(4);
    expect(calls).toEqual(['retrying 1 down 1', 'wait 1', 'retrying 2 down 2', 'wait 2', 'retrying 3 down 3', 'wait 3']);
  });

  test('a permanent error is handed to permanent() once, then STOP; nothing is retried', async () => {
    const { calls, hooks } = recordingHooks();
    const step = flaky(5, (n) => (n === 2 ? new StreamerError('STATE_STORE', 'disk gone', { retryable: false }) : new Error(`down ${n}`)));
    await expect(retryUntilDone(step.attempt, hooks)).rejects.toBe(STOP);
    expect(step.calls).toBe(2);
    expect(calls).toEqual(['retrying 1 down 1', 'wait 1', 'permanent disk gone']);
  });

  test('a failure after the pipeline stopped is not looked at: STOP, without report or wait', async () => {
    const { calls, hooks } = recordingHooks({ stopAt: 2 });
    const step = flaky(5, (n) => (n === 2 ? new StreamerError('STATE_STORE', 'permanent but too late', { retryable: false }) : new Error(`down ${n}`)));
    await expect(retryUntilDone(step.attempt, hooks)).rejects.toBe(STOP);
    expect(step.calls).toBe(2);
    expect(calls).toEqual(['retrying 1 down 1', 'wait 1']);
  });

  test('a wait cut short (STOP) ends the loop without another attempt', async () => {
    const { calls, hooks } = recordingHooks({ waitThrowsAt: 2 });
    const step = flaky(5);
    await expect(retryUntilDone(step.attempt, hooks)).rejects.toBe(STOP);
    expect(step.calls).toBe(2);
    expect(calls).toEqual(['retrying 1 down 1', 'wait 1', 'retrying 2 down 2', 'wait 2']);
  });

  test('the wait is told the failure, so a Retry-After it carries can lengthen the pause', async () => {
    const waits: number[] = [];
    const step = flaky(2, (n) => new StreamerError('SINK_WRITE', `throttled ${n}`, n === 1 ? { retryAfterMs: 1500 } : {}));
    await retryUntilDone(step.attempt, {
      stopped: () => false,
      permanent: () => {},
      retrying: () => {},
      wait: async (_retry, err) => { waits.push(retryAfterOf(err)); },
    });
    expect(waits).toEqual([1500, 0]);
    expect(retryAfterOf(new Error('plain'))).toBe(0);
    expect(retryAfterOf(new StreamerError('SINK_WRITE', 'x', { retryAfterMs: -5 }))).toBe(0);
  });
});
