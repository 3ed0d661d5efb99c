/** ConnectStatus: the "connecting: ..." line of /status (docs/operations.md, "Status: connecting"). */
import { describe, expect, test } from 'bun:test';
import { ConnectStatus } from '../../../src/core/connect-status.ts';

function clock(start = 1_000_000) {
  const c = { now: start, advance: (ms: number) => (c.now += ms) };
  return c;
}

describe('ConnectStatus', () => {
  test('before start: nothing to say; from start: not OK while the first attempt runs', () => {
    const c = clock();
    const s = new ConnectStatus(() => c.now);
    expect(s.problem()).toBeNull();
    s.start('joining consumer group "g1" via 127.0.0.1:9092');
    c.advance(400);
    expect(s.problem()).toBe('connecting: joining consumer group "g1" via 127.0.0.1:9092 (0.4 s)');
    c.advance(1700);
    expect(s.problem()).toBe('connecting: joining consumer group "g1" via 127.0.0.1:9092 (3 s)');
  });

  test('a failed attempt: its reason once, the attempt count and the countdown to the next', () => {
    const c = clock();
    const s = new ConnectStatus(() => c.now);
    s.start();
    s.failed('cannot reach broker 127.0.0.1:1: connection refused (ECONNREFUSED)', 4000);
    expect(s.problem()).toBe('connecting: cannot reach broker 127.0.0.1:1: connection refused (ECONNREFUSED) (attempt 1 failed, retrying in 4 s)');
    c.advance(3500);
    expect(s.problem()).toEndWith('(attempt 1 failed, retrying in 0.5 s)');
    c.advance(600);
    expect(s.problem()).toEndWith('(attempt 1 failed, retrying now)');
    s.failed('timed out', undefined);
    expect(s.problem()).toBe('connecting: timed out (2 attempts failed in a row)');
    expect(s.failedAttempts).toBe(2);
  });

  test('failed() before start() counts as started', () => {
    const s = new ConnectStatus(() => 0);
    s.failed('refused', 1000);
    expect(s.problem()).toBe('connecting: refused (attempt 1 failed, retrying in 1 s)');
  });

  test('connected: OK; a later loss or failure says reconnecting', () => {
    const c = clock();
    const s = new ConnectStatus(() => c.now);
    s.start();
    s.failed('refused', 1000);
    s.succeeded();
    expect(s.problem()).toBeNull();
    expect(s.hasConnected).toBe(true);
    expect(s.failedAttempts).toBe(0);
    s.lost('the broker closed the connection');
    expect(s.problem()).toBe('reconnecting: the broker closed the connection');
    s.failed('refused', 2000);
    expect(s.problem()).toBe('reconnecting: refused (attempt 1 failed, retrying in 2 s)');
    s.succeeded();
    expect(s.isConnected).toBe(true);
    expect(s.problem()).toBeNull();
  });

  test('lost() while not connected changes nothing', () => {
    const s = new ConnectStatus(() => 0);
    s.start();
    s.failed('refused', 1000);
    s.lost('something else');
    expect(s.problem()).toBe('connecting: refused (attempt 1 failed, retrying in 1 s)');
  });
});
