import { describe, expect, test } from 'bun:test';
import { HeapPolicy } from '../../../src/core/heap-policy.ts';
import { checkHeap, startHeapGuard, type HeapEngine } from '../../../src/core/heap-guard.ts';

const MB = 2 ** 20;
const settings = { targetBytes: 150 * MB, minGrowthBytes: 8 * MB, maxShare: 0.1 };

describe('HeapPolicy', () => {
  test('below the RSS target it never collects, however much the heap grew', () => {
    const policy = new HeapPolicy(settings);
    expect(policy.shouldCollect({ rssBytes: 100 * MB, heapBytes: 20 * MB }, 0)).toBe(false);
    expect(policy.shouldCollect({ rssBytes: 149 * MB, heapBytes: 200 * MB }, 10)).toBe(false);
  });

  test('at the target it collects once the heap grew the minimum above its low point', () => {
    const policy = new HeapPolicy(settings);
    expect(policy.shouldCollect({ rssBytes: 160 * MB, heapBytes: 30 * MB }, 0)).toBe(false);
    expect(policy.shouldCollect({ rssBytes: 160 * MB, heapBytes: 37 * MB }, 10)).toBe(false);
    expect(policy.shouldCollect({ rssBytes: 160 * MB, heapBytes: 38 * MB }, 20)).toBe(true);
  });

  test("the engine's own collections lower the low point", () => {
    const policy = new HeapPolicy(settings);
    policy.shouldCollect({ rssBytes: 160 * MB, heapBytes: 60 * MB }, 0);
    policy.shouldCollect({ rssBytes: 160 * MB, heapBytes: 25 * MB }, 10);
    expect(policy.shouldCollect({ rssBytes: 160 * MB, heapBytes: 34 * MB }, 20)).toBe(true);
  });

  test('after a collection of d ms the next waits d × (1 / maxShare − 1), and the low point restarts', () => {
    const policy = new HeapPolicy(settings);
    policy.collected(30 * MB, 1000, 1020);
    expect(policy.collections).toBe(1);
    expect(policy.spentMs).toBe(20);
    // 20 ms at 10 %: nothing before 1020 + 180 ms.
    expect(policy.shouldCollect({ rssBytes: 200 * MB, heapBytes: 90 * MB }, 1199)).toBe(false);
    expect(policy.shouldCollect({ rssBytes: 200 * MB, heapBytes: 90 * MB }, 1200)).toBe(true);
  });

  test('refuses settings that make no sense', () => {
    expect(() => new HeapPolicy({ ...settings, targetBytes: 0 })).toThrow(/targetBytes/);
    expect(() => new HeapPolicy({ ...settings, maxShare: 1 })).toThrow(/maxShare/);
    expect(() => new HeapPolicy({ ...settings, minGrowthBytes: -1 })).toThrow(/minGrowthBytes/);
  });
});

/** An engine whose heap grows by `step` per read until collected back to `live`. */
function fakeEngine(o: { rss: number; live: number; step: number; gcMs: number }) {
  let heap = o.live;
  let clock = 0;
  const engine: HeapEngine & { collections: number } = {
    collections: 0,
    rss: () => o.rss,
    heapSize: () => (heap += o.step),
    fullGC: () => {
      engine.collections++;
      heap = o.live - o.step;
      clock += o.gcMs;
    },
    now: () => clock,
  };
  return { engine, tick: (ms: number) => (clock += ms) };
}

describe('checkHeap', () => {
  test('collects through the engine and keeps the time share', () => {
    const { engine, tick } = fakeEngine({ rss: 200 * MB, live: 20 * MB, step: 2 * MB, gcMs: 30 });
    const policy = new HeapPolicy(settings);
    let collected = 0;
    for (let i = 0; i < 1000; i++) {
      if (checkHeap(policy, engine)) collected++;
      tick(20);
    }
    // 20 s of checks, 30 ms per collection at most 10 % of the time: at most ≈ 2,000 ms / 30 ms ≈ 66.
    expect(collected).toBe(engine.collections);
    expect(collected).toBeGreaterThan(10);
    expect(policy.spentMs).toBeLessThanOrEqual(0.1 * (20_000 + policy.spentMs) + 30);
  });

  test('below the target the engine is never asked to collect', () => {
    const { engine, tick } = fakeEngine({ rss: 100 * MB, live: 20 * MB, step: 5 * MB, gcMs: 30 });
    const policy = new HeapPolicy(settings);
    for (let i = 0; i < 100; i++) {
      checkHeap(policy, engine);
      tick(20);
    }
    expect(engine.collections).toBe(0);
  });

  test('the real engine: a guard starts, collects nothing below its target, and stops', () => {
    const guard = startHeapGuard(2 ** 50);
    guard.stop();
    expect(guard.policy.collections).toBe(0);
  });
});
