/**
 * Runs the heap policy (heap-policy.ts) in the process for `memoryTarget` (docs/deploy.md,
 * "Memory"): every CHECK_MS it reads the RSS and JavaScriptCore's heap size (bun:jsc `heapSize()`,
 * ArrayBuffers included) and, when the policy says so, runs a synchronous full collection
 * (`fullGC()`). The timer is unref'd: it never keeps the process alive.
 */
import { fullGC, heapSize } from 'bun:jsc';
import { HeapPolicy } from './heap-policy.ts';

/** How often memory is sampled: ≈ 1–3 MB of allocation at 100k events/s; both reads are cheap. */
const CHECK_MS = 20;
/** Forced collections take at most this share of the wall time (≈ 25 ms each on the Kafka path). */
export const MAX_GC_SHARE = 0.1;
/** Heap growth below which a collection would free too little to be worth its pause. */
export const MIN_GROWTH_BYTES = 8 * 2 ** 20;

/** What the guard needs of the engine and the clock (tests give their own). */
export interface HeapEngine {
  rss(): number;
  heapSize(): number;
  fullGC(): void;
  now(): number;
}

const bunEngine: HeapEngine = {
  rss: () => process.memoryUsage.rss(),
  heapSize,
  fullGC: () => void fullGC(),
  now: () => performance.now(),
};

/** One check: samples memory and collects when the policy says so. Returns whether it collected. */
export function checkHeap(policy: HeapPolicy, engine: HeapEngine): boolean {
  if (!policy.shouldCollect({ rssBytes: engine.rss(), heapBytes: engine.heapSize() }, engine.now())) return false;
  const started = engine.now();
  engine.fullGC();
  policy.collected(engine.heapSize(), started, engine.now());
  return true;
}

/** A running guard: its policy's counts, and how to stop it. */
export interface HeapGuard {
  readonly policy: HeapPolicy;
  stop(): void;
}

/** Starts checking memory every CHECK_MS against `targetBytes` of RSS. */
export function startHeapGuard(targetBytes: number, engine: HeapEngine = bunEngine): HeapGuard {
  const policy = new HeapPolicy({ targetBytes, minGrowthBytes: MIN_GROWTH_BYTES, maxShare: MAX_GC_SHARE });
  const timer = setInterval(() => checkHeap(policy, engine), CHECK_MS);
  timer.unref();
  return { policy, stop: () => clearInterval(timer) };
}
