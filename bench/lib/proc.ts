/** Measuring a consumer process from /proc, and the small statistics the benchmarks print. */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ on Linux: /proc times are in 1/100 s. */
export const CLK_TCK = 100;

/** One /proc sample of a live process. */
export interface ProcSample {
  /** utime + stime of all threads, in µs. */
  cpuUs: number;
  rssKb: number;
  hwmKb: number;
  /** Main thread (from /proc/PID/schedstat): time on a CPU and time runnable but waiting for one, in ms. */
  mainRunMs: number;
  mainWaitMs: number;
}

/** CPU and memory of a live process from /proc; undefined once it is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" of the command name: state is field 3; utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { cpuUs: (ticks * 1_000_000) / CLK_TCK, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), mainRunMs: (run ?? 0) / 1e6, mainWaitMs: (wait ?? 0) / 1e6 };
  } catch {
    return undefined;
  }
}

/**
 * CPU ms of a live process's threads, summed by thread name (main thread: "main"; Bun's are
 * "JITWorker" for the JIT compilers, "HeapHelper" for the garbage collector's helpers, "Bun Pool N"
 * for its I/O pool, grouped as "Bun Pool"). Empty once the process is gone.
 */
export function threadCpuMs(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/ \d+$/, '');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
    }
  } catch {
    // Gone, or a thread ended while reading.
  }
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
