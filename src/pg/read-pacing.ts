/**
 * Whether the replication connection waits before its next read (`readCoalesce`,
 * src/pg/connection.ts): only while data arrives fast. Pure: it is told the bytes read and the time.
 *
 * Waiting after a read lets the next one take everything that arrived meanwhile, which saves a
 * system call, a TLS record and a callback per message when messages come back to back (≈ 25% of
 * the source's CPU per event at 100k+ rows/s). At a few thousand transactions a second it saves
 * nothing: each read brings one transaction either way, and the pause, the timer and the resume
 * cost more than they save, and add up to the wait to every change (docs/benchmarks.md, "Issue 13").
 * The rate is measured over windows of RATE_WINDOW_MS; the first window of a stream reads at once.
 */

/** Length of the windows the arrival rate is measured over. */
export const RATE_WINDOW_MS = 50;

/**
 * Bytes per millisecond from which waiting pays: ≈ 8 MB/s, above the ≈ 2.3 MB/s of 5,000 single-row
 * transactions a second, below the 30–40 MB/s of a bulk stream.
 */
export const COALESCE_MIN_BYTES_PER_MS = 8 * 1024;

export class ReadPacing {
  private windowStart = Number.NaN;
  private windowBytes = 0;
  private fast = false;

  constructor(private readonly minBytesPerMs = COALESCE_MIN_BYTES_PER_MS) {}

  /** A read of `bytes` at `now` (ms, monotonic); returns whether to wait before the next read. */
  read(bytes: number, now: number): boolean {
    if (Number.isNaN(this.windowStart)) {
      this.windowStart = now;
    } else if (now - this.windowStart >= RATE_WINDOW_MS) {
      this.fast = this.windowBytes / (now - this.windowStart) >= this.minBytesPerMs;
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    return this.fast;
  }
}
