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
 */
import { Admin } from '@platformatic/kafka';
import { join } from 'node:path';
import { kafkaSinkToml, postgresSourceToml, streamerToml } from '../configs.ts';
import { createTopic, deleteTopics, uniqueTopic } from '../kafka.ts';
import { createStream, dropSlot, pgClient, type PgServer } from '../pg.ts';
import { startStreamer, waitFor } from '../streamer.ts';
import { kill9, startCheckOutcome } from '../crash/harness.ts';
import { Writer, randomBetween } from '../crash/writer.ts';
import { ExactlyOnceCheck, type ExactlyOnceReport } from './check.ts';
import { CommittedReader } from './reader.ts';

const SOURCE = 'eo';

/** A broker the harness may stop and start again (RestartableBroker in test/helpers/kafka-sink.ts). */
export interface StoppableBroker {
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface ExactlyOnceOptions {
  pg: PgServer;
  brokers: readonly string[];
  /** Temp dir for config and state. */
  dir: string;
  /** Start → run → SIGKILL cycles before the final run. */
  cycles: number;
  /** The Kafka sink's `exactlyOnce` key (false: at-least-once, duplicates expected after kills). */
  exactlyOnce: boolean;
  /** Partitions of the data topic (default 3); a row's changes share a key, so a partition. */
  partitions?: number;
  minRunMs?: number;
  maxRunMs?: number;
  /** Share of cycles killed a random time after spawn (often during startup) instead of after streaming began. */
  startupKillShare?: number;
  changesPerTxn?: number;
  insertShare?: number;
  writerPauseMs?: number;
  bigTxnEvery?: number;
  bigTxnRows?: number;
  batchSize?: number;
  batchFlushInterval?: string;
  /** With `brokerRestartEvery`: every that many cycles, the broker is stopped and started again mid-run before the kill. */
  broker?: StoppableBroker;
  brokerRestartEvery?: number;
  /** How long the broker stays down, ms (default 500–3000). */
  minBrokerDownMs?: number;
  maxBrokerDownMs?: number;
  catchUpTimeoutMs?: number;
  log?: (line: string) => void;
}

/** One start → run → SIGKILL cycle. */
export interface ExactlyOnceCycle {
  phase: 'streaming' | 'startup';
  runMs: number;
  /** The broker was stopped and started again during this run. */
  brokerRestarted: boolean;
  /** The streamer had exited by itself before the kill (a bug: its log is in problems). */
  diedEarly: boolean;
}

export interface ExactlyOnceRunReport {
  exactlyOnce: boolean;
  cycles: ExactlyOnceCycle[];
  transactions: number;
  committedChanges: number;
  rows: number;
  /** What the read_committed consumer read, checked. */
  check: ExactlyOnceReport;
  /** Time from the final start until every committed change was read. */
  catchUpMs: number;
  finalExitCode: number;
  /** Problems of the run itself (a streamer that died, a refusal, a timeout, unreadable records); the check's are in `check`. */
  problems: string[];
  totalMs: number;
}

/** The config of every run: PostgreSQL source `eo` → Kafka sink `kafka` writing to `topic`. */
export function exactlyOnceConfig(o: {
  pg: PgServer; brokers: readonly string[]; stateFile: string; publication: string; slot: string; topic: string;
  exactlyOnce: boolean; transactionalId: string; batchSize: number; batchFlushInterval: string;
}): string {
  const exactly = o.exactlyOnce ? `exactlyOnce = true\ntransactionalId = "${o.transactionalId}"\n` : '';
  return streamerToml({
    state: o.stateFile,
    top: 'shutdownTimeout = "20s"',
    sections: [
      postgresSourceToml({
        name: SOURCE, server: o.pg, publication: o.publication, slot: o.slot, batchFlushInterval: o.batchFlushInterval, statusInterval: '1s',
        source: `startRetryInterval = "100ms"\nbatchSize = ${o.batchSize}`,
      }),
      kafkaSinkToml({ brokers: o.brokers, sources: [SOURCE], sink: `topicFallback = "${o.topic}"\nkey = "row"\nrequiredAcks = -1\n${exactly}` }),
    ],
  });
}

/** The run: `cycles` kills, then a final run until everything committed was read, then the check. */
export async function runExactlyOnceCycles(options: ExactlyOnceOptions): Promise<ExactlyOnceRunReport> {
  const began = performance.now();
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
  };
  const sql = pgClient(options.pg, { max: 2 });
  const admin = new Admin({ clientId: 'exactly-once-admin', bootstrapBrokers: [...options.brokers] });
  const topic = uniqueTopic('exactly-once');
  let slot: string | undefined;
  try {
    await createTopic(admin, topic, options.partitions ?? 3);
    const stream = await createStream(sql, 'eo', 'id int primary key, version int not null, txn int not null, payload text');
    slot = stream.slot;
    const config = exactlyOnceConfig({
      pg: options.pg, brokers: options.brokers, stateFile: join(options.dir, 'state.db'), publication: stream.publication, slot: stream.slot,
      topic, exactlyOnce: options.exactlyOnce, transactionalId: uniqueTopic('psql-streamer-eo'),
      batchSize: options.batchSize ?? 100, batchFlushInterval: options.batchFlushInterval ?? '20ms',
    });
    const writer = new Writer(sql, stream.table, {
      changesPerTxn: options.changesPerTxn ?? 5,
      insertShare: options.insertShare ?? 0.3,
      pauseMs: options.writerPauseMs ?? 0,
      bigTxnEvery: options.bigTxnEvery ?? 0,
      bigTxnRows: options.bigTxnRows ?? 5000,
    });
    writer.start();

    const cycles: ExactlyOnceCycle[] = [];
    for (let i = 0; i < options.cycles; i++) {
      const cycle = await killCycle(options, config, i, problem);
      cycles.push(cycle);
      if (writer.error !== undefined) throw writer.error;
      log(`cycle ${i + 1}/${options.cycles}: killed ${cycle.phase === 'streaming' ? `${cycle.runMs} ms after streaming began` : `${cycle.runMs} ms after spawn`}` +
        `${cycle.brokerRestarted ? ', broker restarted mid-run' : ''}; writer ${writer.transactions} txns`);
    }
    await writer.stop();
    log(`writer stopped: ${writer.transactions} transactions, ${writer.changes} changes, ${writer.committed.size} rows`);

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
      }, options.catchUpTimeoutMs ?? 60_000, () => `${reader.records} records read\n${streamer.stderr()}`).catch((err: Error) => problem(err.message));
      catchUpMs = performance.now() - finalStart;
      streamer.proc.kill('SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      finalExitCode = await Promise.race([streamer.exited, new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), 30_000)))]);
      clearTimeout(timer);
      if (finalExitCode === -1) await kill9(streamer);
      if (finalExitCode !== 0) problem(`final run: exit code ${finalExitCode} after SIGTERM (expected 0)\n${streamer.stderr()}`);
      if (startCheckOutcome(streamer.stderr()).refused) problem(`final run: the start check refused after the kills:\n${streamer.stderr()}`);
      // Whatever the graceful stop still committed (a late duplicate would be here too).
      await reader.settle(2_000, 30_000);
    } finally {
      await reader.close();
    }
    if (reader.error !== undefined) problem(`reading the data topic: ${String(reader.error)}`);
    for (const bad of reader.bad) problem(`not an event of the test table: ${bad}`);
    return {
      exactlyOnce: options.exactlyOnce,
      cycles,
      transactions: writer.transactions,
      committedChanges: writer.changes,
      rows: writer.committed.size,
      check: check.finish(),
      catchUpMs,
      finalExitCode,
      problems,
      totalMs: performance.now() - began,
    };
  } finally {
    if (slot !== undefined) await dropSlot(sql, slot).catch(() => {});
    await sql.end({ timeout: 5 });
    await deleteTopics(admin, [topic]).catch(() => {});
    await admin.close().catch(() => {});
  }
}

/** One start → run (maybe with a broker restart) → SIGKILL. */
async function killCycle(options: ExactlyOnceOptions, config: string, i: number, problem: (text: string) => void): Promise<ExactlyOnceCycle> {
  const every = options.brokerRestartEvery ?? 0;
  const restart = options.broker !== undefined && every > 0 && i % every === every - 1;
  const phase = !restart && Math.random() < (options.startupKillShare ?? 0.2) ? 'startup' : 'streaming';
  const runMs = randomBetween(options.minRunMs ?? 150, options.maxRunMs ?? 800);
  const streamer = startStreamer(options.dir, config, `run-${i}`);
  let diedEarly = false;
  try {
    if (phase === 'streaming') await streamer.waitForLog('Streaming from', 60_000);
    if (restart) {
      await Bun.sleep(runMs / 2);
      await options.broker!.stop();
      await Bun.sleep(randomBetween(options.minBrokerDownMs ?? 500, options.maxBrokerDownMs ?? 3000));
      await options.broker!.start();
    }
    await Promise.race([Bun.sleep(restart ? runMs / 2 : runMs), streamer.exited]);
    diedEarly = streamer.proc.exitCode !== null || streamer.proc.signalCode !== null;
  } catch (err) {
    diedEarly = streamer.proc.exitCode !== null;
    if (!diedEarly) problem(`cycle ${i}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (diedEarly) problem(`cycle ${i}: the streamer exited by itself (code ${streamer.proc.exitCode}) before the kill:\n${streamer.stderr()}`);
  await kill9(streamer);
  if (startCheckOutcome(streamer.stderr()).refused) problem(`cycle ${i}: the start check refused after a kill -9:\n${streamer.stderr()}`);
  return { phase, runMs, brokerRestarted: restart, diedEarly };
}

/** Human-readable summary of a report. */
export function summarizeExactlyOnce(report: ExactlyOnceRunReport): string {
  const c = report.check;
  const restarts = report.cycles.filter((cycle) => cycle.brokerRestarted).length;
  const verdict = c.lost === 0 && c.duplicates === 0 && c.reordered === 0 && c.unknown === 0 && c.split === 0;
  return [
    `exactlyOnce = ${report.exactlyOnce}: ${report.cycles.length} kill -9 cycles (${restarts} with the broker restarted mid-run), then a final run`,
    `${report.transactions} transactions, ${report.committedChanges} committed changes on ${report.rows} rows`,
    `read_committed consumer: ${c.records} records, ${c.distinct} distinct; lost ${c.lost}, duplicates ${c.duplicates}, reordered ${c.reordered}, never committed ${c.unknown}, rows split over partitions ${c.split}; records per partition ${c.perPartition.join(' / ')}`,
    `final run caught up in ${Math.round(report.catchUpMs)} ms, exit code ${report.finalExitCode} after SIGTERM; total ${(report.totalMs / 1000).toFixed(1)} s`,
    verdict ? 'every committed change exactly once, in commit order per row' : `check: ${c.problems.join('\n')}`,
    ...(report.problems.length === 0 ? [] : [`${report.problems.length} run problem(s):\n${report.problems.join('\n')}`]),
  ].join('\n');
}
