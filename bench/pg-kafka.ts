#!/usr/bin/env bun
/**
 * PostgreSQL → Kafka benchmark (docs/benchmarks.md, "Targets"): psql-streamer with a Kafka sink (requiredAcks = -1,
 * one local broker) against pg_recvlogical writing to /dev/null, on the same WAL, in the same run.
 * Run it through scripts/bench-kafka, which starts a fresh throwaway PostgreSQL cluster and Kafka
 * broker (this script expects PGHOST/PGPORT/PGUSER/PGDATABASE, PSQL_STREAMER_PG_BIN and
 * KAFKA_BROKERS, as `scripts/pg start` and `scripts/kafka/start` print them).
 *
 * Phase "throughput": the data of bench/pg-source.ts's batched scenario (bench/lib/bench-table.ts: 8 mixed
 * columns int, bigint, text, numeric, bool, timestamptz, jsonb, uuid; --rows rows in transactions
 * of --txn-rows rows; slots created before the data, WAL generated with no consumer active), then
 * one consumer at a time through its own slot, from the slot's start to the end LSN:
 *   pg_recvlogical --start -o proto_version=1 -o publication_names=P -f /dev/null --endpos=END
 *   psql-streamer (src/main.ts): postgres source (batchSize --batch-size, default 100 as the
 *   product's) → kafka sink (acks=all, key "row", its default batchSize, a topic of --partitions
 *   partitions); done when its persisted position reaches END, which it reaches only
 *   after the broker acknowledged every message (the topic's size is checked afterwards).
 * Measured: rows/s from spawn to END, CPU per event (utime+stime from /proc), peak RSS (VmHWM), and
 * the broker's CPU per row during the streamer's run (its pid from scripts/kafka/start; the broker
 * shares the machine, so its cost bounds what any consumer can reach here).
 *
 * Phase "latency": psql-streamer streaming while pgbench commits single-row transactions at a
 * steady --rate per second for --seconds (after --warmup seconds). The topic stores the broker's
 * append time (message.timestamp.type = LogAppendTime); each message's latency is its append time
 * minus its transaction's CommitTime (PostgreSQL's commit timestamp, in the value): commit →
 * broker acknowledgement, clocks of one host. Also: the sink's produce latency (histogram from
 * /metrics) and the streamer's peak RSS.
 *
 *   bun bench/pg-kafka.ts [--phases throughput,latency] [--rows N] [--txn-rows N] [--runs N]
 *                         [--partitions N] [--batch-size N] [--rate N] [--seconds N] [--warmup N]
 *                         [--flush-interval D] [--json FILE]
 *                         [--cpu-prof DIR]   (the streamer runs under `bun --cpu-prof`)
 *                         [--trace FILE]     (where the latency tail comes from, bench/lib/latency-trace.ts;
 *                                             memory at the throughput runs' RSS peak)
 *                         [--engine-own]     (the streamer with BUN_JSC_forceRAMSize=0: the engine's own memory sizing, not the
 *                                             streamer's defaults, docs/deploy.md "Memory")
 *                         [--memory-target SIZE] (the streamer with memoryTarget = SIZE, docs/deploy.md "Memory")
 *                         [--exactly-once]   (also psql-streamer with exactlyOnce = true: a third consumer in
 *                                             each throughput run, and a second latency phase)
 *                         [--compare DIR]    (throughput phase: also the psql-streamer of the checkout at DIR,
 *                                             at-least-once, a consumer of its own in each run; latency
 *                                             phases: each mode also with that checkout's streamer)
 *                         [--latency-modes M] (latency phases to run: at-least-once,exactly-once; default
 *                                             at-least-once, and exactly-once with --exactly-once)
 *                         [--latency-runs N] (each latency mode N times; with --compare, the other checkout's
 *                                             streamer right after this one's each time)
 *                         [--broker-warmup N] (before the latency phases: N writes and N transactions of 50
 *                                             events through a KafkaSink, so that the broker's JIT has compiled
 *                                             its produce and transaction paths, bench/lib/broker-warmup.ts;
 *                                             default 10000 (≈ 30 s), 0 = measure a cold broker)
 *                         [--baseline]       (latency phase: pg_recvlogical's commit → receipt in the same
 *                                             run, bench/lib/recv-latency.ts)
 */
import { Database } from 'bun:sqlite';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin, Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import { benchTopicSize, createBenchTopic } from './lib/kafka.ts';
import { benchRowsInTransactionsSql, benchRowsSql, benchTableDdl } from './lib/bench-table.ts';
import { sampleSched, summarizeTrace, type Stall } from './lib/latency-trace.ts';
import { startRecvLatency } from './lib/recv-latency.ts';
import { warmBroker } from './lib/broker-warmup.ts';
import { visibleTimes, type VisibilityBatch } from './lib/visibility.ts';
import { fmt, median, sampleProc, type ProcSample } from './lib/proc.ts';
import { benchSourceToml, dropSlotWhenFree, exitWithHelpIf, pgAdminClient, pgTargetFromEnv, requiredEnv } from './lib/setup.ts';
import { formatLsn } from '../src/replication/lsn.ts';
import { withEngineDefaults } from '../src/core/engine-settings.ts';

const REPO = join(import.meta.dir, '..');
const MAIN = join(REPO, 'src', 'main.ts');

const { values: args } = parseArgs({
  options: {
    phases: { type: 'string', default: 'throughput,latency' },
    rows: { type: 'string', default: '1000000' },
    'txn-rows': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '100' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    'flush-interval': { type: 'string', default: '5ms' },
    json: { type: 'string' },
    'cpu-prof': { type: 'string' },
    trace: { type: 'string' },
    baseline: { type: 'boolean', default: false },
    'exactly-once': { type: 'boolean', default: false },
    'latency-modes': { type: 'string' },
    'latency-runs': { type: 'string', default: '1' },
    'broker-warmup': { type: 'string', default: '10000' },
    compare: { type: 'string' },
    'engine-own': { type: 'boolean', default: false },
    'memory-target': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
exitWithHelpIf(args.help, import.meta.path);

const PHASES = (args.phases ?? '').split(',').filter(Boolean);
const ROWS = Number(args.rows);
const TXN_ROWS = Number(args['txn-rows']);
const RUNS = Number(args.runs);
const PARTITIONS = Number(args.partitions);
const BATCH_SIZE = Number(args['batch-size']);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const FLUSH_INTERVAL = args['flush-interval']!;

const PG = pgTargetFromEnv('scripts/bench-kafka');
const BROKERS = requiredEnv('KAFKA_BROKERS', 'scripts/bench-kafka').split(',');
/** The broker's process (scripts/kafka/start records it), to measure its CPU per row; undefined for another broker. */
const BROKER_PID = ((): number | undefined => {
  const dir = process.env.PSQL_STREAMER_KAFKA_DIR;
  if (!dir || !existsSync(join(dir, 'pid'))) return undefined;
  return Number(readFileSync(join(dir, 'pid'), 'utf8').trim()) || undefined;
})();

const sql = pgAdminClient(PG);
const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: BROKERS });

const log = (line: string) => process.stderr.write(`[bench-kafka] ${line}\n`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

// ---- processes ----

/** A running psql-streamer: its stderr, its persisted position, its peak RSS. */
class Streamer {
  readonly proc: ReturnType<typeof Bun.spawn>;
  readonly started = performance.now();
  stderr = '';
  startupMs = 0;
  startupCpuUs = 0;
  peakRssKb = 0;
  finished = false;
  private db: Database | undefined;

  constructor(readonly dir: string, config: string, main = MAIN) {
    const file = join(dir, 'bench.toml');
    writeFileSync(file, config);
    const profile = args['cpu-prof'];
    const cmd = [process.execPath];
    if (profile) cmd.push('--cpu-prof', `--cpu-prof-dir=${profile}`);
    if (args.trace) cmd.push('--preload', join(import.meta.dir, 'lib', 'loop-monitor.ts'));
    cmd.push(main, '-config', file);
    const env: Record<string, string | undefined> = { ...process.env };
    if (args['engine-own']) env.BUN_JSC_forceRAMSize = '0';
    // Under --cpu-prof the streamer's restart with its engine settings (execve) would replace the
    // profiled process: the settings are given here instead (unless the environment has its own).
    else if (profile) Object.assign(env, withEngineDefaults(env));
    if (args.trace) Object.assign(env, { PSQL_STREAMER_LOOP_TRACE: join(dir, 'loop-stalls.jsonl'), PSQL_STREAMER_MEM_TRACE: join(dir, 'memory.jsonl') });
    const proc = Bun.spawn(cmd, { stdout: 'ignore', stderr: 'pipe', env });
    this.proc = proc;
    void proc.exited.then(() => { this.finished = true; });
    const decoder = new TextDecoder();
    void (async () => {
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
        this.stderr += decoder.decode(chunk, { stream: true });
        if (this.startupMs === 0 && this.stderr.includes('Streaming from')) {
          this.startupMs = performance.now() - this.started;
          this.startupCpuUs = sampleProc(proc.pid)?.cpuUs ?? 0;
        }
      }
    })();
  }

  sample(): ProcSample | undefined {
    const s = sampleProc(this.proc.pid);
    if (s) this.peakRssKb = Math.max(this.peakRssKb, s.rssKb, s.hwmKb);
    return s;
  }

  persisted(): bigint {
    try {
      this.db ??= new Database(join(this.dir, 'state.db'), { readonly: true });
      const row = this.db.query('SELECT position FROM positions WHERE source = ?').get('bench') as { position: string } | null;
      return BigInt(row?.position ?? 0);
    } catch {
      return 0n;
    }
  }

  async waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      this.sample();
      if (this.finished) throw new Error(`psql-streamer exited while waiting for ${what}:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${this.stderr.slice(-3000)}`);
      await Bun.sleep(10);
    }
  }

  /** The /metrics text of the running streamer. */
  async metrics(): Promise<string> {
    const url = /HTTP listening to (http:\/\/\S+)/.exec(this.stderr)?.[1];
    return url ? (await fetch(`${url}/metrics`)).text() : '';
  }

  async stop(): Promise<void> {
    this.db?.close();
    this.proc.kill('SIGTERM');
    const code = await this.proc.exited;
    if (code !== 0) log(`warning: psql-streamer exited with ${code} after SIGTERM:\n${this.stderr.slice(-3000)}`);
  }
}

function streamerConfig(
  dir: string, slot: string, publication: string, topic: string, batchSize: number, flushInterval: string, exactlyOnce = false,
): string {
  // --compare's checkout too (so both run with the same target): it must know the key (main does since 2026-12-07).
  const gc = args['memory-target'] === undefined ? '' : `memoryTarget = ${JSON.stringify(args['memory-target'])}\n`;
  return `${gc}${benchSourceToml({ dir, pg: PG, publication, slot, batchSize, flushInterval, extra: process.env.BENCH_SOURCE_EXTRA })}
[sink.kafka]
type = "kafka"
sources = ["bench"]
hosts = ${JSON.stringify(BROKERS)}
handlers = ["passthrough"]
topicFallback = "${topic}"
requiredAcks = -1
exactlyOnce = ${exactlyOnce}
transactionalId = "bench-${topic}"
${process.env.BENCH_SINK_EXTRA ?? ''}
`;
}

// ---- PostgreSQL and Kafka helpers ----

const dropSlot = (slot: string): Promise<void> => dropSlotWhenFree(sql, slot);

async function currentLsn(): Promise<bigint> {
  const [row] = await sql<{ lsn: string }[]>`select (pg_current_wal_insert_lsn() - '0/0')::text as lsn`;
  return BigInt(row!.lsn);
}



/**
 * Every message of a LogAppendTime topic as [append time ms, CommitTime µs, Timestamp µs, visible
 * ms], read uncommitted with raw fetches (the batch's maxTimestamp is the append time;
 * @platformatic/kafka's messages carry the producer's). Visible: when a read_committed consumer can
 * have it, the append time of its transaction's commit marker (bench/lib/visibility.ts), or its own
 * outside a transaction. Records of aborted transactions are left out (the sink wrote them again).
 */
async function appendAndCommitTimes(topic: string): Promise<Array<[number, number, number, number]>> {
  const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
  const described = metadata.topics.get(topic)!;
  const consumer = new Consumer({ groupId: `bench-read-${Date.now()}`, clientId: 'bench-read', bootstrapBrokers: BROKERS, isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED });
  const out: Array<[number, number, number, number]> = [];
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic)!;
    for (let partition = 0; partition < described.partitionsCount; partition++) {
      let offset = 0n;
      const end = ends[partition]!;
      const seen: VisibilityBatch[] = [];
      const records: Array<[number, number, number]> = [];
      while (offset < end) {
        const response = await consumer.fetch({
          node: described.partitions[partition]!.leader,
          topics: [{ topicId: described.id, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: 8 * 2 ** 20 }] }],
          maxBytes: 8 * 2 ** 20, minBytes: 1, maxWaitTime: 500,
        });
        const batches = response.responses[0]?.partitions[0]?.records ?? [];
        for (const batch of batches) {
          const logAppendTime = (batch.attributes & 0x08) !== 0;
          const appendMs = Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp);
          const entry: VisibilityBatch = { producerId: batch.producerId, transactional: (batch.attributes & 0x10) !== 0, appendMs, records: [] };
          if ((batch.attributes & 0x20) !== 0) {
            // A control record's key: version (int16), then type (int16): 0 abort, 1 commit.
            entry.control = { commit: batch.records[0]?.key?.readInt16BE(2) === 1 };
          } else {
            for (const record of batch.records) {
              if (batch.firstOffset + BigInt(record.offsetDelta) < offset) continue;
              const value = record.value!.toString();
              const commit = /"CommitTime":"([^"]+)"/.exec(value)?.[1];
              const processed = /"Timestamp":"([^"]+)"/.exec(value)?.[1];
              if (commit === undefined || processed === undefined) continue;
              entry.records.push(records.length);
              records.push([logAppendTime ? appendMs : Number(batch.firstTimestamp + record.timestampDelta), rfc3339Micros(commit), rfc3339Micros(processed)]);
            }
          }
          seen.push(entry);
          offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        }
        if (batches.length === 0) break;
      }
      for (const [id, visibleMs] of visibleTimes(seen)) if (!Number.isNaN(visibleMs)) out.push([...records[id]!, visibleMs]);
    }
  } finally {
    await consumer.close(true);
  }
  return out;
}

/** µs during which some task waited for a CPU (/proc/pressure/cpu, "some"); 0 where PSI is missing. */
function cpuPressureUs(): number {
  try {
    return Number(/^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Microseconds since the epoch of an RFC 3339 time with up to 9 fraction digits. */
function rfc3339Micros(text: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) throw new Error(`not RFC 3339: ${text}`);
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  const fraction = Number(((match[2] ?? '') + '000000').slice(0, 6));
  return seconds * 1000 + fraction;
}

/** p50/p99 of a Prometheus histogram's buckets (upper bounds), from /metrics text. */
function histogramPercentiles(metrics: string, name: string, label = ''): { p50: number; p90: number; p99: number; count: number } {
  const buckets: Array<[number, number]> = [];
  for (const match of metrics.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\d+)`, 'gm'))) {
    const le = /le="([^"]+)"/.exec(match[1]!)?.[1];
    if (le === undefined || !match[1]!.includes(label)) continue;
    buckets.push([le === '+Inf' ? Infinity : Number(le), Number(match[2])]);
  }
  const count = buckets.at(-1)?.[1] ?? 0;
  const at = (p: number) => buckets.find(([, c]) => c >= p * count)?.[0] ?? NaN;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), count };
}

/** A counter's value (summed over the series whose labels include `label`). */
function counterValue(metrics: string, name: string, label = ''): number {
  let sum = 0;
  for (const match of metrics.matchAll(new RegExp(`^${name}\\{([^}]*)\\} ([\\d.e+]+)`, 'gm'))) if (match[1]!.includes(label)) sum += Number(match[2]);
  return sum;
}

/** Exactly once: the stages of the sink's transactions (kafka_sink_transaction_stage_seconds), in ms (bucket bounds: "≤"). */
const TRANSACTION_STAGES = ['begin', 'produce', 'offsets', 'end', 'transaction'] as const;

// ---- phase: throughput ----

interface ThroughputRun {
  consumer: ConsumerKind;
  run: number;
  wallMs: number;
  startupMs: number;
  rowsPerSec: number;
  streamingRowsPerSec: number;
  cpuUsPerEvent: number;
  streamingCpuUsPerEvent: number;
  peakRssMb: number;
  /** The Kafka broker's CPU (all its threads) during the streamer's run, per row; undefined when not measured. */
  brokerCpuUsPerEvent?: number;
}

async function runRecv(run: number, slot: string, publication: string, end: bigint): Promise<ThroughputRun> {
  const started = performance.now();
  const proc = Bun.spawn([
    join(PG.bin, 'pg_recvlogical'), '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', PG.database,
    `--slot=${slot}`, '--start', '--no-loop', '-o', 'proto_version=1', '-o', `publication_names=${publication}`,
    '--plugin=pgoutput', '-f', '/dev/null', `--endpos=${formatLsn(end)}`,
  ], { stdout: 'ignore', stderr: 'pipe' });
  let peakKb = 0;
  let finished = false;
  void proc.exited.then(() => { finished = true; });
  while (!finished) {
    const s = sampleProc(proc.pid);
    if (s) peakKb = Math.max(peakKb, s.rssKb, s.hwmKb);
    await Bun.sleep(10);
  }
  const code = await proc.exited;
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`pg_recvlogical exited with ${code}: ${await new Response(proc.stderr).text()}`);
  const usage = proc.resourceUsage();
  const cpuUs = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) : 0;
  return {
    consumer: 'recv', run, wallMs, startupMs: 0, rowsPerSec: ROWS / (wallMs / 1000), streamingRowsPerSec: ROWS / (wallMs / 1000),
    cpuUsPerEvent: cpuUs / ROWS, streamingCpuUsPerEvent: cpuUs / ROWS, peakRssMb: peakKb / 1024,
  };
}

/** pg_recvlogical, psql-streamer → Kafka, and the same with exactlyOnce = true (--exactly-once). */
type ConsumerKind = 'recv' | 'streamer' | 'eos' | 'compare';

async function runStreamerToKafka(run: number, slot: string, publication: string, end: bigint, exactlyOnce = false, main = MAIN): Promise<ThroughputRun> {
  const dir = mkdtempSync(join(tmpdir(), 'psql-streamer-bench-kafka-'));
  const topic = `bench-throughput-${run}-${Date.now()}`;
  await createBenchTopic(admin, topic, PARTITIONS);
  try {
    const brokerBefore = BROKER_PID === undefined ? undefined : sampleProc(BROKER_PID)?.cpuUs;
    const streamer = new Streamer(dir, streamerConfig(dir, slot, publication, topic, BATCH_SIZE, '100ms', exactlyOnce), main);
    await streamer.waitFor(`persisted position ${formatLsn(end)}`, () => streamer.persisted() >= end, 900_000);
    const brokerAfter = BROKER_PID === undefined ? undefined : sampleProc(BROKER_PID)?.cpuUs;
    const wallMs = performance.now() - streamer.started;
    const final = streamer.sample();
    const metrics = await streamer.metrics();
    await streamer.stop();
    if (args.trace) {
      const file = join(dir, 'memory.jsonl');
      const samples = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as number[]) : [];
      const peak = samples.reduce((best, s) => (s[1]! > (best?.[1] ?? 0) ? s : best), undefined as number[] | undefined);
      const mb = (n: number | undefined) => fmt((n ?? 0) / 1048576, 1);
      if (peak) log(`  memory at the RSS peak: rss ${mb(peak[1])} MB, JS heap used ${mb(peak[2])} of ${mb(peak[3])} MB, external ${mb(peak[4])} MB (array buffers ${mb(peak[5])} MB)`);
      writeFileSync(`${args.trace}.throughput-${run}.json`, JSON.stringify(samples));
      if (existsSync(`${file}.maps`)) writeFileSync(`${args.trace}.throughput-${run}.maps.jsonl`, readFileSync(`${file}.maps`));
      writeFileSync(`${args.trace}.throughput-${run}.stderr`, streamer.stderr);
    }
    const produce = histogramPercentiles(metrics, 'kafka_sink_produce_seconds');
    const delivery = histogramPercentiles(metrics, 'pipeline_delivery_seconds');
    const batches = histogramPercentiles(metrics, 'pipeline_batch_events');
    log(`  streamer: ${fmt(batches.count)} batches (events p50 ≤ ${fmt(batches.p50)}), sink write p50 ≤ ${fmt(delivery.p50 * 1000)} ms / p99 ≤ ${fmt(delivery.p99 * 1000)} ms, ` +
      `${fmt(produce.count)} produce requests p50 ≤ ${fmt(produce.p50 * 1000)} ms / p99 ≤ ${fmt(produce.p99 * 1000)} ms` +
      (brokerBefore !== undefined && brokerAfter !== undefined ? `; broker CPU ${fmt((brokerAfter - brokerBefore) / ROWS, 2)} µs/row` : ''));
    const size = await benchTopicSize(BROKERS, topic);
    // In transactions each commit also takes an offset per partition (its marker).
    if (exactlyOnce ? size < ROWS : size !== ROWS) throw new Error(`the topic's end offsets add up to ${size}, expected ${exactlyOnce ? 'at least ' : ''}${ROWS}`);
    const cpuUs = final?.cpuUs ?? 0;
    return {
      consumer: exactlyOnce ? 'eos' : main === MAIN ? 'streamer' : 'compare', run, wallMs, startupMs: streamer.startupMs,
      rowsPerSec: ROWS / (wallMs / 1000), streamingRowsPerSec: ROWS / ((wallMs - streamer.startupMs) / 1000),
      cpuUsPerEvent: cpuUs / ROWS, streamingCpuUsPerEvent: (cpuUs - streamer.startupCpuUs) / ROWS,
      peakRssMb: streamer.peakRssKb / 1024,
      brokerCpuUsPerEvent: brokerBefore !== undefined && brokerAfter !== undefined ? (brokerAfter - brokerBefore) / ROWS : undefined,
    };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughputPhase(): Promise<Record<string, unknown>> {
  const table = 'bench_kafka_batched';
  const publication = `${table}_pub`;
  const consumers: ConsumerKind[] = ['recv', 'streamer', ...(args['exactly-once'] ? ['eos' as const] : []), ...(args.compare ? ['compare' as const] : [])];
  const slots = Array.from({ length: RUNS }, (_, i) => consumers.map((c) => `${table}_${c}_${i + 1}`)).flat();
  for (const slot of slots) await dropSlot(slot);
  await sql.unsafe(`drop publication if exists ${publication}`);
  await sql.unsafe(`drop table if exists ${table}`);
  await sql.unsafe(benchTableDdl(table));
  await sql.unsafe(`create publication ${publication} for table ${table}`);
  for (const slot of slots) await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  const before = await currentLsn();
  const generated = performance.now();
  await sql.unsafe(benchRowsInTransactionsSql(table, ROWS, TXN_ROWS));
  const end = await currentLsn();
  log(`throughput: ${fmt(ROWS)} rows in ${fmt(Math.ceil(ROWS / TXN_ROWS))} transactions of ${TXN_ROWS} generated in ${fmt(performance.now() - generated)} ms: ` +
    `${fmt(Number(end - before) / 1048576, 1)} MiB of WAL, end ${formatLsn(end)}`);

  const runs: ThroughputRun[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const order = run % 2 === 1 ? consumers : [...consumers].reverse();
    for (const consumer of order) {
      const slot = `${table}_${consumer}_${run}`;
      const result = consumer === 'recv' ? await runRecv(run, slot, publication, end)
        : await runStreamerToKafka(run, slot, publication, end, consumer === 'eos', consumer === 'compare' ? join(args.compare!, 'src', 'main.ts') : MAIN);
      runs.push(result);
      log(`throughput run ${run} ${consumer.padEnd(8)}: ${fmt(result.wallMs)} ms, ${fmt(result.rowsPerSec)} rows/s` +
        (consumer !== 'recv' ? ` (startup ${fmt(result.startupMs)} ms, streaming ${fmt(result.streamingRowsPerSec)} rows/s)` : '') +
        `, CPU ${fmt(result.cpuUsPerEvent, 2)} µs/event, peak RSS ${fmt(result.peakRssMb, 1)} MB`);
      await dropSlot(slot);
    }
  }
  await sql.unsafe(`drop publication ${publication}`);
  await sql.unsafe(`drop table ${table}`);
  const of = (c: ConsumerKind) => runs.filter((r) => r.consumer === c);
  const summarize = (rs: ThroughputRun[]) => ({
    rowsPerSec: median(rs.map((r) => r.rowsPerSec)),
    streamingRowsPerSec: median(rs.map((r) => r.streamingRowsPerSec)),
    startupMs: median(rs.map((r) => r.startupMs)),
    cpuUsPerEvent: median(rs.map((r) => r.cpuUsPerEvent)),
    streamingCpuUsPerEvent: median(rs.map((r) => r.streamingCpuUsPerEvent)),
    peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
  });
  const recv = summarize(of('recv'));
  const streamer = summarize(of('streamer'));
  const perRun = of('streamer').map((s) => s.rowsPerSec / of('recv').find((r) => r.run === s.run)!.rowsPerSec);
  const eos = args['exactly-once'] ? summarize(of('eos')) : undefined;
  const compare = args.compare ? summarize(of('compare')) : undefined;
  const comparePerRun = of('compare').map((s) => s.rowsPerSec / of('recv').find((r) => r.run === s.run)!.rowsPerSec);
  const eosPerRun = of('eos').map((e) => e.rowsPerSec / of('streamer').find((s) => s.run === e.run)!.rowsPerSec);
  return {
    rows: ROWS, txnRows: TXN_ROWS, runs, recv, streamer, ratio: streamer.rowsPerSec / recv.rowsPerSec, medianRunRatio: median(perRun),
    eos, eosRatio: eos === undefined ? undefined : eos.rowsPerSec / streamer.rowsPerSec, eosMedianRunRatio: eos === undefined ? undefined : median(eosPerRun),
    compare, compareRatio: compare === undefined ? undefined : compare.rowsPerSec / recv.rowsPerSec, compareMedianRunRatio: compare === undefined ? undefined : median(comparePerRun),
  };
}

// ---- phase: latency ----

async function latencyPhase(exactlyOnce = false, main = MAIN): Promise<Record<string, unknown>> {
  const table = 'bench_kafka_latency';
  const publication = `${table}_pub`;
  const slot = `${table}_slot`;
  const recvSlot = `${table}_recv`;
  await dropSlot(slot);
  await dropSlot(recvSlot);
  await sql.unsafe(`drop publication if exists ${publication}`);
  await sql.unsafe(`drop table if exists ${table}`);
  await sql.unsafe(`drop sequence if exists ${table}_ids`);
  await sql.unsafe(benchTableDdl(table));
  await sql.unsafe(`create sequence ${table}_ids`);
  await sql.unsafe(`create publication ${publication} for table ${table}`);
  await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  if (args.baseline) await sql`select pg_create_logical_replication_slot(${recvSlot}, 'test_decoding')`;
  const topic = `bench-latency-${Date.now()}`;
  await createBenchTopic(admin, topic, PARTITIONS, { 'message.timestamp.type': 'LogAppendTime' });
  const dir = mkdtempSync(join(tmpdir(), 'psql-streamer-bench-kafka-'));
  const script = join(dir, 'insert.sql');
  writeFileSync(script, benchRowsSql(table, `nextval('${table}_ids')`, `currval('${table}_ids')`).trim() + ';\n');
  try {
    // Latency settings: a batch goes FLUSH_INTERVAL after its first event (or when 1,000 are in).
    const streamer = new Streamer(dir, streamerConfig(dir, slot, publication, topic, 1000, FLUSH_INTERVAL, exactlyOnce), main);
    await streamer.waitFor('streaming', () => streamer.startupMs > 0, 60_000);
    const total = WARMUP + SECONDS;
    const recv = args.baseline ? startRecvLatency(PG, recvSlot) : undefined;
    const pressureBefore = cpuPressureUs();
    const cpuBefore = streamer.sample();
    const brokerBefore = BROKER_PID === undefined ? undefined : sampleProc(BROKER_PID)?.cpuUs;
    log(`latency${exactlyOnce ? ' (exactly once)' : ''}${main === MAIN ? '' : ` (--compare ${args.compare})`}: pgbench at ${fmt(RATE)} transactions/s for ${total} s (${WARMUP} s warm-up), batchFlushInterval ${FLUSH_INTERVAL}`);
    const benchStarted = Date.now();
    const pgbench = Bun.spawn([
      join(PG.bin, 'pgbench'), '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-n', '-M', 'prepared',
      '-c', '8', '-j', '2', '-R', String(RATE), '-T', String(total), '-f', script, PG.database,
    ], { stdout: 'pipe', stderr: 'pipe' });
    let benchDone = false;
    void pgbench.exited.then(() => { benchDone = true; });
    const [walsender] = await sql<{ pid: number | null }[]>`select active_pid as pid from pg_replication_slots where slot_name = ${slot}`;
    const sched = args.trace ? sampleSched(streamer.proc.pid, walsender?.pid ?? undefined) : undefined;
    const walsenderBefore = walsender?.pid ? { at: Date.now(), cpuUs: sampleProc(walsender.pid)?.cpuUs } : undefined;
    await streamer.waitFor('pgbench', () => benchDone, (total + 60) * 1000);
    const schedSamples = sched?.stop() ?? [];
    const pressure = (cpuPressureUs() - pressureBefore) / ((Date.now() - benchStarted) * 1000);
    const cpuAfter = streamer.sample();
    const brokerAfter = BROKER_PID === undefined ? undefined : sampleProc(BROKER_PID)?.cpuUs;
    const walsenderAfter = walsender?.pid ? { at: Date.now(), cpuUs: sampleProc(walsender.pid)?.cpuUs } : undefined;
    const pgbenchOut = await new Response(pgbench.stdout).text();
    if ((await pgbench.exited) !== 0) throw new Error(`pgbench failed: ${await new Response(pgbench.stderr).text()}`);
    const achieved = /tps = ([\d.]+)/.exec(pgbenchOut)?.[1];
    const transactions = Number(achieved ?? RATE) * total;
    const end = await currentLsn();
    await streamer.waitFor('everything delivered', () => streamer.persisted() >= end, 120_000);
    await Bun.sleep(recv ? 1000 : 0);
    const recvTimes = recv ? await recv.stop() : [];
    const metrics = await streamer.metrics();
    const produce = histogramPercentiles(metrics, 'kafka_sink_produce_seconds');
    const delivery = histogramPercentiles(metrics, 'pipeline_delivery_seconds');
    const batchEvents = histogramPercentiles(metrics, 'pipeline_batch_events');
    const stages = exactlyOnce
      ? Object.fromEntries(TRANSACTION_STAGES.map((stage) => [stage, histogramPercentiles(metrics, 'kafka_sink_transaction_stage_seconds', `stage="${stage}"`)]))
      : undefined;
    const kafkaTransactions = exactlyOnce ? counterValue(metrics, 'kafka_sink_transactions_total', 'result="committed"') : undefined;
    await streamer.stop();

    const measureFrom = (benchStarted + WARMUP * 1000) * 1000;
    const times = (await appendAndCommitTimes(topic)).filter(([, commitUs]) => commitUs >= measureFrom);
    const latencies = times.map(([appendMs, commitUs]) => appendMs - commitUs / 1000).sort((a, b) => a - b);
    // Where the time goes: commit → the streamer built the event (its Timestamp), then → broker append.
    const toEvent = times.map(([, commitUs, processedUs]) => (processedUs - commitUs) / 1000).sort((a, b) => a - b);
    const toAppend = times.map(([appendMs, , processedUs]) => appendMs - processedUs / 1000).sort((a, b) => a - b);
    // Exactly once: a consumer sees a change at its transaction's commit marker, after the append.
    const toVisible = times.map(([, commitUs, , visibleMs]) => visibleMs - commitUs / 1000).sort((a, b) => a - b);
    const result = {
      code: main === MAIN ? 'this checkout' : args.compare,
      exactlyOnce,
      rate: RATE,
      achievedTps: achieved ? Number(achieved) : undefined,
      measuredMessages: latencies.length,
      p50Ms: percentile(latencies, 50),
      p90Ms: percentile(latencies, 90),
      p99Ms: percentile(latencies, 99),
      p999Ms: percentile(latencies, 99.9),
      maxMs: latencies.at(-1),
      visibleP50Ms: percentile(toVisible, 50),
      visibleP90Ms: percentile(toVisible, 90),
      visibleP99Ms: percentile(toVisible, 99),
      visibleMaxMs: toVisible.at(-1),
      commitToEventP50Ms: percentile(toEvent, 50),
      commitToEventP99Ms: percentile(toEvent, 99),
      eventToAppendP50Ms: percentile(toAppend, 50),
      eventToAppendP99Ms: percentile(toAppend, 99),
      produceP50Ms: produce.p50 * 1000,
      produceP99Ms: produce.p99 * 1000,
      produceRequests: produce.count,
      deliveryP50Ms: delivery.p50 * 1000,
      deliveryP99Ms: delivery.p99 * 1000,
      batchEventsP50: batchEvents.p50,
      batchEventsP99: batchEvents.p99,
      peakRssMb: streamer.peakRssKb / 1024,
      flushInterval: FLUSH_INTERVAL,
      cpuPressure: pressure,
      /** The streamer's CPU (all threads) and its main thread's run time per transaction while pgbench ran. */
      cpuUsPerTx: cpuBefore && cpuAfter ? (cpuAfter.cpuUs - cpuBefore.cpuUs) / transactions : NaN,
      mainRunUsPerTx: cpuBefore && cpuAfter ? ((cpuAfter.mainRunMs - cpuBefore.mainRunMs) * 1000) / transactions : NaN,
      /** The broker's CPU (all threads) per PostgreSQL transaction while pgbench ran: exactly once adds coordinator, marker and log work. */
      brokerCpuUsPerTx: brokerBefore !== undefined && brokerAfter !== undefined ? (brokerAfter - brokerBefore) / transactions : NaN,
      /** The walsender's CPU per PostgreSQL transaction (from when its pid was known to the end of pgbench). */
      walsenderCpuUsPerTx: walsenderBefore?.cpuUs !== undefined && walsenderAfter?.cpuUs !== undefined
        ? (walsenderAfter.cpuUs - walsenderBefore.cpuUs) / (Number(achieved ?? RATE) * ((walsenderAfter.at - walsenderBefore.at) / 1000))
        : NaN,
      /** Exactly once: Kafka transactions committed (whole run) and the broker's CPU per Kafka transaction. */
      kafkaTransactions,
      brokerCpuUsPerKafkaTx: kafkaTransactions && brokerBefore !== undefined && brokerAfter !== undefined ? (brokerAfter - brokerBefore) / kafkaTransactions : undefined,
      /** Exactly once: per stage of the sink's transactions, p50 / p90 / p99 in ms (bucket bounds). */
      transactionStagesMs: stages && Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, { p50: v.p50 * 1000, p90: v.p90 * 1000, p99: v.p99 * 1000, count: v.count }])),
      trace: undefined as ReturnType<typeof summarizeTrace> | undefined,
      recvBaseline: undefined as { transactions: number; p50Ms: number; p99Ms: number; maxMs: number } | undefined,
    };
    if (recv) {
      const recvLatencies = recvTimes.filter(([commitUs]) => commitUs >= measureFrom).map(([c, r]) => (r - c) / 1000).sort((a, b) => a - b);
      result.recvBaseline = { transactions: recvLatencies.length, p50Ms: percentile(recvLatencies, 50), p99Ms: percentile(recvLatencies, 99), maxMs: recvLatencies.at(-1) ?? NaN };
      log(`baseline pg_recvlogical (test_decoding, same run): ${fmt(recvLatencies.length)} commits, commit → receipt p50 ${fmt(result.recvBaseline.p50Ms, 1)} ms, ` +
        `p99 ${fmt(result.recvBaseline.p99Ms, 1)} ms, max ${fmt(result.recvBaseline.maxMs, 1)} ms`);
    }
    if (args.trace) {
      const stallFile = join(dir, 'loop-stalls.jsonl');
      const stalls: Stall[] = existsSync(stallFile) ? readFileSync(stallFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Stall) : [];
      result.trace = summarizeTrace(times.map(([appendMs, commitUs, processedUs]) => [appendMs, commitUs, processedUs]), stalls, schedSamples);
      writeFileSync(args.trace, JSON.stringify({ summary: result.trace, stalls, sched: schedSamples, messages: times }));
      log(`trace: ${JSON.stringify(result.trace)}`);
    }
    log(`latency: ${fmt(latencies.length)} messages measured (pgbench ${achieved ?? '?'} tps): commit → broker append p50 ${fmt(result.p50Ms, 1)} ms, ` +
      `p90 ${fmt(result.p90Ms, 1)} ms, p99 ${fmt(result.p99Ms, 1)} ms, p99.9 ${fmt(result.p999Ms, 1)} ms, max ${fmt(result.maxMs ?? NaN, 1)} ms; ` +
      (exactlyOnce ? `commit → visible (read_committed: the transaction's commit marker) p50 ${fmt(result.visibleP50Ms, 1)} ms, p90 ${fmt(result.visibleP90Ms, 1)} ms, ` +
        `p99 ${fmt(result.visibleP99Ms, 1)} ms, max ${fmt(result.visibleMaxMs ?? NaN, 1)} ms; ` : '') +
      `commit → event p50 ${fmt(result.commitToEventP50Ms, 1)} / p99 ${fmt(result.commitToEventP99Ms, 1)} ms, event → append p50 ${fmt(result.eventToAppendP50Ms, 1)} / p99 ${fmt(result.eventToAppendP99Ms, 1)} ms; ` +
      `produce requests ${fmt(produce.count)} (p50 ≤ ${fmt(result.produceP50Ms, 1)} ms, p99 ≤ ${fmt(result.produceP99Ms, 1)} ms), ` +
      `CPU pressure ${fmt(pressure * 100)}% (share of the time some task waited for a CPU); ` +
      `streamer CPU ${fmt(result.cpuUsPerTx, 1)} µs/transaction (main thread running ${fmt(result.mainRunUsPerTx, 1)}), ` +
      `broker ${fmt(result.brokerCpuUsPerTx, 1)}, walsender ${fmt(result.walsenderCpuUsPerTx, 1)}; ` +
      (result.transactionStagesMs ? `Kafka transactions ${fmt(result.kafkaTransactions ?? NaN)} (broker CPU ${fmt(result.brokerCpuUsPerKafkaTx ?? NaN)} µs each), stages p50 / p90 / p99 ≤ ms: ` +
        `${Object.entries(result.transactionStagesMs).map(([k, v]) => `${k} ${fmt(v.p50, 1)} / ${fmt(v.p90, 1)} / ${fmt(v.p99, 1)}`).join(', ')}; ` : '') +
      `pipeline batches ${fmt(batchEvents.count)} (events p50 ≤ ${fmt(batchEvents.p50)}, p99 ≤ ${fmt(batchEvents.p99)}; delivery p50 ≤ ${fmt(result.deliveryP50Ms, 1)} ms, p99 ≤ ${fmt(result.deliveryP99Ms, 1)} ms); peak RSS ${fmt(result.peakRssMb, 1)} MB`);
    return result;
  } finally {
    await dropSlot(slot);
    await dropSlot(recvSlot);
    await sql.unsafe(`drop publication if exists ${publication}`);
    await sql.unsafe(`drop table if exists ${table}`);
    await sql.unsafe(`drop sequence if exists ${table}_ids`);
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main ----

const [server] = await sql<{ v: string }[]>`select version() as v`;
log(`${server!.v.split(',')[0]}; Kafka at ${BROKERS.join(',')}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); topics of ${PARTITIONS} partitions`);
const report: Record<string, unknown> = {
  date: new Date().toISOString(), server: server!.v, cpus: cpus().length, cpuModel: cpus()[0]?.model, partitions: PARTITIONS, batchSize: BATCH_SIZE,
  engineOwn: args['engine-own'],
};
try {
  if (PHASES.includes('throughput')) report.throughput = await throughputPhase();
  if (PHASES.includes('latency')) {
    // Each mode --latency-runs times; with --compare, the other checkout's streamer right after this one's (A/B/A/B).
    const warmup = Number(args['broker-warmup']);
    if (warmup > 0) log(`broker warm-up: ${fmt(warmup)} writes and ${fmt(warmup)} transactions of 50 events in ${fmt((await warmBroker(admin, BROKERS, warmup)) / 1000, 1)} s`);
    report.brokerWarmupWrites = warmup;
    const modes = (args['latency-modes'] ?? (args['exactly-once'] ? 'at-least-once,exactly-once' : 'at-least-once')).split(',');
    const runs: Array<Record<string, unknown>> = [];
    for (let run = 1; run <= Number(args['latency-runs']); run++) {
      for (const mode of modes) {
        if (mode !== 'at-least-once' && mode !== 'exactly-once') throw new Error(`--latency-modes: unknown mode ${mode}`);
        runs.push(await latencyPhase(mode === 'exactly-once'));
        if (args.compare) runs.push(await latencyPhase(mode === 'exactly-once', join(args.compare, 'src', 'main.ts')));
      }
    }
    report.latencyRuns = runs;
  }
} finally {
  await sql.end({ timeout: 5 });
  await admin.close();
}

const t = report.throughput as {
  recv: Record<string, number>; streamer: Record<string, number>; ratio: number; medianRunRatio: number;
  eos?: Record<string, number>; eosRatio?: number; eosMedianRunRatio?: number;
  compare?: Record<string, number>; compareRatio?: number; compareMedianRunRatio?: number;
} | undefined;
if (t) {
  process.stdout.write('\nthroughput  consumer        rows/s  startup ms  CPU µs/event (streaming)  peak RSS MB\n');
  const rows: Array<readonly [string, Record<string, number>]> = [['pg_recvlogical', t.recv], ['psql-streamer', t.streamer]];
  if (t.eos) rows.push(['exactly-once', t.eos]);
  if (t.compare) rows.push(['--compare', t.compare]);
  for (const [name, r] of rows) {
    process.stdout.write(`            ${name.padEnd(14)} ${fmt(r.rowsPerSec!).padStart(9)} ${fmt(r.startupMs!).padStart(11)}  ` +
      `${`${fmt(r.cpuUsPerEvent!, 2)} (${fmt(r.streamingCpuUsPerEvent!, 2)})`.padStart(24)} ${fmt(r.peakRssMb!, 1).padStart(12)}\n`);
  }
  process.stdout.write(`            ratio psql-streamer → Kafka / pg_recvlogical: ${fmt(t.ratio, 2)} (median of per-run ratios ${fmt(t.medianRunRatio, 2)}; target ≥ 0.7)\n`);
  if (t.compare) process.stdout.write(`            ratio --compare (${args.compare}) → Kafka / pg_recvlogical: ${fmt(t.compareRatio!, 2)} (median of per-run ratios ${fmt(t.compareMedianRunRatio!, 2)})\n`);
  if (t.eos) process.stdout.write(`            ratio exactly-once / at-least-once: ${fmt(t.eosRatio!, 2)} (median of per-run ratios ${fmt(t.eosMedianRunRatio!, 2)}; target ≥ 0.8)\n`);
}
for (const l of (report.latencyRuns ?? []) as Array<Record<string, number> & { code?: string }>) {
  const label = `${l.exactlyOnce ? 'exactly-once' : 'latency'}${l.code === 'this checkout' ? '' : ` (${l.code})`}`;
  process.stdout.write(`\n${label.padEnd(11)} ${fmt(l.rate!)} tx/s target (pgbench ${fmt(l.achievedTps ?? NaN)} tps), ${fmt(l.measuredMessages!)} messages: commit → broker ack ` +
    `p50 ${fmt(l.p50Ms!, 1)} ms, p99 ${fmt(l.p99Ms!, 1)} ms (target ≤ 25), max ${fmt(l.maxMs!, 1)} ms; peak RSS ${fmt(l.peakRssMb!, 1)} MB; CPU pressure ${fmt(l.cpuPressure! * 100)}%\n`);
  process.stdout.write(`            CPU µs per transaction: streamer ${fmt(l.cpuUsPerTx!, 1)}, broker ${fmt(l.brokerCpuUsPerTx!, 1)}, walsender ${fmt(l.walsenderCpuUsPerTx!, 1)}; ` +
    `commit → event p99 ${fmt(l.commitToEventP99Ms!, 1)} ms, event → append p99 ${fmt(l.eventToAppendP99Ms!, 1)} ms\n`);
  const stages = (l as { transactionStagesMs?: Record<string, Record<string, number>> }).transactionStagesMs;
  if (stages) {
    process.stdout.write(`            ${fmt(l.kafkaTransactions!)} Kafka transactions (broker ${fmt(l.brokerCpuUsPerKafkaTx!)} CPU µs each); stage p50 / p90 / p99 ≤ ms: ` +
      `${Object.entries(stages).map(([k, v]) => `${k} ${fmt(v.p50!, 1)} / ${fmt(v.p90!, 1)} / ${fmt(v.p99!, 1)}`).join(', ')}\n`);
  }
  const b = (l as { recvBaseline?: Record<string, number> }).recvBaseline;
  if (b) process.stdout.write(`            baseline pg_recvlogical (test_decoding) commit → receipt p50 ${fmt(b.p50Ms!, 1)} ms, p99 ${fmt(b.p99Ms!, 1)} ms, max ${fmt(b.maxMs!, 1)} ms\n`);
}
if (args.json) {
  writeFileSync(args.json, JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
  log(`results written to ${args.json}`);
}
