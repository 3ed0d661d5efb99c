#!/usr/bin/env bun
/**
 * PostgreSQL source benchmark (docs/benchmarks.md, "Targets"): psql-streamer against pg_recvlogical, reading the
 * same WAL through separate slots, in the same run. Run it through scripts/bench-pg, which starts
 * a fresh throwaway cluster (this script expects PGHOST/PGPORT/PGUSER/PGDATABASE and
 * PSQL_STREAMER_PG_BIN, as `scripts/pg start` prints them).
 *
 * Scenarios (each: a table of 8 mixed columns int, bigint, text, numeric, bool, timestamptz,
 * jsonb, uuid; slots created before the data, WAL generated with no consumer active):
 *   batched  --rows rows in transactions of --txn-rows rows (default 1M in 1,000-row transactions)
 *   single   --rows rows in one transaction
 *
 * Consumers, one at a time, each through its own slot, from the slot's start to the end LSN:
 *   pg_recvlogical --start -o proto_version=1 -o publication_names=P -f /dev/null --endpos=END
 *   psql-streamer (src/main.ts): postgres source → file sink writing every event's JSON to
 *   /dev/null (or the sink section in $BENCH_SINK_TOML, e.g. bench/pg-http.ts's HTTP sink);
 *   done when its persisted position (state file) reaches END.
 * Measured: wall time from spawn to END (rows/s), CPU (utime+stime from /proc) per event, peak
 * RSS (VmHWM), the walsender's CPU (the server-side decoding both consumers wait on).
 *
 *   bun bench/pg-source.ts [--rows N] [--txn-rows N] [--runs N] [--scenarios batched,single]
 *                          [--batch-size N] [--consumers recv,streamer] [--json FILE]
 *                          [--cpu-prof DIR]   (streamer runs under `bun --cpu-prof`)
 *                          [--trace-rss]      (log RSS and CPU of each consumer every 500 ms)
 *                          [--trace-rss-ms N] (… every N ms instead)
 *                          [--bun-flags=--smol]    (extra flags for the bun running the streamer)
 *                          [--sslmode MODE]   (both consumers; default libpq's prefer: TLS, which the cluster offers)
 *                          [--binary FILE]    (run a built executable, e.g. dist/psql-streamer-linux-x64,
 *                                              instead of `bun src/main.ts`)
 */
import { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRowsInTransactionsSql, benchRowsSql, benchTableDdl } from './lib/bench-table.ts';
import { fmt, median, sampleProc, threadCpuMs, type ProcSample } from './lib/proc.ts';
import { benchSourceToml, dropSlotWhenFree, exitWithHelpIf, pgAdminClient, pgTargetFromEnv } from './lib/setup.ts';
import { formatLsn } from '../src/replication/lsn.ts';
import { withEngineDefaults } from '../src/core/engine-settings.ts';

const REPO = join(import.meta.dir, '..');
const MAIN = join(REPO, 'src', 'main.ts');

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'txn-rows': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    scenarios: { type: 'string', default: 'batched,single' },
    consumers: { type: 'string', default: 'recv,streamer' },
    'batch-size': { type: 'string', default: '100' },
    sslmode: { type: 'string' },
    json: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'trace-rss': { type: 'boolean', default: false },
    'trace-rss-ms': { type: 'string', default: '500' },
    'bun-flags': { type: 'string', default: '' },
    binary: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
exitWithHelpIf(args.help, import.meta.path);

const ROWS = Number(args.rows);
const TXN_ROWS = Number(args['txn-rows']);
const RUNS = Number(args.runs);
const BATCH_SIZE = Number(args['batch-size']);
/** Both consumers' sslmode (default: libpq's prefer, i.e. TLS where the server offers it, as the benchmark cluster does). */
const SSLMODE = args.sslmode;
const SCENARIOS = (args.scenarios ?? '').split(',').filter(Boolean) as ('batched' | 'single')[];
const CONSUMERS = (args.consumers ?? '').split(',').filter(Boolean) as Consumer[];
for (const s of SCENARIOS) if (s !== 'batched' && s !== 'single') throw new Error(`unknown scenario ${s}`);
for (const c of CONSUMERS) if (c !== 'recv' && c !== 'streamer') throw new Error(`unknown consumer ${c}`);

type Consumer = 'recv' | 'streamer';

const PG = pgTargetFromEnv('scripts/bench-pg (or eval "$(scripts/pg start)")');
const sql = pgAdminClient(PG);

const log = (line: string) => process.stderr.write(`[bench-pg] ${line}\n`);


async function walsenderPid(slot: string): Promise<number | undefined> {
  const [row] = await sql<{ pid: number | null }[]>`select active_pid as pid from pg_replication_slots where slot_name = ${slot}`;
  return row?.pid ?? undefined;
}

export interface RunResult {
  scenario: string;
  consumer: Consumer;
  run: number;
  rows: number;
  wallMs: number;
  /** Time to start streaming (streamer: until it logged "Streaming from"). */
  startupMs: number;
  rowsPerSec: number;
  /** Rows per second after startup (streaming only). */
  streamingRowsPerSec: number;
  cpuUs: number;
  cpuUsPerEvent: number;
  /** CPU of the streaming part only (after startup), per event. */
  streamingCpuUsPerEvent: number;
  peakRssMb: number;
  walsenderCpuMs: number;
  /** Main thread of the consumer: on a CPU / runnable but waiting for a CPU (other processes: noise) / neither (idle), ms. */
  mainRunMs: number;
  mainWaitMs: number;
  mainIdleMs: number;
  /** The walsender's time waiting for a CPU, ms. */
  walsenderWaitMs: number;
  /** Streamer: CPU ms by thread (threadCpuMs: main, JITWorker, HeapHelper, Bun Pool, ...). */
  threadCpuMs?: Record<string, number>;
}

async function createSlot(slot: string): Promise<void> {
  await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
}

const dropSlot = (slot: string): Promise<void> => dropSlotWhenFree(sql, slot);

/** Creates the scenario's table, publication and slots, then generates its WAL; returns the end LSN. */
async function prepare(scenario: 'batched' | 'single', slots: string[]): Promise<{ table: string; publication: string; end: bigint; walBytes: bigint; generateMs: number }> {
  const table = `bench_${scenario}`;
  const publication = `bench_${scenario}_pub`;
  await sql.unsafe(`drop publication if exists ${publication}`);
  await sql.unsafe(`drop table if exists ${table}`);
  await sql.unsafe(benchTableDdl(table));
  await sql.unsafe(`create publication ${publication} for table ${table}`);
  for (const slot of slots) await createSlot(slot);
  const [before] = await sql<{ lsn: string }[]>`select (pg_current_wal_insert_lsn() - '0/0')::text as lsn`;
  const started = performance.now();
  if (scenario === 'single') {
    await sql.unsafe(benchRowsSql(table, '1', String(ROWS)));
  } else {
    await sql.unsafe(benchRowsInTransactionsSql(table, ROWS, TXN_ROWS));
  }
  // Right after the last commit, in the same session: the end of its commit record (on an
  // otherwise idle cluster nothing else writes WAL in between).
  const [after] = await sql<{ lsn: string }[]>`select (pg_current_wal_insert_lsn() - '0/0')::text as lsn`;
  const generateMs = performance.now() - started;
  const end = BigInt(after!.lsn);
  return { table, publication, end, walBytes: end - BigInt(before!.lsn), generateMs };
}

/** Polls a live process (and the walsender serving it) until `done` says so. */
async function watch(pid: number, slot: string, done: () => boolean | Promise<boolean>, exited: () => boolean, timeoutMs: number) {
  let peakRssKb = 0;
  const started = performance.now();
  let nextTrace = 0;
  let last: ProcSample | undefined;
  let wsPid: number | undefined;
  let ws: ProcSample | undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sample = sampleProc(pid);
    if (sample) {
      last = sample;
      peakRssKb = Math.max(peakRssKb, sample.rssKb, sample.hwmKb);
      const at = performance.now() - started;
      if (args['trace-rss'] && at >= nextTrace) {
        log(`  t=${fmt(at)} ms RSS ${fmt(sample.rssKb / 1024, 1)} MB, CPU ${fmt(sample.cpuUs / 1000)} ms`);
        nextTrace = at + Number(args['trace-rss-ms']);
      }
    }
    wsPid ??= await walsenderPid(slot);
    if (wsPid !== undefined) ws = sampleProc(wsPid) ?? ws;
    if (await done()) break;
    if (exited()) break;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await Bun.sleep(10);
  }
  return { last, peakRssKb, walsenderCpuUs: ws?.cpuUs ?? 0, walsenderWaitMs: ws?.mainWaitMs ?? 0 };
}

async function runRecv(scenario: string, run: number, slot: string, publication: string, end: bigint): Promise<RunResult> {
  const started = performance.now();
  const proc = Bun.spawn([
    join(PG.bin, 'pg_recvlogical'), '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', PG.database,
    `--slot=${slot}`, '--start', '--no-loop', '-o', 'proto_version=1', '-o', `publication_names=${publication}`,
    '--plugin=pgoutput', '-f', '/dev/null', `--endpos=${formatLsn(end)}`,
  ], { stdout: 'ignore', stderr: 'pipe', env: SSLMODE ? { ...process.env, PGSSLMODE: SSLMODE } : process.env });
  let finished = false;
  void proc.exited.then(() => { finished = true; });
  const watched = await watch(proc.pid, slot, () => finished, () => finished, 600_000);
  const code = await proc.exited;
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`pg_recvlogical exited with ${code}: ${await new Response(proc.stderr).text()}`);
  const usage = proc.resourceUsage();
  const cpuUs = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) : (watched.last?.cpuUs ?? 0);
  // VmHWM sampled every 10 ms (Bun's resourceUsage().maxRSS covers more than this child).
  const peakKb = watched.peakRssKb;
  return {
    scenario, consumer: 'recv', run, rows: ROWS, wallMs, startupMs: 0,
    rowsPerSec: ROWS / (wallMs / 1000), streamingRowsPerSec: ROWS / (wallMs / 1000),
    cpuUs, cpuUsPerEvent: cpuUs / ROWS, streamingCpuUsPerEvent: cpuUs / ROWS,
    peakRssMb: peakKb / 1024,
    walsenderCpuMs: watched.walsenderCpuUs / 1000,
    ...threadTimes(watched.last, wallMs),
    walsenderWaitMs: watched.walsenderWaitMs,
  };
}

function threadTimes(sample: ProcSample | undefined, wallMs: number): { mainRunMs: number; mainWaitMs: number; mainIdleMs: number } {
  const run = sample?.mainRunMs ?? 0;
  const wait = sample?.mainWaitMs ?? 0;
  return { mainRunMs: run, mainWaitMs: wait, mainIdleMs: Math.max(0, wallMs - run - wait) };
}

function streamerConfig(dir: string, slot: string, publication: string): string {
  return `${benchSourceToml({ dir, pg: PG, publication, slot, batchSize: BATCH_SIZE, sslmode: SSLMODE })}
${process.env.BENCH_SINK_TOML ?? '[sink.devnull]\ntype = "file"\npath = "/dev/null"'}
sources = ["bench"]
`;
}

async function runStreamer(scenario: string, run: number, slot: string, publication: string, end: bigint): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'psql-streamer-bench-'));
  try {
    const config = join(dir, 'bench.toml');
    writeFileSync(config, streamerConfig(dir, slot, publication));
    const profile = args['cpu-prof'];
    const flags = (args['bun-flags'] ?? '').split(' ').filter(Boolean);
    if (profile) flags.push('--cpu-prof', `--cpu-prof-dir=${profile}`, `--cpu-prof-name=${scenario}-${run}.cpuprofile`);
    const cmd = args.binary ? [args.binary, '-config', config] : [process.execPath, ...flags, MAIN, '-config', config];
    const started = performance.now();
    // Under --cpu-prof the streamer's restart with its engine settings (execve) would replace the
    // profiled process: the settings are given here instead (unless the environment has its own).
    const env = profile && !args.binary ? withEngineDefaults(process.env) : undefined;
    const proc = Bun.spawn(cmd, { stdout: 'ignore', stderr: 'pipe', ...(env ? { env } : {}) });
    let stderr = '';
    let startupMs = 0;
    let startupCpuUs = 0;
    const decoder = new TextDecoder();
    void (async () => {
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        stderr += text;
        if (args['trace-rss']) for (const line of text.split('\n')) if (line.startsWith('MEM ')) log(`  ${line}`);
        if (startupMs === 0 && stderr.includes('Streaming from')) {
          startupMs = performance.now() - started;
          startupCpuUs = sampleProc(proc.pid)?.cpuUs ?? 0;
        }
      }
    })();
    let finished = false;
    void proc.exited.then(() => { finished = true; });
    let db: Database | undefined;
    let persisted = 0n;
    const reached = () => {
      try {
        db ??= new Database(join(dir, 'state.db'), { readonly: true });
        const row = db.query('SELECT position FROM positions WHERE source = ?').get('bench') as { position: string } | null;
        persisted = BigInt(row?.position ?? 0);
      } catch {
        // Not created yet.
      }
      return persisted >= end;
    };
    const watched = await watch(proc.pid, slot, reached, () => finished, 600_000);
    const wallMs = performance.now() - started;
    db?.close();
    if (finished) throw new Error(`psql-streamer exited before reaching ${formatLsn(end)} (persisted ${formatLsn(persisted)}):\n${stderr}`);
    const final = sampleProc(proc.pid) ?? watched.last;
    const threads = threadCpuMs(proc.pid);
    proc.kill('SIGTERM');
    const code = await proc.exited;
    if (code !== 0) log(`warning: psql-streamer exited with ${code} after SIGTERM:\n${stderr}`);
    const cpuUs = final?.cpuUs ?? 0;
    const streamingMs = wallMs - startupMs;
    return {
      scenario, consumer: 'streamer', run, rows: ROWS, wallMs, startupMs,
      rowsPerSec: ROWS / (wallMs / 1000), streamingRowsPerSec: ROWS / (streamingMs / 1000),
      cpuUs, cpuUsPerEvent: cpuUs / ROWS, streamingCpuUsPerEvent: (cpuUs - startupCpuUs) / ROWS,
      peakRssMb: Math.max(watched.peakRssKb, final?.hwmKb ?? 0) / 1024,
      walsenderCpuMs: watched.walsenderCpuUs / 1000,
      ...threadTimes(final, wallMs),
      walsenderWaitMs: watched.walsenderWaitMs,
      threadCpuMs: threads,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}



const results: RunResult[] = [];
const summary: Record<string, unknown>[] = [];
const [server] = await sql<{ v: string }[]>`select version() as v`;
log(`${server!.v.split(',')[0]}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); ${ROWS} rows per scenario, ${RUNS} runs, batchSize ${BATCH_SIZE}`);

try {
  for (const scenario of SCENARIOS) {
    const slots = Array.from({ length: RUNS }, (_, i) => CONSUMERS.map((c) => `bench_${scenario}_${c}_${i + 1}`)).flat();
    for (const slot of slots) await dropSlot(slot);
    const data = await prepare(scenario, slots);
    log(`${scenario}: ${ROWS} rows${scenario === 'batched' ? ` in ${Math.ceil(ROWS / TXN_ROWS)} transactions of ${TXN_ROWS}` : ' in one transaction'} ` +
      `generated in ${fmt(data.generateMs)} ms: ${fmt(Number(data.walBytes) / 1048576, 1)} MiB of WAL, end ${formatLsn(data.end)}`);
    for (let run = 1; run <= RUNS; run++) {
      // Alternate who goes first, so neither always gets the warmer cache.
      const order = run % 2 === 1 ? CONSUMERS : [...CONSUMERS].reverse();
      for (const consumer of order) {
        const slot = `bench_${scenario}_${consumer}_${run}`;
        const result = consumer === 'recv'
          ? await runRecv(scenario, run, slot, data.publication, data.end)
          : await runStreamer(scenario, run, slot, data.publication, data.end);
        results.push(result);
        log(`${scenario} run ${run} ${consumer.padEnd(8)}: ${fmt(result.wallMs)} ms, ${fmt(result.rowsPerSec)} rows/s` +
          (consumer === 'streamer' ? ` (startup ${fmt(result.startupMs)} ms, streaming ${fmt(result.streamingRowsPerSec)} rows/s)` : '') +
          `, CPU ${fmt(result.cpuUsPerEvent, 2)} µs/event` +
          (consumer === 'streamer' ? ` (streaming ${fmt(result.streamingCpuUsPerEvent, 2)})` : '') +
          `, peak RSS ${fmt(result.peakRssMb, 1)} MB, walsender CPU ${fmt(result.walsenderCpuMs)} ms; ` +
          `main thread run/wait/idle ${fmt(result.mainRunMs)}/${fmt(result.mainWaitMs)}/${fmt(result.mainIdleMs)} ms, walsender wait ${fmt(result.walsenderWaitMs)} ms` +
          (result.threadCpuMs ? `; CPU ms by thread ${Object.entries(result.threadCpuMs).map(([name, ms]) => `${name} ${fmt(ms)}`).join(', ')}` : ''));
        await dropSlot(slot);
      }
    }
    await sql.unsafe(`drop publication ${data.publication}`);
    await sql.unsafe(`drop table ${data.table}`);

    const of = (consumer: Consumer) => results.filter((r) => r.scenario === scenario && r.consumer === consumer);
    const row: Record<string, unknown> = { scenario, rows: ROWS, walMiB: Number(data.walBytes) / 1048576 };
    for (const consumer of CONSUMERS) {
      const rs = of(consumer);
      row[consumer] = {
        rowsPerSec: median(rs.map((r) => r.rowsPerSec)),
        streamingRowsPerSec: median(rs.map((r) => r.streamingRowsPerSec)),
        wallMs: median(rs.map((r) => r.wallMs)),
        startupMs: median(rs.map((r) => r.startupMs)),
        cpuUsPerEvent: median(rs.map((r) => r.cpuUsPerEvent)),
        streamingCpuUsPerEvent: median(rs.map((r) => r.streamingCpuUsPerEvent)),
        peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
        walsenderCpuMs: median(rs.map((r) => r.walsenderCpuMs)),
        mainRunMs: median(rs.map((r) => r.mainRunMs)),
        mainWaitMs: median(rs.map((r) => r.mainWaitMs)),
        mainIdleMs: median(rs.map((r) => r.mainIdleMs)),
        walsenderWaitMs: median(rs.map((r) => r.walsenderWaitMs)),
      };
    }
    if (CONSUMERS.length === 2) {
      // Ratio of medians, and the median of per-run ratios (the runs pair a recv and a streamer run).
      const recv = of('recv');
      const streamer = of('streamer');
      row.ratio = (row.streamer as { rowsPerSec: number }).rowsPerSec / (row.recv as { rowsPerSec: number }).rowsPerSec;
      row.medianRunRatio = median(streamer.map((s, i) => s.rowsPerSec / recv[i]!.rowsPerSec));
    }
    summary.push(row);
  }
} finally {
  await sql.end({ timeout: 5 });
}

process.stdout.write('\nscenario  consumer        rows/s   wall ms  startup ms  CPU µs/event (streaming)  peak RSS MB  walsender CPU ms  main thread run/wait/idle ms\n');
for (const row of summary) {
  for (const consumer of CONSUMERS) {
    const r = row[consumer] as Record<string, number>;
    process.stdout.write(
      `${String(row.scenario).padEnd(9)} ${consumer.padEnd(9)} ${fmt(r.rowsPerSec!).padStart(12)} ${fmt(r.wallMs!).padStart(9)} ${fmt(r.startupMs!).padStart(11)}` +
      `  ${`${fmt(r.cpuUsPerEvent!, 2)} (${fmt(r.streamingCpuUsPerEvent!, 2)})`.padStart(24)} ${fmt(r.peakRssMb!, 1).padStart(12)} ${fmt(r.walsenderCpuMs!).padStart(17)}` +
      `  ${fmt(r.mainRunMs!)}/${fmt(r.mainWaitMs!)}/${fmt(r.mainIdleMs!)}\n`,
    );
  }
  if (row.ratio !== undefined) process.stdout.write(`${String(row.scenario).padEnd(9)} ratio streamer/pg_recvlogical: ${fmt(row.ratio as number, 2)} (median of per-run ratios ${fmt(row.medianRunRatio as number, 2)})\n`);
}
if (args.json) {
  writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), server: server!.v, cpus: cpus().length, cpuModel: cpus()[0]?.model, rows: ROWS, txnRows: TXN_ROWS, runs: RUNS, batchSize: BATCH_SIZE, summary, results }, null, 2));
  log(`results written to ${args.json}`);
}
