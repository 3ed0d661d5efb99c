/**
 * Exactly-once harness shared by test/integration/kafka/exactly-once.test.ts and
 * scripts/soak-exactly-once: psql-streamer as a child process (PostgreSQL source → Kafka sink,
 * `exactlyOnce = true` when asked, SQLite state), killed with SIGKILL at random moments while a
 * writer commits transactions (test/helpers/crash/writer.ts), optionally with the broker stopped
 * and started again mid-run; then a final run until everything committed was read, a graceful
 * stop, and the check (check.ts) of what a read_committed consumer (reader.ts) reads from the
 * data topic: every committed (row id, version) exactly once, in commit order per row.
 *
 * With `exactlyOnce = false` the same run measures at-least-once: nothing lost, in order, and the
 * duplicates each kill causes are counted (the check must see them, or it could never fail).
 *
 * `upstream: 'kafka'` runs a Kafka → Kafka relay instead: a Kafka source (read_committed) reading a
 * topic that a transactional producer writes, committing and aborting transactions (kafka-writer.ts).
 */
import { Admin, Consumer } from '@platformatic/kafka';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaSinkToml, kafkaSourceToml, postgresSourceToml, streamerToml } from '../configs.ts';
import { createTopic, deleteTopics, uniqueTopic } from '../kafka.ts';
import { createStream, dropSlot, pgClient, type PgServer } from '../pg.ts';
import { startStreamer, waitFor } from '../streamer.ts';
import { kill9, runBeforeKill, startCheckOutcome, type CrashOptions } from '../crash/harness.ts';
import { Writer, randomBetween } from '../crash/writer.ts';
import { ExactlyOnceCheck, checkExactlyOnce, type ExactlyOnceReport } from './check.ts';
import { KafkaWriter } from './kafka-writer.ts';
import { CommittedReader, rowVersion } from './reader.ts';
import { auditTopic, describeBatches, diagnoseCommittedFetches, recordsOfFate, type AuditBatch } from './log-audit.ts';
import { filterAbortedFetches } from '../../../src/sources/kafka/read-committed.ts';

const SOURCE = 'eo';
/**
 * How long the final run may take to write and the reader to read everything, by default. Exactly
 * once writes slower than the writer commits on a loaded 2-core box: the final run may have 100,000
 * changes to write (a 60 s limit failed once with 7,183 changes not yet read).
 */
const CATCH_UP_TIMEOUT_MS = 240_000;

/** A broker the harness may stop and start again (RestartableBroker in test/helpers/kafka-sink.ts). */
export interface StoppableBroker {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** The timing, writer and batching options of the crash harness (crash/harness.ts), the same here. */
type CycleOptions = Pick<CrashOptions, 'minRunMs' | 'maxRunMs' | 'startupKillShare' | 'changesPerTxn' | 'insertShare' | 'writerPauseMs' |
  'bigTxnEvery' | 'bigTxnRows' | 'batchSize' | 'batchFlushInterval' | 'catchUpTimeoutMs' | 'log'>;

export interface ExactlyOnceOptions extends CycleOptions {
  pg: PgServer;
  brokers: readonly string[];
  /** Temp dir for config and state. */
  dir: string;
  /** Start → run → SIGKILL cycles before the final run. */
  cycles: number;
  /** The Kafka sink's `exactlyOnce` key (false: at-least-once, duplicates expected after kills). */
  exactlyOnce: boolean;
  /** What the streamer reads: PostgreSQL (default), or a Kafka topic written in transactions (a relay). */
  upstream?: 'postgres' | 'kafka';
  /** With `upstream: 'kafka'`: share of the upstream transactions aborted (default 0.2). */
  abortShare?: number;
  /** Partitions of the data topic (default 3); a row's changes share a key, so a partition. */
  partitions?: number;
  /** With `brokerRestartEvery`: every that many cycles, the broker is stopped and started again mid-run before the kill. */
  broker?: StoppableBroker;
  brokerRestartEvery?: number;
  /** How long the broker stays down, ms (default 500–3000). */
  minBrokerDownMs?: number;
  maxBrokerDownMs?: number;
}

/** One start → run → SIGKILL cycle. */
export interface ExactlyOnceCycle {
  phase: 'streaming' | 'startup';
  runMs: number;
  /** The broker was stopped and started again during this run. */
  brokerRestarted: boolean;
  /** The streamer had exited by itself before the kill (a bug: its log is in problems). */
  diedEarly: boolean;
  /** End offsets of the data topic's partitions after the kill (what this run and the ones before wrote, aborted records included). */
  endOffsets: bigint[];
}

export interface ExactlyOnceRunReport {
  exactlyOnce: boolean;
  upstream: 'postgres' | 'kafka';
  /** Upstream transactions aborted (Kafka upstream only). */
  aborted: number;
  cycles: ExactlyOnceCycle[];
  transactions: number;
  committedChanges: number;
  rows: number;
  /** What the read_committed consumer read, checked. */
  check: ExactlyOnceReport;
  /**
   * The same check on the data topic's log itself (log-audit.ts: every batch read uncommitted, its
   * fate from its producer's control markers), with the records of aborted and still open
   * transactions counted: what the consumer should have read.
   */
  log: ExactlyOnceReport & { aborted: number; open: number };
  /** Time from the final start until every committed change was read. */
  catchUpMs: number;
  finalExitCode: number;
  /** Problems of the run itself (a streamer that died, a refusal, a timeout, unreadable records); the check's are in `check`. */
  problems: string[];
  totalMs: number;
}

/** The Kafka sink `kafka` of every run, writing source `eo`'s events to `topic`. */
function sinkSection(o: { brokers: readonly string[]; topic: string; exactlyOnce: boolean; transactionalId: string }): string {
  const exactly = o.exactlyOnce ? `exactlyOnce = true\ntransactionalId = "${o.transactionalId}"\n` : '';
  return kafkaSinkToml({ brokers: o.brokers, sources: [SOURCE], sink: `topicFallback = "${o.topic}"\nkey = "row"\nrequiredAcks = -1\n${exactly}` });
}

/** What the runs read from and how they are configured. */
interface Upstream {
  config: string;
  writer: Pick<KafkaWriter, 'committed' | 'transactions' | 'changes' | 'error' | 'start' | 'stop'> & { aborted?: number };
  /** The streamer's log line after which it reads. */
  readyLog: string;
  cleanUp(): Promise<void>;
}

/** PostgreSQL source `eo` (its table, publication and slot; SQLite state) and the crash writer. */
async function postgresUpstream(options: ExactlyOnceOptions, sink: string): Promise<Upstream> {
  const sql = pgClient(options.pg, { max: 2 });
  const stream = await createStream(sql, 'eo', 'id int primary key, version int not null, txn int not null, payload text');
  const config = streamerToml({
    state: join(options.dir, 'state.db'),
    top: 'shutdownTimeout = "20s"',
    sections: [
      postgresSourceToml({
        name: SOURCE, server: options.pg, publication: stream.publication, slot: stream.slot,
        batchFlushInterval: options.batchFlushInterval ?? '20ms', statusInterval: '1s',
        source: `startRetryInterval = "100ms"\nbatchSize = ${options.batchSize ?? 100}`,
      }),
      sink,
    ],
  });
  const writer = new Writer(sql, stream.table, {
    changesPerTxn: options.changesPerTxn ?? 5,
    insertShare: options.insertShare ?? 0.3,
    pauseMs: options.writerPauseMs ?? 0,
    bigTxnEvery: options.bigTxnEvery ?? 0,
    bigTxnRows: options.bigTxnRows ?? 5000,
  });
  return {
    config, writer, readyLog: 'Streaming from',
    async cleanUp() {
      await dropSlot(sql, stream.slot).catch(() => {});
      await sql.end({ timeout: 5 });
    },
  };
}

/** Kafka source `eo` (read_committed) on an upstream topic that a transactional producer writes. */
async function kafkaUpstream(options: ExactlyOnceOptions, sink: string, admin: Admin): Promise<Upstream> {
  const partitions = options.partitions ?? 3;
  const topic = uniqueTopic('exactly-once-upstream');
  await createTopic(admin, topic, partitions);
  const config = streamerToml({
    top: 'shutdownTimeout = "20s"',
    sections: [
      kafkaSourceToml({ name: SOURCE, brokers: options.brokers, topics: [topic], group: uniqueTopic('exactly-once-relay'), source: `batchSize = ${options.batchSize ?? 100}\n` }),
      sink,
    ],
  });
  const writer = new KafkaWriter(options.brokers, topic, {
    changesPerTxn: options.changesPerTxn ?? 5,
    insertShare: options.insertShare ?? 0.3,
    abortShare: options.abortShare ?? 0.2,
    pauseMs: options.writerPauseMs ?? 0,
    partitions,
  });
  return { config, writer, readyLog: 'Partitions assigned', cleanUp: () => deleteTopics(admin, [topic]).catch(() => {}) };
}

/** The run: `cycles` kills, then a final run until everything committed was read, then the check. */
export async function runExactlyOnceCycles(options: ExactlyOnceOptions): Promise<ExactlyOnceRunReport> {
  const began = performance.now();
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
  };
  const admin = new Admin({ clientId: 'exactly-once-admin', bootstrapBrokers: [...options.brokers] });
  const topic = uniqueTopic('exactly-once');
  const upstreamKind = options.upstream ?? 'postgres';
  const offsets = new Consumer({ groupId: uniqueTopic('exactly-once-offsets'), clientId: 'exactly-once-offsets', bootstrapBrokers: [...options.brokers] });
  let upstream: Upstream | undefined;
  try {
    await createTopic(admin, topic, options.partitions ?? 3);
    const sink = sinkSection({ brokers: options.brokers, topic, exactlyOnce: options.exactlyOnce, transactionalId: uniqueTopic('psql-streamer-eo') });
    upstream = upstreamKind === 'kafka' ? await kafkaUpstream(options, sink, admin) : await postgresUpstream(options, sink);
    const { config, writer, readyLog } = upstream;
    writer.start();

    const cycles: ExactlyOnceCycle[] = [];
    for (let i = 0; i < options.cycles; i++) {
      const written = async () => (await endOffsets(offsets, topic)).reduce((sum, o) => sum + o, 0n);
      const cycle = await killCycle(options, config, readyLog, i, problem, written);
      cycle.endOffsets = await endOffsets(offsets, topic);
      cycles.push(cycle);
      if (writer.error !== undefined) throw writer.error;
      log(`cycle ${i + 1}/${options.cycles}: killed ${cycle.phase === 'streaming' ? `${cycle.runMs} ms after streaming began` : `${cycle.runMs} ms after spawn`}` +
        `${cycle.brokerRestarted ? ', broker restarted mid-run' : ''}; writer ${writer.transactions} txns; data topic end offsets ${cycle.endOffsets.join(' / ')}`);
    }
    await writer.stop();
    log(`writer stopped: ${writer.transactions} transactions${writer.aborted === undefined ? '' : ` (and ${writer.aborted} aborted)`}, ${writer.changes} changes, ${writer.committed.size} rows`);

    const check = new ExactlyOnceCheck(writer.committed);
    const finalStart = performance.now();
    const streamer = startStreamer(options.dir, config, 'final');
    const reader = await CommittedReader.start(options.brokers, topic, (record) => check.add(record));
    let catchUpMs = 0;
    let finalExitCode = -1;
    try {
      await waitFor('every committed change read from Kafka', async () => {
        await Bun.sleep(200);
        return check.complete() || streamer.proc.exitCode !== null;
      }, options.catchUpTimeoutMs ?? CATCH_UP_TIMEOUT_MS, () => `${reader.records} records read\n${streamer.stderr()}`).catch((err: Error) => problem(err.message));
      catchUpMs = performance.now() - finalStart;
      streamer.proc.kill('SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      finalExitCode = await Promise.race([streamer.exited, new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), 30_000)))]);
      clearTimeout(timer);
      if (finalExitCode === -1) await kill9(streamer);
      writeFileSync(join(options.dir, 'final.log'), streamer.stderr());
      if (finalExitCode !== 0) problem(`final run: exit code ${finalExitCode} after SIGTERM (expected 0)\n${streamer.stderr()}`);
      if (startCheckOutcome(streamer.stderr()).refused) problem(`final run: the start check refused after the kills:\n${streamer.stderr()}`);
      // Whatever the graceful stop still committed (a late duplicate would be here too).
      await reader.settle(2_000, 30_000);
    } finally {
      await reader.close();
    }
    if (reader.error !== undefined) problem(`reading the data topic: ${String(reader.error)}`);
    const logBatches = new Map<number, AuditBatch[]>();
    const audited = await auditTopic(options.brokers, topic, rowVersion, logBatches);
    const logCheck = {
      ...checkExactlyOnce(writer.committed, recordsOfFate(audited, 'committed')),
      aborted: audited.filter((r) => r.fate === 'aborted').length,
      open: audited.filter((r) => r.fate === 'open').length,
    };
    const result = check.finish();
    if (result.lost > 0 && logCheck.lost === 0) {
      for (const line of await diagnoseCommittedFetches(options.brokers, topic, audited, () => {})) problem(`client filter only: ${line}`);
      for (const line of await diagnoseCommittedFetches(options.brokers, topic, audited, filterAbortedFetches)) problem(`client + ours: ${line}`);
      const file = join(options.dir, '..', `exactly-once-log-${topic}.txt`);
      writeFileSync(file, [...logBatches].map(([p, b]) => `partition ${p}: ${describeBatches(b)}`).join('\n') + '\n');
      problem(`the data topic's batches: ${file}`);
    }
    for (const bad of reader.bad) problem(`not an event of the test table: ${bad}`);
    return {
      exactlyOnce: options.exactlyOnce,
      upstream: upstreamKind,
      aborted: writer.aborted ?? 0,
      cycles,
      transactions: writer.transactions,
      committedChanges: writer.changes,
      rows: writer.committed.size,
      check: result,
      log: logCheck,
      catchUpMs,
      finalExitCode,
      problems,
      totalMs: performance.now() - began,
    };
  } finally {
    await upstream?.cleanUp();
    await offsets.close().catch(() => {});
    await deleteTopics(admin, [topic]).catch(() => {});
    await admin.close().catch(() => {});
  }
}

/** One start → run (maybe with a broker restart) → SIGKILL. */
async function killCycle(
  options: ExactlyOnceOptions, config: string, readyLog: string, i: number, problem: (text: string) => void, written: () => Promise<bigint>,
): Promise<ExactlyOnceCycle> {
  const every = options.brokerRestartEvery ?? 0;
  const restart = options.broker !== undefined && every > 0 && i % every === every - 1;
  const phase = !restart && Math.random() < (options.startupKillShare ?? 0.2) ? 'startup' : 'streaming';
  const runMs = randomBetween(options.minRunMs ?? 150, options.maxRunMs ?? 800);
  const streamer = startStreamer(options.dir, config, `run-${i}`);
  const diedEarly = await runBeforeKill(streamer, i, problem, async () => {
    if (phase === 'streaming') await streamer.waitForLog(readyLog, 60_000);
    if (restart) {
      // Stopped while transactions flow, and killed only after writing resumed.
      await waitForProgress(written, 'the first transactions of this run', 60_000);
      await Bun.sleep(runMs / 2);
      const before = await written();
      await options.broker!.stop();
      await Bun.sleep(randomBetween(options.minBrokerDownMs ?? 500, options.maxBrokerDownMs ?? 3000));
      await options.broker!.start();
      await waitForProgress(written, 'writing to resume after the broker restart', 90_000, before);
    }
    await Promise.race([Bun.sleep(restart ? runMs / 2 : runMs), streamer.exited]);
  });
  await kill9(streamer);
  // For a post-mortem (the soak keeps its dir when a run failed).
  writeFileSync(join(options.dir, `run-${i}.log`), streamer.stderr());
  if (startCheckOutcome(streamer.stderr()).refused) problem(`cycle ${i}: the start check refused after a kill -9:\n${streamer.stderr()}`);
  return { phase, runMs, brokerRestarted: restart, diedEarly, endOffsets: [] };
}

/** Waits until the data topic grew by more than a few transaction markers beyond `from` (default: now). */
async function waitForProgress(written: () => Promise<bigint>, what: string, timeoutMs: number, from?: bigint): Promise<void> {
  const start = from ?? (await written());
  await waitFor(what, async () => {
    await Bun.sleep(100);
    return (await written()) > start + 10n;
  }, timeoutMs);
}

/** End offsets of `topic`'s partitions ([] when the brokers do not answer). */
async function endOffsets(client: Consumer, topic: string): Promise<bigint[]> {
  try {
    const offsets = await client.listOffsets({ topics: [topic] });
    return [...(offsets.get(topic) ?? [])];
  } catch {
    return [];
  }
}

/** Human-readable summary of a report. */
export function summarizeExactlyOnce(report: ExactlyOnceRunReport): string {
  const c = report.check;
  const restarts = report.cycles.filter((cycle) => cycle.brokerRestarted).length;
  const verdict = c.lost === 0 && c.duplicates === 0 && c.reordered === 0 && c.unknown === 0 && c.split === 0;
  return [
    `${report.upstream === 'kafka' ? 'Kafka → Kafka relay' : 'PostgreSQL → Kafka'}, exactlyOnce = ${report.exactlyOnce}: ${report.cycles.length} kill -9 cycles (${restarts} with the broker restarted mid-run), then a final run`,
    `${report.transactions} transactions${report.upstream === 'kafka' ? ` (and ${report.aborted} aborted)` : ''}, ${report.committedChanges} committed changes on ${report.rows} rows`,
    `read_committed consumer: ${c.records} records, ${c.distinct} distinct; lost ${c.lost}, duplicates ${c.duplicates}, reordered ${c.reordered}, never committed ${c.unknown}, rows split over partitions ${c.split}; records per partition ${c.perPartition.join(' / ')}`,
    `the log itself (uncommitted read, fates from control markers): ${report.log.records} committed records, ${report.log.distinct} distinct; lost ${report.log.lost}, duplicates ${report.log.duplicates}, reordered ${report.log.reordered}; aborted records ${report.log.aborted}, open ${report.log.open}` +
      (report.log.problems.length === 0 ? '' : `\nlog check: ${report.log.problems.join('\n')}`),
    `final run caught up in ${Math.round(report.catchUpMs)} ms, exit code ${report.finalExitCode} after SIGTERM; total ${(report.totalMs / 1000).toFixed(1)} s`,
    verdict ? 'every committed change exactly once, in commit order per row' : `check: ${c.problems.join('\n')}`,
    ...(report.problems.length === 0 ? [] : [`${report.problems.length} run problem(s):\n${report.problems.join('\n')}`]),
  ].join('\n');
}
