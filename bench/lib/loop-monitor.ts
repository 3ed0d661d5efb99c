/**
 * Preloaded into the streamer by bench/pg-kafka.ts --trace (bun --preload). With
 * $PSQL_STREAMER_LOOP_TRACE: records every event-loop stall of the main thread longer than STALL_MS
 * (a TICK_MS timer that fired late) as [wall µs when it ended, µs late]. With
 * $PSQL_STREAMER_MEM_TRACE: every MEM_MS, [wall ms, rss, heapUsed, heapTotal, external,
 * arrayBuffers] from process.memoryUsage(), [RssAnon, RssFile] from /proc/self/status and the native
 * allocator's (mimalloc's) bytes in use and committed (bun:jsc memoryUsage()). Both written as JSON lines, the last on exit.
 * Benchmark instrumentation, not part of the product.
 */
import { appendFileSync, readFileSync } from 'node:fs';

const STALL_MS = 4;
const TICK_MS = 2;
const MEM_MS = 100;

function recorder(file: string): { push(line: unknown): void } {
  let lines: string[] = [];
  const flush = () => {
    if (lines.length > 0) appendFileSync(file, lines.join('\n') + '\n');
    lines = [];
  };
  process.on('exit', flush);
  return {
    push(line) {
      lines.push(JSON.stringify(line));
      if (lines.length >= 256) flush();
    },
  };
}

const loopFile = process.env.PSQL_STREAMER_LOOP_TRACE;
if (loopFile) {
  const out = recorder(loopFile);
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - TICK_MS;
    if (late > STALL_MS) out.push([Math.round((performance.timeOrigin + now) * 1000), Math.round(late * 1000)]);
    last = now;
  }, TICK_MS).unref();
}

const memFile = process.env.PSQL_STREAMER_MEM_TRACE;
if (memFile) {
  const out = recorder(memFile);
  const jsc = await import('bun:jsc');
  setInterval(() => {
    const m = process.memoryUsage();
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    const native = jsc.memoryUsage();
    out.push([Date.now(), m.rss, m.heapUsed, m.heapTotal, m.external, m.arrayBuffers, kb('RssAnon'), kb('RssFile'), native.current, native.currentCommit]);
    if (m.rss > highest + 4 * 2 ** 20) {
      highest = m.rss;
      maps.push(mappings());
      maps.push(nativeHeap(jsc.heapStats()));
    }
  }, MEM_MS).unref();
  // At each new RSS high (4 MiB steps): the resident anonymous mappings by size, to tell the JS heap
  // (libpas), the JIT's executable memory and the native allocator apart; the last set written at exit.
  let highest = 0;
  const maps = recorder(`${memFile}.maps`);
}

// Experiment knob: an asynchronous full collection every $PSQL_STREAMER_GC_MS ms.
const gcMs = Number(process.env.PSQL_STREAMER_GC_MS ?? 0);
if (gcMs > 0) setInterval(() => Bun.gc(false), gcMs).unref();

// Experiment knob: a synchronous full collection whenever the heap (with its ArrayBuffers) grew
// $PSQL_STREAMER_FULLGC_MB above its size after the last one; the time spent goes to stderr at exit.
const fullMb = Number(process.env.PSQL_STREAMER_FULLGC_MB ?? 0);
if (fullMb > 0) {
  const jsc = await import('bun:jsc');
  let floor = jsc.heapSize();
  let spent = 0;
  let count = 0;
  setInterval(() => {
    if (jsc.heapSize() < floor + fullMb * 2 ** 20) return;
    const t = performance.now();
    jsc.fullGC();
    spent += performance.now() - t;
    count++;
    floor = jsc.heapSize();
  }, 20).unref();
  process.on('exit', () => process.stderr.write(`[loop-monitor] ${count} full collections, ${spent.toFixed(0)} ms\n`));
}

/** Resident KiB of the process's mappings, grouped by permissions and size class, largest first. */
function mappings(): unknown {
  const text = readFileSync('/proc/self/smaps', 'utf8');
  const groups = new Map<string, number>();
  let key = '';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const size = (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024;
      const name = head[5] || (head[4] === '0' ? 'anon' : 'file');
      key = `${head[3]} ${name.includes('/') ? name.split('/').pop() : name} ${size >= 65536 ? `${head[1]}:${Math.round(size / 1024)}M` : size >= 4096 ? '4-64M' : size >= 1024 ? '1-4M' : '<1M'}`;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) groups.set(key, (groups.get(key) ?? 0) + Number(rss[1]));
  }
  return [Date.now(), [...groups].filter(([, v]) => v >= 1024).sort((a, b) => b[1] - a[1])];
}

/** The native allocator's (mimalloc's) counts at an RSS high, in MiB: what is committed against what is in use. */
function nativeHeap(stats: { heapCapacity: number; extraMemorySize: number; mimalloc?: Record<string, unknown> }): unknown {
  const mi = (stats.mimalloc ?? {}) as Record<string, { current?: number } | number>;
  const mb = (key: string) => {
    const v = mi[key];
    return Math.round((typeof v === 'number' ? v : (v?.current ?? 0)) / 2 ** 20);
  };
  return [Date.now(), {
    heapCapacity: Math.round(stats.heapCapacity / 2 ** 20), extra: Math.round(stats.extraMemorySize / 2 ** 20),
    committed: mb('committed'), mallocNormal: mb('malloc_normal'), mallocHuge: mb('malloc_huge'), pageCommitted: mb('page_committed'),
    reserved: mb('reserved'), purged: mb('purged'), reset: mb('reset'),
  }];
}

// $PSQL_STREAMER_HEAP_CENSUS=FILE: every 2 s ($PSQL_STREAMER_HEAP_CENSUS_MS), a full collection, then
// what survived it (the live set the engine sizes its next collection from): object counts by type,
// heap and extra memory.
const censusFile = process.env.PSQL_STREAMER_HEAP_CENSUS;
if (censusFile) {
  const jsc = await import('bun:jsc');
  const out = recorder(censusFile);
  setInterval(() => {
    jsc.fullGC();
    const s = jsc.heapStats();
    const m = process.memoryUsage();
    const types = Object.entries(s.objectTypeCounts as Record<string, number>).sort((a, b) => b[1] - a[1]).slice(0, 25);
    out.push({ at: Date.now(), heapSize: s.heapSize, heapCapacity: s.heapCapacity, extra: s.extraMemorySize, objects: s.objectCount, arrayBuffers: m.arrayBuffers, rss: m.rss, types });
    if (snapshotOver > 0 && s.heapSize > snapshotOver && !snapshotTaken) {
      snapshotTaken = true;
      out.push({ at: Date.now(), heapSnapshot: heapSnapshotSummary() });
    }
  }, Number(process.env.PSQL_STREAMER_HEAP_CENSUS_MS ?? 2000)).unref();
}

// $PSQL_STREAMER_HEAP_SNAPSHOT_OVER=BYTES (with the census): once the live heap is above it, a heap
// snapshot's summary joins the census: bytes per class and the largest cells.
const snapshotOver = Number(process.env.PSQL_STREAMER_HEAP_SNAPSHOT_OVER ?? 0);
let snapshotTaken = false;

function heapSnapshotSummary(): unknown {
  const snap = Bun.generateHeapSnapshot() as unknown as { nodes: number[]; nodeClassNames: string[] };
  const bytes = new Map<string, { count: number; bytes: number }>();
  const largest: Array<[string, number]> = [];
  for (let i = 0; i < snap.nodes.length; i += 4) {
    const name = snap.nodeClassNames[snap.nodes[i + 2]!] ?? '?';
    const size = snap.nodes[i + 1]!;
    const entry = bytes.get(name) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += size;
    bytes.set(name, entry);
    if (size >= 65536) largest.push([name, size]);
  }
  largest.sort((a, b) => b[1] - a[1]);
  return { byClass: [...bytes].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25), largest: largest.slice(0, 40), retainers: retainersOfLarge(snap) };
}

/** For cells of 128 KB or more: what holds them, four steps up (class names and edge names), counted. */
function retainersOfLarge(snap: { nodes: number[]; nodeClassNames: string[]; edges?: number[]; edgeNames?: string[]; edgeTypes?: string[] }): Array<[string, number]> {
  const { nodes, edges = [], edgeNames = [], edgeTypes = [] } = snap;
  const classOf = new Map<number, string>();
  const targets: number[] = [];
  for (let i = 0; i < nodes.length; i += 4) {
    classOf.set(nodes[i]!, snap.nodeClassNames[nodes[i + 2]!] ?? '?');
    if (nodes[i + 1]! >= 131072) targets.push(nodes[i]!);
  }
  const parents = new Map<number, Array<[number, string]>>();
  for (let i = 0; i < edges.length; i += 4) {
    const to = edges[i + 1]!;
    const type = edgeTypes[edges[i + 2]!] ?? '?';
    const label = type === 'Property' || type === 'Variable' ? edgeNames[edges[i + 3]!] ?? '?' : type === 'Index' ? '[]' : '';
    let list = parents.get(to);
    if (list === undefined) parents.set(to, (list = []));
    list.push([edges[i]!, label]);
  }
  const chains = new Map<string, number>();
  for (const target of targets) {
    let path = classOf.get(target) ?? '?';
    let at = target;
    for (let depth = 0; depth < 4; depth++) {
      const up = parents.get(at)?.[0];
      if (up === undefined) break;
      path = `${classOf.get(up[0]) ?? '?'}.${up[1]} > ${path}`;
      at = up[0];
    }
    chains.set(path, (chains.get(path) ?? 0) + 1);
  }
  return [...chains].sort((a, b) => b[1] - a[1]).slice(0, 15);
}
