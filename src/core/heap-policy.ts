/**
 * When to ask the JavaScript engine for a full garbage collection (`memoryTarget`, docs/deploy.md
 * "Memory"). Left to itself, JavaScriptCore lets its old generation grow to several times what
 * survived its last full collection before it collects it again; on the Kafka path, where events
 * live through a produce round trip and so outlive the young collections, that garbage is most of
 * the peak RSS (docs/benchmarks.md, "Where the rest goes").
 *
 * This policy collects when the process's RSS is at or above `targetBytes` and the heap (with its
 * ArrayBuffers) has grown at least `minGrowthBytes` above the smallest size seen since the last
 * forced collection (else there is little to free), and never spends more than `maxShare` of the
 * wall time doing so: after a collection that took d ms, the next waits at least
 * d × (1 / maxShare − 1) ms. Below the target it does nothing, so a process that stays under it
 * (a steady stream) never pauses for it. Pure: the driver (heap-guard.ts) samples and collects.
 */

export interface HeapPolicySettings {
  /** RSS (bytes) at or above which full collections are forced. */
  readonly targetBytes: number;
  /** Least growth of the heap (bytes, ArrayBuffers included) above its low point worth a collection. */
  readonly minGrowthBytes: number;
  /** Largest share of the wall time (0 < share < 1) that forced collections may take. */
  readonly maxShare: number;
}

/** One sample of the process's memory. */
export interface HeapSample {
  /** Resident set size of the process. */
  readonly rssBytes: number;
  /** The engine's heap size, ArrayBuffers and other extra memory included. */
  readonly heapBytes: number;
}

export class HeapPolicy {
  /** Smallest heap size seen since the last forced collection (the engine's own collections lower it too). */
  private low = Number.POSITIVE_INFINITY;
  /** No forced collection before this time (ms). */
  private notBefore = Number.NEGATIVE_INFINITY;
  /** Forced collections so far, and the ms they took. */
  collections = 0;
  spentMs = 0;

  constructor(private readonly settings: HeapPolicySettings) {
    if (!(settings.targetBytes > 0)) throw new RangeError(`targetBytes must be positive, found ${settings.targetBytes}`);
    if (!(settings.minGrowthBytes >= 0)) throw new RangeError(`minGrowthBytes must be at least 0, found ${settings.minGrowthBytes}`);
    if (!(settings.maxShare > 0 && settings.maxShare < 1)) throw new RangeError(`maxShare must be between 0 and 1, found ${settings.maxShare}`);
  }

  /** Takes a sample at `nowMs`; true when a full collection should run now. */
  shouldCollect(sample: HeapSample, nowMs: number): boolean {
    if (sample.heapBytes < this.low) this.low = sample.heapBytes;
    return sample.rssBytes >= this.settings.targetBytes && nowMs >= this.notBefore && sample.heapBytes - this.low >= this.settings.minGrowthBytes;
  }

  /** A forced collection ran from `startMs` to `endMs` and left the heap at `heapBytes`. */
  collected(heapBytes: number, startMs: number, endMs: number): void {
    const took = Math.max(0, endMs - startMs);
    this.low = heapBytes;
    this.notBefore = endMs + took * (1 / this.settings.maxShare - 1);
    this.collections++;
    this.spentMs += took;
  }
}
