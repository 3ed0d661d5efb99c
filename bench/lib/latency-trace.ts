/**
 * Where the latency tail of bench/pg-kafka.ts's latency phase comes from (its --trace option): the
 * messages' commit → event delays set against the streamer's event-loop stalls (loop-monitor.ts)
 * and how long the streamer's main thread and the walsender waited for a CPU (/proc schedstat,
 * sampled every SAMPLE_MS). Benchmark instrumentation, not part of the product.
 */
import { sampleProc } from './proc.ts';

export const SAMPLE_MS = 20;

/** [wall ms, streamer main-thread run ms, its wait-for-CPU ms, walsender run ms, walsender wait ms] */
export type SchedSample = [number, number, number, number, number];

/** Samples the two processes' schedstat every SAMPLE_MS until `stop()`. */
export function sampleSched(streamerPid: number, walsenderPid: number | undefined): { stop(): SchedSample[] } {
  const out: SchedSample[] = [];
  let running = true;
  void (async () => {
    while (running) {
      const s = sampleProc(streamerPid);
      const w = walsenderPid === undefined ? undefined : sampleProc(walsenderPid);
      if (s) out.push([Date.now(), s.mainRunMs, s.mainWaitMs, w?.mainRunMs ?? NaN, w?.mainWaitMs ?? NaN]);
      await Bun.sleep(SAMPLE_MS);
    }
  })();
  return { stop: () => { running = false; return out; } };
}

/** A stall: [wall µs when it ended, µs late]. */
export type Stall = [number, number];

export interface TraceSummary {
  stalls: { count: number; totalMs: number; p99Ms: number; maxMs: number; over10ms: number; over25ms: number };
  /** Messages with commit → event above `slowMs`, and of them how many waited through a stall ≥ 10 ms. */
  slow: { slowMs: number; count: number; throughStall: number };
  /** CPU waits over the measured window (ms of runnable-but-not-running per second of wall time). */
  waitMsPerSec: { streamer: number; walsender: number };
  /** The worst 100 ms windows by their slowest commit → event, with what happened in them. */
  worst: Array<{ at: string; maxToEventMs: number; stallMs: number; streamerWaitMs: number; walsenderWaitMs: number }>;
}

/** Sets messages ([append ms, commit µs, processed µs]) against stalls and CPU waits. */
export function summarizeTrace(messages: Array<[number, number, number]>, stalls: Stall[], sched: SchedSample[], slowMs = 25): TraceSummary {
  const lates = stalls.map((s) => s[1] / 1000).sort((a, b) => a - b);
  const from = Math.min(...messages.map((m) => m[1])) / 1000;
  const to = Math.max(...messages.map((m) => m[1])) / 1000;
  const inWindow = stalls.filter((s) => s[0] / 1000 >= from && s[0] / 1000 <= to + 1000);
  const slow = messages.filter(([, c, p]) => (p - c) / 1000 > slowMs);
  // A stall [end - late, end] delays a message committed before its end and processed after it.
  const throughStall = slow.filter(([, c, p]) => inWindow.some(([end, late]) => late >= 10_000 && end >= c && end - late <= p && end <= p + 2_000)).length;
  const schedIn = sched.filter((s) => s[0] >= from && s[0] <= to);
  const span = schedIn.length > 1 ? (schedIn.at(-1)![0] - schedIn[0]![0]) / 1000 : NaN;
  const waitPerSec = (i: 2 | 4) => (schedIn.length > 1 ? (schedIn.at(-1)![i] - schedIn[0]![i]) / span : NaN);
  const windows = new Map<number, number>();
  for (const [, c, p] of messages) {
    const w = Math.floor(c / 100_000);
    windows.set(w, Math.max(windows.get(w) ?? 0, (p - c) / 1000));
  }
  const waitIn = (t0: number, t1: number, i: 2 | 4) => {
    const a = sched.filter((s) => s[0] >= t0 && s[0] <= t1);
    return a.length > 1 ? a.at(-1)![i] - a[0]![i] : NaN;
  };
  const worst = [...windows].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([w, maxToEventMs]) => {
    const t0 = w * 100;
    const t1 = t0 + 100 + maxToEventMs;
    return {
      at: new Date(t0).toISOString().slice(11, 23),
      maxToEventMs: Math.round(maxToEventMs),
      stallMs: Math.round(inWindow.filter(([end]) => end / 1000 >= t0 && end / 1000 <= t1).reduce((sum, s) => sum + s[1], 0) / 1000),
      streamerWaitMs: Math.round(waitIn(t0, t1, 2)),
      walsenderWaitMs: Math.round(waitIn(t0, t1, 4)),
    };
  });
  return {
    stalls: {
      count: inWindow.length,
      totalMs: Math.round(inWindow.reduce((sum, s) => sum + s[1], 0) / 1000),
      p99Ms: lates.length ? lates[Math.floor(lates.length * 0.99)]! : 0,
      maxMs: lates.at(-1) ?? 0,
      over10ms: lates.filter((l) => l >= 10).length,
      over25ms: lates.filter((l) => l >= 25).length,
    },
    slow: { slowMs, count: slow.length, throughStall },
    waitMsPerSec: { streamer: waitPerSec(2), walsender: waitPerSec(4) },
    worst,
  };
}
