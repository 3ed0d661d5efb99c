/**
 * The process and runtime metrics that prom-client's defaults exposed (same names and help), read when
 * scraped: nothing runs between scrapes. Linux-only ones come from /proc and are left out elsewhere;
 * a reading that fails leaves its metric without a sample.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { MetricSnapshot, MetricType, Sample } from './exposition.ts';
import type { Collectable } from './metric.ts';
import type { Registry } from './registry.ts';

interface Readings {
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
  /** /proc/self/status fields in bytes (VmSize, VmData). */
  status: Map<string, number> | undefined;
  openFds: number | undefined;
  maxFds: number | undefined;
  eventLoopLag: number;
}

/** A metric whose samples are computed from the readings of the current scrape. */
class ReadAtScrape implements Collectable {
  constructor(
    readonly name: string,
    private readonly type: MetricType,
    private readonly help: string,
    private readonly read: () => Sample[],
  ) {}

  get(): MetricSnapshot {
    return { name: this.name, help: this.help, type: this.type, values: this.read() };
  }

  reset(): void {}
}

const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime());

export function registerProcessMetrics(registry: Registry): void {
  const linux = process.platform === 'linux';
  let now: Readings | undefined;
  registry.addCollector(async () => {
    now = await read(linux);
  });
  const add = (name: string, type: MetricType, help: string, value: (r: Readings) => number | undefined) =>
    registry.registerMetric(new ReadAtScrape(name, type, help, () => {
      const v = now === undefined ? undefined : value(now);
      return v === undefined ? [] : [{ labels: {}, value: v }];
    }));

  add('process_cpu_user_seconds_total', 'counter', 'Total user CPU time spent in seconds.', (r) => r.cpu.user / 1e6);
  add('process_cpu_system_seconds_total', 'counter', 'Total system CPU time spent in seconds.', (r) => r.cpu.system / 1e6);
  add('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', (r) => (r.cpu.user + r.cpu.system) / 1e6);
  add('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', () => startTimeSeconds);
  add('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', (r) => r.memory.rss);
  if (linux) {
    add('process_virtual_memory_bytes', 'gauge', 'Virtual memory size in bytes.', (r) => r.status?.get('VmSize'));
    add('process_heap_bytes', 'gauge', 'Process heap size in bytes.', (r) => r.status?.get('VmData'));
    add('process_open_fds', 'gauge', 'Number of open file descriptors.', (r) => r.openFds);
    add('process_max_fds', 'gauge', 'Maximum number of open file descriptors.', (r) => r.maxFds);
  }
  add('nodejs_eventloop_lag_seconds', 'gauge', 'Lag of event loop in seconds.', (r) => r.eventLoopLag);
  add('nodejs_heap_size_total_bytes', 'gauge', 'Process heap size from Node.js in bytes.', (r) => r.memory.heapTotal);
  add('nodejs_heap_size_used_bytes', 'gauge', 'Process heap size used from Node.js in bytes.', (r) => r.memory.heapUsed);
  add('nodejs_external_memory_bytes', 'gauge', 'Node.js external memory size in bytes.', (r) => r.memory.external);

  const [major = '', minor = '', patch = ''] = process.version.slice(1).split('.');
  const versionLabels = { version: process.version, major, minor, patch };
  registry.registerMetric(new ReadAtScrape('nodejs_version_info', 'gauge', 'Node.js version info.', () => [{ labels: versionLabels, value: 1 }]));
}

async function read(linux: boolean): Promise<Readings> {
  return {
    cpu: process.cpuUsage(),
    memory: process.memoryUsage(),
    status: linux ? attempt(readStatus) : undefined,
    openFds: linux ? attempt(countOpenFds) : undefined,
    maxFds: linux ? attempt(readMaxFds) : undefined,
    eventLoopLag: await eventLoopLag(),
  };
}

/** How late a callback queued now runs: the time the event loop takes to get back to it. */
function eventLoopLag(): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => setImmediate(() => resolve((performance.now() - start) / 1000)));
}

function attempt<T>(reading: () => T): T | undefined {
  try {
    return reading();
  } catch {
    return undefined;
  }
}

function readStatus(): Map<string, number> {
  const fields = new Map<string, number>();
  for (const match of readFileSync('/proc/self/status', 'utf8').matchAll(/^(Vm\w+):\s+(\d+) kB$/gm)) {
    fields.set(match[1] as string, Number(match[2]) * 1024);
  }
  return fields;
}

/** The listing itself holds one descriptor open on /proc/self/fd: not counted. */
function countOpenFds(): number {
  return readdirSync('/proc/self/fd').length - 1;
}

/** The soft limit; undefined when unlimited. */
function readMaxFds(): number | undefined {
  const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match ? Number(match[1]) : undefined;
}
