#!/usr/bin/env bun
/**
 * Snapshot benchmark (docs/benchmarks.md, "Snapshots"): copying a table of --rows rows (default
 * 1M, the benchmark table's 8 mixed columns, bench/lib/bench-table.ts) three ways, one after the
 * other on the same server, in the same run:
 *   COPY       `psql -X -c "COPY table TO STDOUT"` into /dev/null (the baseline: PostgreSQL's own
 *              fastest way out; one warm-up run first, not counted, so every reader finds the
 *              table in the page cache);
 *   file       psql-streamer, `snapshot = "initial_only"`, file sink at /dev/null (every row
 *              encoded as its event JSON), product defaults otherwise (snapshotChunkSize 5,000);
 *   kafka      the same to a Kafka sink (requiredAcks = -1, a topic of --partitions partitions,
 *              one local broker); the topic's size is checked afterwards.
 * Before the counted runs, each psql-streamer reader (of each checkout) runs once uncounted too: a
 * fresh broker spends 2–3× the CPU per message on the first million messages it takes (its JIT
 * compiles the produce path), which on 2 cores slowed the first Kafka run of every invocation;
 * --cold leaves these warm-up runs out (docs/benchmarks.md, "Snapshot to Kafka: the sink's CPU per row").
 * psql-streamer creates its slot, copies, and exits 0 by itself once every row is delivered.
 * Measured per reader: rows/s from spawn to exit, rows/s of the copy alone (from the log line that
 * starts the initial snapshot to exit), CPU µs per row (user + system of the process, from its
 * rusage), peak RSS (VmHWM from /proc, sampled every 10 ms: rusage's max RSS would count the
 * benchmark's own memory, which a child has between fork and exec). The server's own work is not
 * counted for anyone.
 * Run it through scripts/bench-snapshot, which starts a fresh throwaway PostgreSQL cluster and Kafka
 * broker (this script expects PGHOST/PGPORT/PGUSER/PGDATABASE, PSQL_STREAMER_PG_BIN and
 * KAFKA_BROKERS, as `scripts/pg start` and `scripts/kafka/start` print them).
 *
 *   bun bench/snapshot.ts [--rows N] [--runs N] [--readers copy,file,kafka] [--partitions N]
 *                         [--chunk-size N] [--engine-own] [--memory-target SIZE] [--cpu-prof DIR] [--json FILE] [--compare DIR]
 *                         [--mem-trace FILE] [--logs DIR] [--cold]
 *                         [--streamer-env K=V]... [--source-key 'K = V']... [--sink-key 'K = V']... [--burners N]
 *   --engine-own  runs psql-streamer with BUN_JSC_forceRAMSize=0: the engine's own memory sizing, not the
 *                streamer's defaults (docs/deploy.md, "Memory")
 *   --memory-target SIZE   psql-streamer with memoryTarget = SIZE (docs/deploy.md, "Memory")
 *   --cpu-prof    runs psql-streamer under `bun --cpu-prof`, profiles into DIR
 *   --mem-trace   psql-streamer's memory every 100 ms (bench/lib/loop-monitor.ts) into FILE.<reader>.<run>
 *   --logs DIR    psql-streamer's log kept as DIR/<reader>[-compare].<run>.log after a first line with the
 *                 time it was spawned (where a run's start-up goes; "debug" would log every event)
 *   --cold        no uncounted warm-up run of the psql-streamer readers (a cold broker in run 1)
 *   --streamer-env K=V   (repeatable) psql-streamer runs with K=V in its environment, on top of the
 *                 product's engine settings (e.g. BUN_JSC_logGC=true with --logs)
 *   --source-key 'K = V'  (repeatable) a line added to psql-streamer's [source.bench] (e.g. 'batchSize = 4096')
 *   --sink-key 'K = V'    (repeatable) a line added to the Kafka reader's [sink.kafka] (e.g. 'batchSize = 500')
 *   --burners N   N busy loops (a process each) beside every run after the table's warm-up read: the
 *                 peak RSS under CPU starvation (a slow loop must not let memory grow); rates and
 *                 ratios then say little
 *   --compare     also runs the psql-streamer of the checkout at DIR (e.g. main, set up with
 *                 scripts/setup) in every run, the order of the two alternating from run to run
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { benchTopicSize, createBenchTopic } from './lib/kafka.ts';
import { benchRowsSql, benchTableDdl } from './lib/bench-table.ts';
import { fmt, median, sampleProc, threadCpuMs } from './lib/proc.ts';
import { calibrationNs, machineCpuUs, serverCpuUs } from './lib/server-cpu.ts';
import { ENGINE_DEFAULTS } from '../src/core/engine-settings.ts';
import { exitWithHelpIf, pgAdminClient, pgTargetFromEnv } from './lib/setup.ts';

const REPO = join(import.meta.dir, '..');
const MAIN = join(REPO, 'src', 'main.ts');

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '1' },
    readers: { type: 'string', default: 'copy,file,kafka' },
    partitions: { type: 'string', default: '3' },
    'chunk-size': { type: 'string' },
    'engine-own': { type: 'boolean', default: false },
    'memory-target': { type: 'string' },
    'cpu-prof': { type: 'string' },
    json: { type: 'string' },
    compare: { type: 'string' },
    'mem-trace': { type: 'string' },
    logs: { type: 'string' },
    cold: { type: 'boolean', default: false },
    'streamer-env': { type: 'string', multiple: true },
    'source-key': { type: 'string', multiple: true },
    'sink-key': { type: 'string', multiple: true },
    burners: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});
exitWithHelpIf(args.help, import.meta.path);

const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
const READERS = (args.readers ?? '').split(',').filter(Boolean) as Array<'copy' | 'file' | 'kafka'>;
const PARTITIONS = Number(args.partitions);
const PG = pgTargetFromEnv('scripts/bench-snapshot');
const BROKERS = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (READERS.includes('kafka') && BROKERS.length === 0) throw new Error('KAFKA_BROKERS is not set: run this through scripts/bench-snapshot');

const sql = pgAdminClient(PG);
const log = (line: string) => process.stderr.write(`[bench-snapshot] ${line}\n`);
const TABLE = 'bench_snapshot';
const PUBLICATION = 'bench_snapshot_pub';

/** --compare: another checkout whose psql-streamer runs beside this one's, in the same runs. */
const COMPARE = args.compare === undefined ? undefined : join(args.compare, 'src', 'main.ts');

interface Measured {
  reader: 'copy' | 'file' | 'kafka';
  /** Which checkout's psql-streamer: this one's, or --compare's. */
  tree: 'this' | 'compare';
  run: number;
  wallMs: number;
  /** From the copy's first log line to exit (psql-streamer only). */
  copyMs?: number;
  rowsPerSec: number;
  copyRowsPerSec?: number;
  cpuUsPerRow: number;
  /** The streamer's user and system CPU µs per row, its voluntary context switches per 1,000 rows. */
  userUsPerRow?: number;
  sysUsPerRow?: number;
  wakesPer1kRows?: number;
  /** CPU µs per row of the Kafka broker and of the PostgreSQL cluster over the reader's run (bench/lib/server-cpu.ts). */
  brokerUsPerRow?: number;
  pgUsPerRow?: number;
  /**
   * The machine's other work over the run, in cores (CPU s per wall s): busy time of the whole machine
   * less this process, the broker and the cluster (another engineer's tests); and the hypervisor's steal.
   */
  otherCores?: number;
  stealCores?: number;
  /** The machine's speed just before the run (bench/lib/server-cpu.ts calibrationNs: higher is slower). */
  calibrationNs?: number;
  /** The streamer's CPU µs per row by thread: main, HeapHelper (garbage collection), JITWorker, the rest. */
  threadUsPerRow?: Record<string, number>;
  peakRssMb: number;
}

/** Runs a child to its end; its wall time, rusage, stderr, and when `mark` first appeared in stderr. */
async function measure(cmd: string[], env: Record<string, string>, mark?: string): Promise<{
  wallMs: number; markMs?: number; cpuUs: number; userUs: number; sysUs: number; voluntary: number; brokerUs?: number; pgUs?: number;
  machineBusyUs: number; stealUs: number;
  threads: Record<string, number>; peakRssKb: number; stderr: string; code: number;
}> {
  const serversBefore = serverCpuUs();
  const machineBefore = machineCpuUs();
  const started = performance.now();
  const proc = Bun.spawn(cmd, { stdout: 'ignore', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, ...env } });
  let peakRssKb = 0;
  const sampler = setInterval(() => {
    const sample = sampleProc(proc.pid);
    if (sample !== undefined) peakRssKb = Math.max(peakRssKb, sample.rssKb, sample.hwmKb);
  }, 10);
  // CPU by thread (main, garbage collector helpers, JIT), the last sample before the process ended.
  let threads: Record<string, number> = {};
  const threadSampler = setInterval(() => {
    const t = threadCpuMs(proc.pid);
    if (Object.keys(t).length > 0) threads = t;
  }, 100);
  let stderr = '';
  let markMs: number | undefined;
  const decoder = new TextDecoder();
  for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
    stderr += decoder.decode(chunk, { stream: true });
    if (mark !== undefined && markMs === undefined && stderr.includes(mark)) markMs = performance.now() - started;
  }
  const code = await proc.exited;
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  clearInterval(threadSampler);
  const usage = proc.resourceUsage();
  const serversAfter = serverCpuUs();
  const machineAfter = machineCpuUs();
  const diff = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : b - a);
  return {
    wallMs, markMs, cpuUs: Number(usage?.cpuTime.total ?? 0n), userUs: Number(usage?.cpuTime.user ?? 0n), sysUs: Number(usage?.cpuTime.system ?? 0n),
    voluntary: usage?.contextSwitches.voluntary ?? 0,
    brokerUs: diff(serversBefore.brokerUs, serversAfter.brokerUs), pgUs: diff(serversBefore.pgUs, serversAfter.pgUs),
    machineBusyUs: machineAfter.busyUs - machineBefore.busyUs, stealUs: machineAfter.stealUs - machineBefore.stealUs,
    threads, peakRssKb, stderr, code,
  };
}

async function runCopy(run: number): Promise<Measured> {
  const m = await measure([join(PG.bin, 'psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', PG.database, '-c', `COPY ${TABLE} TO STDOUT`], {});
  if (m.code !== 0) throw new Error(`psql COPY exited with ${m.code}: ${m.stderr}`);
  return {
    reader: 'copy', tree: 'this', run, wallMs: m.wallMs, rowsPerSec: ROWS / (m.wallMs / 1000), cpuUsPerRow: m.cpuUs / ROWS,
    pgUsPerRow: m.pgUs === undefined ? undefined : m.pgUs / ROWS, peakRssMb: m.peakRssKb / 1024,
  };
}

function streamerConfig(dir: string, slot: string, sink: string, tree: Measured['tree']): string {
  // --compare's checkout too (the same target for both): it must know the key (main does since 2026-12-07).
  const gc = args['memory-target'] === undefined ? '' : `memoryTarget = ${JSON.stringify(args['memory-target'])}\n`;
  return `${gc}
http = "127.0.0.1:0"
boltdb = "${join(dir, 'state.db')}"
logLevel = "info"
shutdownTimeout = "60s"

[source.bench]
type = "postgres"
dsn = "host=${PG.host} port=${PG.port} dbname=${PG.database} user=${PG.user}"
publication = "${PUBLICATION}"
replicationSlot = "${slot}"
snapshot = "initial_only"
${args['chunk-size'] ? `snapshotChunkSize = ${Number(args['chunk-size'])}` : ''}
${(args['source-key'] ?? []).join('\n')}
${sink}`;
}



async function dropSlot(slot: string): Promise<void> {
  await sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${slot} and not active`;
}

async function runStreamer(reader: 'file' | 'kafka', run: number, admin: Admin | undefined, tree: Measured['tree'] = 'this'): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-snapshot-'));
  const slot = `bench_snapshot_${reader}_${run}_${Date.now().toString(36)}`;
  const topic = `bench-snapshot-${run}-${Date.now().toString(36)}`;
  let sink = `
[sink.out]
type = "file"
sources = ["bench"]
path = "/dev/null"
`;
  if (reader === 'kafka') {
    await createBenchTopic(admin!, topic, PARTITIONS);
    sink = `
[sink.kafka]
type = "kafka"
sources = ["bench"]
hosts = ${JSON.stringify(BROKERS)}
handlers = ["passthrough"]
topicFallback = "${topic}"
requiredAcks = -1
${(args['sink-key'] ?? []).join('\n')}
`;
  }
  try {
    const file = join(dir, 'bench.toml');
    writeFileSync(file, streamerConfig(dir, slot, sink, tree));
    // Under --cpu-prof the streamer's restart with its engine settings (execve) would end the profiler
    // with the process: the settings are given here instead, so it does not restart.
    const env: Record<string, string> = args['engine-own'] ? { BUN_JSC_forceRAMSize: '0' } : args['cpu-prof'] ? { ...ENGINE_DEFAULTS } : {};
    // --streamer-env K=V: the product's engine settings plus K=V (a BUN_JSC_* variable would otherwise replace them).
    for (const pair of args['streamer-env'] ?? []) Object.assign(env, ENGINE_DEFAULTS, { [pair.slice(0, pair.indexOf('='))]: pair.slice(pair.indexOf('=') + 1) });
    const profile = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : [];
    if (args['mem-trace']) {
      profile.push('--preload', join(import.meta.dir, 'lib', 'loop-monitor.ts'));
      env.PSQL_STREAMER_MEM_TRACE = `${args['mem-trace']}.${reader}${tree === 'compare' ? '-compare' : ''}.${run}`;
    }
    const calibration = calibrationNs(1_000_000);
    const spawned = new Date().toISOString();
    const m = await measure([process.execPath, ...profile, tree === 'this' ? MAIN : COMPARE!, '-config', file], env, 'Initial snapshot');
    if (args.logs) {
      mkdirSync(args.logs, { recursive: true });
      writeFileSync(join(args.logs, `${reader}${tree === 'compare' ? '-compare' : ''}.${run}.log`), `spawned ${spawned}\n${m.stderr}`);
    }
    if (m.code !== 0) throw new Error(`psql-streamer exited with ${m.code}:\n${m.stderr.slice(-3000)}`);
    const summary = m.stderr.split('\n').filter((l) => /snapshot is done|\[loop-monitor\]|Snapshot \S+ (done|finished)/.test(l)).join('\n  ');
    if (summary) log(`psql-streamer → ${reader}: ${summary}`);
    if (reader === 'kafka') {
      const size = await benchTopicSize(BROKERS, topic);
      if (size !== ROWS) throw new Error(`topic ${topic} holds ${size} messages, expected ${ROWS}`);
    }
    const copyMs = m.markMs === undefined ? undefined : m.wallMs - m.markMs;
    return {
      reader, tree, run, wallMs: m.wallMs, copyMs,
      rowsPerSec: ROWS / (m.wallMs / 1000),
      copyRowsPerSec: copyMs === undefined ? undefined : ROWS / (copyMs / 1000),
      cpuUsPerRow: m.cpuUs / ROWS,
      userUsPerRow: m.userUs / ROWS,
      sysUsPerRow: m.sysUs / ROWS,
      wakesPer1kRows: (m.voluntary * 1000) / ROWS,
      brokerUsPerRow: m.brokerUs === undefined || reader !== 'kafka' ? undefined : m.brokerUs / ROWS,
      pgUsPerRow: m.pgUs === undefined ? undefined : m.pgUs / ROWS,
      threadUsPerRow: byThread(m.threads),
      otherCores: (m.machineBusyUs - m.cpuUs - (m.brokerUs ?? 0) - (m.pgUs ?? 0)) / (m.wallMs * 1000),
      stealCores: m.stealUs / (m.wallMs * 1000),
      calibrationNs: calibration,
      peakRssMb: m.peakRssKb / 1024,
    };
  } finally {
    await dropSlot(slot).catch(() => {});
    if (reader === 'kafka') await admin!.deleteTopics({ topics: [topic] }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function prepareTable(): Promise<void> {
  const began = performance.now();
  await sql.unsafe(`drop publication if exists ${PUBLICATION}`);
  await sql.unsafe(`drop table if exists ${TABLE}`);
  await sql.unsafe(benchTableDdl(TABLE));
  const batch = 100_000;
  for (let from = 1; from <= ROWS; from += batch) await sql.unsafe(benchRowsSql(TABLE, String(from), String(Math.min(ROWS, from + batch - 1))));
  // Hint bits set and the visibility map complete: no reader pays for the first read's writes.
  await sql.unsafe(`vacuum (freeze, analyze) ${TABLE}`);
  await sql.unsafe('checkpoint');
  await sql.unsafe(`create publication ${PUBLICATION} for table ${TABLE}`);
  const [size] = await sql<{ size: string }[]>`select pg_size_pretty(pg_table_size(${TABLE})) as size`;
  log(`table ${TABLE}: ${fmt(ROWS)} rows, ${size?.size} on disk, filled in ${((performance.now() - began) / 1000).toFixed(1)} s`);
}

/** CPU ms by thread name → µs per row of main, HeapHelper, JITWorker and the rest together. */
function byThread(threads: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { main: 0, HeapHelper: 0, JITWorker: 0, other: 0 };
  for (const [name, ms] of Object.entries(threads)) out[name in out ? name : 'other']! += (ms * 1000) / ROWS;
  return out;
}

/** The split of a run's CPU: the streamer's user/system time and wake-ups, the servers' CPU per row. */
function detail(m: Measured): string {
  const parts: string[] = [];
  if (m.userUsPerRow !== undefined) parts.push(`user ${m.userUsPerRow.toFixed(2)} + sys ${m.sysUsPerRow!.toFixed(2)} µs/row, ${m.wakesPer1kRows!.toFixed(1)} waits/1k rows`);
  if (m.threadUsPerRow !== undefined) parts.push(`threads ${Object.entries(m.threadUsPerRow).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(' ')}`);
  if (m.brokerUsPerRow !== undefined) parts.push(`broker ${m.brokerUsPerRow.toFixed(2)} µs/row`);
  // PostgreSQL does the same work in every run of a reader: the streamer's CPU in units of it is far less
  // sensitive to how fast the machine is at the moment than the CPU per row (docs/benchmarks.md).
  if (m.pgUsPerRow !== undefined) parts.push(`PostgreSQL ${m.pgUsPerRow.toFixed(2)} µs/row (streamer ${(m.cpuUsPerRow / m.pgUsPerRow).toFixed(2)}× that)`);
  if (m.otherCores !== undefined) parts.push(`other processes ${m.otherCores.toFixed(2)} cores, steal ${m.stealCores!.toFixed(2)}`);
  if (m.calibrationNs !== undefined) parts.push(`machine ${m.calibrationNs.toFixed(0)} ns/step`);
  return parts.length === 0 ? '' : `; ${parts.join(', ')}`;
}

const results: Measured[] = [];
const burners: Array<ReturnType<typeof Bun.spawn>> = [];
const admin = READERS.includes('kafka') ? new Admin({ clientId: 'bench-admin', bootstrapBrokers: BROKERS }) : undefined;
try {
  await prepareTable();
  if (READERS.includes('copy')) {
    await runCopy(0); // warm-up: the table in the page cache for every reader
  }
  for (let i = 0; i < Number(args.burners); i++) {
    burners.push(Bun.spawn([process.execPath, '-e', 'for (;;) {}'], { stdout: 'ignore', stderr: 'ignore' }));
  }
  if (!args.cold) {
    // Warm-up: the broker's JIT warm (and the streamer's files in the page cache) before run 1.
    for (const reader of READERS) {
      if (reader === 'copy') continue;
      for (const tree of (COMPARE === undefined ? ['this'] : ['this', 'compare']) as Measured['tree'][]) {
        const m = await runStreamer(reader, 0, admin, tree);
        log(`warm-up ${reader}${tree === 'compare' ? ` (${args.compare})` : ''} (not counted): ${fmt(m.rowsPerSec)} rows/s, ${m.cpuUsPerRow.toFixed(2)} CPU µs/row${detail(m)}`);
      }
    }
  }
  for (let run = 1; run <= RUNS; run++) {
    for (const reader of READERS) {
      // With --compare, both checkouts' streamers run, in alternating order from run to run.
      const trees: Measured['tree'][] = reader === 'copy' || COMPARE === undefined ? ['this'] : run % 2 === 1 ? ['this', 'compare'] : ['compare', 'this'];
      for (const tree of trees) {
        const m = reader === 'copy' ? await runCopy(run) : await runStreamer(reader, run, admin, tree);
        results.push(m);
        log(`run ${run} ${reader}${tree === 'compare' ? ` (${args.compare})` : ''}: ${fmt(m.rowsPerSec)} rows/s${m.copyRowsPerSec === undefined ? '' : ` (copy alone ${fmt(m.copyRowsPerSec)})`}, ${m.cpuUsPerRow.toFixed(2)} CPU µs/row, peak RSS ${m.peakRssMb.toFixed(1)} MB${detail(m)}`);
      }
    }
  }
} finally {
  for (const burner of burners) burner.kill();
  await admin?.close().catch(() => {});
  await sql.unsafe(`drop publication if exists ${PUBLICATION}`).catch(() => {});
  await sql.unsafe(`drop table if exists ${TABLE}`).catch(() => {});
  await sql.end({ timeout: 5 });
}

// ---- report: medians over runs, ratios against COPY ----
const by = (reader: string) => results.filter((r) => r.reader === reader);
const copyRate = by('copy').length > 0 ? median(by('copy').map((r) => r.rowsPerSec)) : NaN;
const TARGETS: Record<string, string> = { copy: '', file: '≥ 0.35', kafka: '≥ 0.25' };
const LABELS: Record<string, string> = {
  copy: '`COPY … TO STDOUT` via `psql` → /dev/null (baseline)',
  file: 'psql-streamer `initial_only` → `file` sink (/dev/null)',
  kafka: 'psql-streamer `initial_only` → Kafka (acks=all)',
};
const lines = [
  `\n${fmt(ROWS)} rows, ${RUNS} run(s), medians${args['engine-own'] ? ", psql-streamer with the engine's own memory sizing" : ''}:\n`,
  '| reader | rows/s (copy alone) | ratio to COPY (target) | ratio in each run (median) | CPU µs/row | peak RSS |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
];
/** Each run's rows/s against that run's COPY (the same minute, so the machine's speed cancels out). */
const runRatios = (rs: readonly Measured[]) => rs.flatMap((r) => {
  const copy = by('copy').find((c) => c.run === r.run);
  return copy === undefined ? [] : [r.rowsPerSec / copy.rowsPerSec];
});
for (const [reader, tree] of READERS.flatMap((r) => (COMPARE === undefined || r === 'copy' ? [[r, 'this']] : [[r, 'this'], [r, 'compare']]) as Array<[string, Measured['tree']]>)) {
  const rs = by(reader).filter((r) => r.tree === tree);
  if (rs.length === 0) continue;
  const rate = median(rs.map((r) => r.rowsPerSec));
  const copyAlone = rs.every((r) => r.copyRowsPerSec !== undefined) ? ` (${fmt(median(rs.map((r) => r.copyRowsPerSec!)))})` : '';
  const ratio = reader === 'copy' ? '1.00' : (rate / copyRate).toFixed(2);
  const each = runRatios(rs);
  const perRun = reader === 'copy' || each.length === 0 ? '' : `${each.map((x) => x.toFixed(2)).join(', ')} (${median(each).toFixed(2)})`;
  lines.push(`| ${LABELS[reader]}${tree === 'compare' ? ` (${args.compare})` : ''} | ${fmt(rate)}${copyAlone} | ${ratio}${TARGETS[reader] ? ` (${TARGETS[reader]})` : ''} | ${perRun} | ${median(rs.map((r) => r.cpuUsPerRow)).toFixed(2)} | ${median(rs.map((r) => r.peakRssMb)).toFixed(0)} MB |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
if (args.json) writeFileSync(args.json, JSON.stringify({ rows: ROWS, runs: RUNS, engineOwn: args['engine-own'], results }, null, 2));
