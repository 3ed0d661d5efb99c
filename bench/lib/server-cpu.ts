/**
 * CPU time of the servers a benchmark runs against, from /proc: the Kafka broker (the pid file in
 * $PSQL_STREAMER_KAFKA_DIR, as scripts/kafka/start writes it) and the PostgreSQL cluster (the
 * postmaster of $PSQL_STREAMER_PG_DIR with every live child, plus the children it has reaped:
 * a backend that ended during a run is counted in the postmaster's cutime/cstime). Sampled before
 * and after a run, the difference is what the servers spent meanwhile (docs/benchmarks.md); the
 * machine's own counters tell how much else ran meanwhile (another engineer's tests) and what the
 * hypervisor took.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLK_TCK } from './proc.ts';

/** utime, stime, cutime, cstime of a process in µs; undefined once it is gone. */
function times(pid: number): { self: number; children: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const us = (ticks: number) => (ticks * 1_000_000) / CLK_TCK;
    return { ppid: Number(f[1]), self: us(Number(f[11]) + Number(f[12])), children: us(Number(f[13]) + Number(f[14])) };
  } catch {
    return undefined;
  }
}

function pidFrom(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** CPU µs used so far by the broker and by the PostgreSQL cluster (undefined when not known). */
export function serverCpuUs(env: NodeJS.ProcessEnv = process.env): { brokerUs?: number; pgUs?: number } {
  const out: { brokerUs?: number; pgUs?: number } = {};
  const kafkaDir = env.PSQL_STREAMER_KAFKA_DIR;
  const broker = kafkaDir ? pidFrom(join(kafkaDir, 'pid')) : undefined;
  if (broker !== undefined) {
    const t = times(broker);
    if (t !== undefined) out.brokerUs = t.self;
  }
  const pgDir = env.PSQL_STREAMER_PG_DIR;
  const postmaster = pgDir ? pidFrom(join(pgDir, 'data', 'postmaster.pid')) : undefined;
  const root = postmaster === undefined ? undefined : times(postmaster);
  if (postmaster !== undefined && root !== undefined) {
    let total = root.self + root.children;
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === postmaster) continue;
      const t = times(pid);
      if (t !== undefined && t.ppid === postmaster) total += t.self;
    }
    out.pgUs = total;
  }
  return out;
}

/** The machine's CPU time so far from /proc/stat, in µs: busy (all but idle and iowait) and stolen by the hypervisor. */
export function machineCpuUs(): { busyUs: number; stealUs: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    const us = (ticks: number) => (ticks * 1_000_000) / CLK_TCK;
    return { busyUs: us(user + nice + system + irq + softirq), stealUs: us(steal) };
  } catch {
    return { busyUs: 0, stealUs: 0 };
  }
}

const CALIBRATION_BYTES = 16 * 2 ** 20;
let calibrationBuffer: Uint32Array | undefined;

/**
 * The machine's speed right now: CPU ns (of this process) per step of a fixed loop that hashes and
 * walks 16 MB (beyond the caches). On an otherwise idle machine it should be the same before every
 * run; when it rises, the same work costs more CPU time for every process (the host is busier), and
 * a run's CPU per row rises with it without any change in the software.
 */
export function calibrationNs(steps = 4_000_000): number {
  calibrationBuffer ??= new Uint32Array(CALIBRATION_BYTES / 4).map((_, i) => (i * 2654435761) >>> 0);
  const words = calibrationBuffer;
  const mask = words.length - 1;
  const before = process.cpuUsage();
  let h = 0x811c9dc5;
  let at = 0;
  for (let i = 0; i < steps; i++) {
    at = (at + 4099 + (h & 1023)) & mask;
    h = Math.imul(h ^ words[at]!, 0x01000193);
  }
  const used = process.cpuUsage(before);
  if (h === 42) process.stderr.write(''); // keep the loop
  return ((used.user + used.system) * 1000) / steps;
}
