#!/usr/bin/env bun
/**
 * PostgreSQL → NATS JetStream benchmark (docs/benchmarks.md, "NATS JetStream sink"): psql-streamer
 * with a NATS sink (every message acknowledged by JetStream, file storage, one local nats-server)
 * against pg_recvlogical writing to /dev/null, on the same WAL, in the same run. Run it through
 * scripts/bench-nats, which starts a fresh throwaway PostgreSQL cluster and nats-server (this
 * script expects PGHOST/PGPORT/PGUSER/PGDATABASE, PSQL_STREAMER_PG_BIN and NATS_URL, as
 * `scripts/pg start` and `scripts/nats/start` print them).
 *
 * The data of bench/pg-kafka.ts's throughput phase (bench/lib/bench-table.ts: 8 mixed columns;
 * --rows rows in transactions of --txn-rows rows; slots created before the data, WAL generated with
 * no consumer active), then one consumer at a time through its own slot, from the slot's start to
 * the end LSN, alternating which goes first:
 *   pg_recvlogical --start -o proto_version=1 -o publication_names=P -f /dev/null --endpos=END
 *   psql-streamer (src/main.ts): postgres source (batchSize --batch-size, default 100 as the
 *   product's) → nats sink (subject bench.<run>.<table>, stream checked); done when its persisted
 *   position reaches END, which it reaches only after JetStream acknowledged every message (the
 *   stream's message count is checked afterwards).
 * Measured: rows/s from spawn to END, CPU per event (utime+stime from /proc), peak RSS (VmHWM), and
 * nats-server's CPU per row during the streamer's run (it shares the machine).
 *
 *   bun bench/pg-nats.ts [--rows N] [--txn-rows N] [--runs N] [--batch-size N] [--json FILE]
 *                        [--compare DIR]   also the psql-streamer of the checkout at DIR (e.g. main's,
 *                                          `git archive main | tar -x -C DIR`), on a slot of its own:
 *                                          an A/B of two versions on the same WAL in the same run
 */
import { Database } from 'bun:sqlite';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { benchRowsInTransactionsSql, benchTableDdl } from './lib/bench-table.ts';
import { fmt, median, sampleProc } from './lib/proc.ts';
import { benchSourceToml, dropSlotWhenFree, exitWithHelpIf, pgAdminClient, pgTargetFromEnv, requiredEnv } from './lib/setup.ts';
import { formatLsn } from '../src/replication/lsn.ts';

const MAIN = join(import.meta.dir, '..', 'src', 'main.ts');
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'txn-rows': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '100' },
    json: { type: 'string' },
    compare: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
exitWithHelpIf(args.help, import.meta.path);

const ROWS = Number(args.rows);
const TXN_ROWS = Number(args['txn-rows']);
const RUNS = Number(args.runs);
const BATCH_SIZE = Number(args['batch-size']);
const PG = pgTargetFromEnv('scripts/bench-nats');
const NATS_URL = requiredEnv('NATS_URL', 'scripts/bench-nats');
/** nats-server's process (scripts/nats/start records it), to measure its CPU per row. */
const SERVER_PID = ((): number | undefined => {
  const dir = process.env.PSQL_STREAMER_NATS_DIR;
  if (!dir || !existsSync(join(dir, 'pid'))) return undefined;
  return Number(readFileSync(join(dir, 'pid'), 'utf8').trim()) || undefined;
})();

const sql = pgAdminClient(PG);
const nc = await connect({ servers: NATS_URL });
const jsm = await jetstreamManager(nc);
const log = (line: string) => process.stderr.write(`[bench-nats] ${line}\n`);

type Consumer = 'recv' | 'streamer' | 'compare';
interface Run { consumer: Consumer; run: number; wallMs: number; rowsPerSec: number; cpuUsPerEvent: number; peakRssMb: number; serverCpuUsPerEvent?: number }

/** Runs `cmd` until `done()` (or its exit), sampling its peak RSS; returns wall ms and CPU µs. */
async function measure(cmd: string[], done: (() => boolean) | undefined, stderr: { text: string }): Promise<{ wallMs: number; cpuUs: number; peakKb: number; code: number | undefined }> {
  const started = performance.now();
  const proc = Bun.spawn(cmd, { stdout: 'ignore', stderr: 'pipe' });
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) stderr.text += decoder.decode(chunk, { stream: true });
  })();
  let peakKb = 0;
  let cpuUs = 0;
  const deadline = Date.now() + 900_000;
  while (!exited && !(done?.() ?? false)) {
    const s = sampleProc(proc.pid);
    if (s) {
      peakKb = Math.max(peakKb, s.rssKb, s.hwmKb);
      cpuUs = s.cpuUs;
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${stderr.text.slice(-3000)}`);
    await Bun.sleep(10);
  }
  const wallMs = performance.now() - started;
  const last = sampleProc(proc.pid);
  if (last) cpuUs = last.cpuUs;
  if (!exited) {
    proc.kill('SIGTERM');
    await proc.exited;
    return { wallMs, cpuUs, peakKb, code: undefined };
  }
  const usage = proc.resourceUsage();
  if (usage) cpuUs = Number(usage.cpuTime.user + usage.cpuTime.system);
  return { wallMs, cpuUs, peakKb, code: await proc.exited };
}

async function runRecv(run: number, slot: string, publication: string, end: bigint): Promise<Run> {
  const stderr = { text: '' };
  const r = await measure([
    join(PG.bin, 'pg_recvlogical'), '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', PG.database,
    `--slot=${slot}`, '--start', '--no-loop', '-o', 'proto_version=1', '-o', `publication_names=${publication}`,
    '--plugin=pgoutput', '-f', '/dev/null', `--endpos=${formatLsn(end)}`,
  ], undefined, stderr);
  if (r.code !== 0) throw new Error(`pg_recvlogical exited with ${r.code}: ${stderr.text}`);
  return { consumer: 'recv', run, wallMs: r.wallMs, rowsPerSec: ROWS / (r.wallMs / 1000), cpuUsPerEvent: r.cpuUs / ROWS, peakRssMb: r.peakKb / 1024 };
}

async function runStreamer(run: number, slot: string, publication: string, end: bigint, consumer: 'streamer' | 'compare'): Promise<Run> {
  const main = consumer === 'compare' ? join(args.compare!, 'src', 'main.ts') : MAIN;
  const dir = mkdtempSync(join(tmpdir(), 'psql-streamer-bench-nats-'));
  const stream = `BENCH_${run}_${Date.now()}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  try {
    const file = join(dir, 'bench.toml');
    writeFileSync(file, `${benchSourceToml({ dir, pg: PG, publication, slot, batchSize: BATCH_SIZE })}
[sink.nats]
type = "nats"
sources = ["bench"]
servers = ["${NATS_URL}"]
subjectFallback = "${stream}.{table}"
stream = "${stream}"
${process.env.BENCH_SINK_EXTRA ?? ''}
`);
    let db: Database | undefined;
    const persisted = (): bigint => {
      try {
        db ??= new Database(join(dir, 'state.db'), { readonly: true });
        const row = db.query('SELECT position FROM positions WHERE source = ?').get('bench') as { position: string } | null;
        return BigInt(row?.position ?? 0);
      } catch {
        return 0n;
      }
    };
    const serverBefore = SERVER_PID === undefined ? undefined : sampleProc(SERVER_PID)?.cpuUs;
    const stderr = { text: '' };
    const r = await measure([process.execPath, main, '-config', file], () => persisted() >= end, stderr);
    const serverAfter = SERVER_PID === undefined ? undefined : sampleProc(SERVER_PID)?.cpuUs;
    db?.close();
    if (r.code !== undefined) throw new Error(`psql-streamer exited with ${r.code}: ${stderr.text.slice(-3000)}`);
    const stored = (await jsm.streams.info(stream)).state.messages;
    if (stored !== ROWS) throw new Error(`the stream holds ${stored} messages, expected ${ROWS}`);
    return {
      consumer, run, wallMs: r.wallMs, rowsPerSec: ROWS / (r.wallMs / 1000), cpuUsPerEvent: r.cpuUs / ROWS, peakRssMb: r.peakKb / 1024,
      serverCpuUsPerEvent: serverBefore !== undefined && serverAfter !== undefined ? (serverAfter - serverBefore) / ROWS : undefined,
    };
  } finally {
    await jsm.streams.delete(stream).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

const dropSlot = (slot: string): Promise<void> => dropSlotWhenFree(sql, slot);

const lsn = async (): Promise<bigint> => BigInt((await sql<{ lsn: string }[]>`select (pg_current_wal_insert_lsn() - '0/0')::text as lsn`)[0]!.lsn);

const table = 'bench_nats_batched';
const publication = `${table}_pub`;
const CONSUMERS: Consumer[] = ['recv', 'streamer', ...(args.compare ? ['compare' as const] : [])];
const slots = Array.from({ length: RUNS }, (_, i) => CONSUMERS.map((c) => `${table}_${c}_${i + 1}`)).flat();
const [server] = await sql<{ v: string }[]>`select version() as v`;
log(`${server!.v.split(',')[0]}; nats-server ${nc.info?.version} at ${NATS_URL}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
for (const slot of slots) await dropSlot(slot);
await sql.unsafe(`drop publication if exists ${publication}`);
await sql.unsafe(`drop table if exists ${table}`);
await sql.unsafe(benchTableDdl(table));
await sql.unsafe(`create publication ${publication} for table ${table}`);
for (const slot of slots) await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
const before = await lsn();
await sql.unsafe(benchRowsInTransactionsSql(table, ROWS, TXN_ROWS));
const end = await lsn();
log(`${fmt(ROWS)} rows in transactions of ${TXN_ROWS}: ${fmt(Number(end - before) / 1048576, 1)} MiB of WAL, end ${formatLsn(end)}`);

const runs: Run[] = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    const order = run % 2 === 1 ? CONSUMERS : [...CONSUMERS].reverse();
    for (const consumer of order) {
      const slot = `${table}_${consumer}_${run}`;
      const result = consumer === 'recv' ? await runRecv(run, slot, publication, end) : await runStreamer(run, slot, publication, end, consumer);
      runs.push(result);
      log(`run ${run} ${consumer.padEnd(8)}: ${fmt(result.wallMs)} ms, ${fmt(result.rowsPerSec)} rows/s, CPU ${fmt(result.cpuUsPerEvent, 2)} µs/event, peak RSS ${fmt(result.peakRssMb, 1)} MB` +
        (result.serverCpuUsPerEvent === undefined ? '' : `; nats-server CPU ${fmt(result.serverCpuUsPerEvent, 2)} µs/row`));
      await dropSlot(slot);
    }
  }
} finally {
  for (const slot of slots) await dropSlot(slot);
  await sql.unsafe(`drop publication if exists ${publication}`);
  await sql.unsafe(`drop table if exists ${table}`);
}
const of = (c: Run['consumer']) => runs.filter((r) => r.consumer === c);
const recv = median(of('recv').map((r) => r.rowsPerSec));
const streamer = median(of('streamer').map((r) => r.rowsPerSec));
const perRun = of('streamer').map((s) => s.rowsPerSec / of('recv').find((r) => r.run === s.run)!.rowsPerSec);
const compare = args.compare ? median(of('compare').map((r) => r.rowsPerSec)) : undefined;
const report = {
  date: new Date().toISOString(), server: server!.v, natsServer: nc.info?.version, cpus: cpus().length, rows: ROWS, txnRows: TXN_ROWS, batchSize: BATCH_SIZE, runs,
  recvRowsPerSec: recv, streamerRowsPerSec: streamer, ratio: streamer / recv, medianRunRatio: median(perRun),
  streamerCpuUsPerEvent: median(of('streamer').map((r) => r.cpuUsPerEvent)), peakRssMb: Math.max(...of('streamer').map((r) => r.peakRssMb)),
  ...(compare === undefined ? {} : { compareRowsPerSec: compare, compareRatio: compare / recv, compareCpuUsPerEvent: median(of('compare').map((r) => r.cpuUsPerEvent)) }),
};
log(`median: pg_recvlogical ${fmt(recv)} rows/s, psql-streamer → NATS ${fmt(streamer)} rows/s: ratio ${fmt(report.ratio, 2)} (median of per-run ratios ${fmt(report.medianRunRatio, 2)}), ` +
  `CPU ${fmt(report.streamerCpuUsPerEvent, 2)} µs/event, peak RSS ${fmt(report.peakRssMb, 1)} MB`);
if (report.compareRatio !== undefined) {
  log(`compare (${args.compare}): ${fmt(report.compareRowsPerSec!)} rows/s: ratio ${fmt(report.compareRatio, 2)}, CPU ${fmt(report.compareCpuUsPerEvent!, 2)} µs/event`);
}
if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
await nc.close();
await sql.end();
