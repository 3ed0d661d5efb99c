/**
 * Crash-safety harness shared by crash.test.ts and scripts/soak-crash: runs psql-streamer as a
 * child process (PostgreSQL source → file sink, SQLite state), kills it with SIGKILL at random
 * moments while a writer commits transactions, restarts it, and checks the delivery contract of
 * docs/delivery.md on the file it wrote (the checks: analyse.ts):
 *
 * - every committed (row id, version) is in the file at least once (nothing lost);
 * - per row, the first occurrences of its versions are in commit order (replays may repeat);
 * - every transaction arrives whole (all its changes, under one CommitLSN), CommitLSNs follow the
 *   writer's commit order, events of one run are in commit order, and after a crash only
 *   transactions after the persisted position are replayed (duplicates only for what was in flight);
 * - a replayed change carries its first delivery's UUID and the same JSON but Timestamp, distinct
 *   changes distinct UUIDs, each as docs/kafka.md derives it ("Event identity (UUID)"; identity.ts);
 * - at every kill, the persisted position (state file) never runs ahead of the file, and the slot's
 *   confirmed_flush_lsn never runs ahead of the persisted position (persist first, then confirm);
 * - no start refuses (exit code 3, docs/operations.md "Positions the server must agree with"): after
 *   a kill -9 the slot is at or behind the saved position, never ahead of it.
 *
 * Each run's output is a segment of the file (its byte range is known from the file size at each
 * kill), so a line torn by the kill is recognised as such and not mistaken for corruption.
 */
import { join } from 'node:path';
import { EventIdentity } from '../../../src/event/identity.ts';
import { postgresSourceToml, sinkToml, streamerToml } from '../configs.ts';
import { createStream, dropSlot, pgClient, type PgServer } from '../pg.ts';
import { confirmedFlush } from '../postgres-source.ts';
import { readPersisted, startStreamer, waitFor, type StreamerProcess } from '../streamer.ts';
import { analyse, type CrashCycle } from './analyse.ts';
import { CHUNK, fileSize, forEachLine, parseLine } from './output.ts';
import { Writer, randomBetween } from './writer.ts';

const SOURCE = 'crash';

export interface CrashOptions {
  server: PgServer;
  /** Temp dir for config, state and output files. */
  dir: string;
  /** Number of start → run → SIGKILL cycles before the final run. */
  cycles: number;
  minRunMs?: number;
  maxRunMs?: number;
  /** Share of cycles killed a random time after spawn (often during startup) instead of after streaming began. */
  startupKillShare?: number;
  /** Row changes per transaction (inserts and updates); every transaction has exactly this many events. */
  changesPerTxn?: number;
  /** Probability that a change inserts a new row rather than updating an existing one. */
  insertShare?: number;
  /** Pause of the writer between transactions (0 = as fast as it can). */
  writerPauseMs?: number;
  /** Every this many transactions, one large transaction inserting bigTxnRows rows (0 = never). */
  bigTxnEvery?: number;
  bigTxnRows?: number;
  batchSize?: number;
  batchFlushInterval?: string;
  catchUpTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * The `[sink.out]` lines of another sink whose output ends up in `outFile` (e.g. an HTTP sink
   * whose receiver appends what it accepts there); default the file sink writing `outFile`.
   */
  sink?: (outFile: string) => { type: string; lines: string };
}

export interface CrashReport {
  cycles: CrashCycle[];
  transactions: number;
  /** Committed row versions (one per insert or update). */
  committedChanges: number;
  bigTransactions: number;
  rows: number;
  eventsInFile: number;
  distinctEvents: number;
  duplicates: number;
  /** Duplicates found equal to their first delivery: same (CommitLSN, TxIndex), same UUID, same JSON but Timestamp. */
  sameIdentityDuplicates: number;
  /** Lines cut short by a kill (their events were replayed by the next run). */
  tornLines: number;
  /** Time from the final start until every committed change was in the file. */
  catchUpMs: number;
  /** Runs (the final one included) whose start check refused to stream. */
  refusals: number;
  finalExitCode: number;
  /** Everything that broke the contract; empty when the run passed. */
  problems: string[];
  totalMs: number;
}

/** The config of every run: PostgreSQL source `crash` → file sink, SQLite state. */
export function streamerConfig(options: {
  server: PgServer;
  stateFile: string;
  outFile: string;
  publication: string;
  slot: string;
  batchSize: number;
  batchFlushInterval: string;
  /** See CrashOptions.sink. */
  sink?: (outFile: string) => { type: string; lines: string };
}): string {
  const sink = options.sink?.(options.outFile) ?? { type: 'file', lines: `path = "${options.outFile}"` };
  return streamerToml({
    state: options.stateFile,
    top: 'shutdownTimeout = "20s"',
    sections: [
      postgresSourceToml({
        name: SOURCE,
        server: options.server,
        publication: options.publication,
        slot: options.slot,
        batchFlushInterval: options.batchFlushInterval,
        statusInterval: '1s',
        source: `startRetryInterval = "100ms"\nbatchSize = ${options.batchSize}`,
      }),
      sinkToml('out', sink.type, sink.lines, [SOURCE]),
    ],
  });
}

/** What a run's start check said (see CrashCycle.slotBehind and .refused). */
export function startCheckOutcome(stderr: string): { slotBehind: bigint; refused: boolean } {
  const behind = /is (\d+) bytes behind the resume position/.exec(stderr)?.[1];
  return { slotBehind: BigInt(behind ?? 0), refused: stderr.includes('Refusing to stream') };
}

/**
 * Lets a started streamer `run` until its kill (wait for a log line, sleep, ...); a streamer that
 * exited by itself meanwhile is a problem. Returns whether it did.
 */
export async function runBeforeKill(streamer: StreamerProcess, cycle: number, problem: (text: string) => void, run: () => Promise<void>): Promise<boolean> {
  let diedEarly = false;
  try {
    await run();
    diedEarly = streamer.proc.exitCode !== null || streamer.proc.signalCode !== null;
  } catch (err) {
    diedEarly = streamer.proc.exitCode !== null;
    if (!diedEarly) problem(`cycle ${cycle}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (diedEarly) problem(`cycle ${cycle}: the streamer exited by itself (code ${streamer.proc.exitCode}) before the kill:\n${streamer.stderr()}`);
  return diedEarly;
}

/** SIGKILL and wait until the process is gone. */
export async function kill9(streamer: StreamerProcess): Promise<void> {
  streamer.proc.kill('SIGKILL');
  await streamer.exited;
}

/**
 * The crash run: `cycles` × (start, run a random 150–800 ms while the writer commits, SIGKILL),
 * then the writer stops, a last start must deliver everything and exit 0 on SIGTERM.
 */
export async function runCrashCycles(options: CrashOptions): Promise<CrashReport> {
  const began = performance.now();
  const minRunMs = options.minRunMs ?? 150;
  const maxRunMs = options.maxRunMs ?? 800;
  const startupKillShare = options.startupKillShare ?? 0.2;
  const changesPerTxn = options.changesPerTxn ?? 5;
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
  };

  const sql = pgClient(options.server, { max: 2 });
  const stateFile = join(options.dir, 'state.db');
  const outFile = join(options.dir, 'out.jsonl');
  let slot: string | undefined;
  try {
    const stream = await createStream(sql, 'crash', 'id int primary key, version int not null, txn int not null, payload text');
    slot = stream.slot;
    const config = streamerConfig({
      server: options.server,
      stateFile,
      outFile,
      publication: stream.publication,
      slot: stream.slot,
      batchSize: options.batchSize ?? 100,
      batchFlushInterval: options.batchFlushInterval ?? '20ms',
      sink: options.sink,
    });
    const writer = new Writer(sql, stream.table, {
      changesPerTxn,
      insertShare: options.insertShare ?? 0.3,
      pauseMs: options.writerPauseMs ?? 0,
      bigTxnEvery: options.bigTxnEvery ?? 0,
      bigTxnRows: options.bigTxnRows ?? 5000,
    });
    writer.start();

    const cycles: CrashCycle[] = [];
    for (let i = 0; i < options.cycles; i++) {
      const phase = Math.random() < startupKillShare ? 'startup' : 'streaming';
      const runMs = randomBetween(minRunMs, maxRunMs);
      const streamer = startStreamer(options.dir, config, `run-${i}`);
      const diedEarly = await runBeforeKill(streamer, i, problem, async () => {
        if (phase === 'streaming') await streamer.waitForLog('Streaming from', 30_000);
        await Promise.race([Bun.sleep(runMs), streamer.exited]);
      });
      await kill9(streamer);
      if (writer.error !== undefined) throw writer.error;
      const cycle: CrashCycle = {
        phase,
        runMs,
        diedEarly,
        fileSize: fileSize(outFile),
        persisted: readPersisted(stateFile, SOURCE),
        confirmed: await confirmedFlush(sql, stream.slot),
        ...startCheckOutcome(streamer.stderr()),
      };
      cycles.push(cycle);
      if (cycle.refused) problem(`cycle ${i}: the start check refused after a kill -9 (a false refusal):\n${streamer.stderr()}`);
      log(`cycle ${i + 1}/${options.cycles}: killed ${cycle.phase === 'streaming' ? `${runMs} ms after streaming began` : `${runMs} ms after spawn`}; ` +
        `file ${cycle.fileSize} bytes, persisted ${cycle.persisted}, confirmed ${cycle.confirmed}` +
        `${cycle.slotBehind > 0n ? ` (started with the slot ${cycle.slotBehind} bytes behind)` : ''}${cycle.refused ? ', REFUSED' : ''}; writer ${writer.transactions} txns`);
    }

    await writer.stop();
    log(`writer stopped: ${writer.transactions} transactions, ${writer.changes} changes, ${writer.committed.size} rows`);

    // The final run: everything committed must arrive; then a graceful stop.
    const finalStart = performance.now();
    const streamer = startStreamer(options.dir, config, 'final');
    const remaining = new Map(writer.committed);
    let offset = 0;
    const absorb = () => {
      const size = Math.min(fileSize(outFile), offset + CHUNK);
      if (size <= offset) return;
      const tail = forEachLine(outFile, offset, size, (line) => {
        const event = parseLine(line, -1);
        // Versions of a row arrive in order, so the highest one tells how far it got (the full check follows).
        if (event !== undefined && remaining.get(event.id) === event.version) remaining.delete(event.id);
      });
      offset = size - tail.length;
    };
    try {
      await waitFor('every committed change in the file', () => {
        absorb();
        return remaining.size === 0 || streamer.proc.exitCode !== null;
      }, options.catchUpTimeoutMs ?? 30_000, () => `${remaining.size} rows incomplete\n${streamer.stderr()}`);
    } catch (err) {
      problem(err instanceof Error ? err.message : String(err));
    }
    const catchUpMs = performance.now() - finalStart;
    streamer.proc.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finalExitCode = await Promise.race([streamer.exited, new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), 25_000)))]);
    clearTimeout(timer);
    if (finalExitCode === -1) await kill9(streamer);
    if (finalExitCode !== 0) problem(`final run: exit code ${finalExitCode} after SIGTERM (expected 0)\n${streamer.stderr()}`);
    const finalRefused = startCheckOutcome(streamer.stderr()).refused;
    if (finalRefused) problem(`final run: the start check refused after the kills (a false refusal):\n${streamer.stderr()}`);

    const [system] = await sql`SELECT system_identifier::text AS id FROM pg_control_system()`;
    const analysis = analyse({
      outFile,
      cycles,
      committed: writer.committed,
      sizes: writer.sizes,
      slotStart: stream.slotStart,
      identity: EventIdentity.of(system!.id as string, stream.slot),
      problem,
    });
    return {
      cycles,
      transactions: writer.transactions,
      committedChanges: writer.changes,
      bigTransactions: writer.bigTransactions,
      rows: writer.committed.size,
      ...analysis,
      catchUpMs,
      refusals: cycles.filter((c) => c.refused).length + (finalRefused ? 1 : 0),
      finalExitCode,
      problems,
      totalMs: performance.now() - began,
    };
  } finally {
    if (slot !== undefined) await dropSlot(sql, slot).catch(() => {});
    await sql.end({ timeout: 5 });
  }
}

/** Human-readable summary of a report. */
export function summarize(report: CrashReport): string {
  const streaming = report.cycles.filter((c) => c.phase === 'streaming').length;
  const behind = report.cycles.filter((c) => c.slotBehind > 0n);
  const maxBehind = behind.reduce((max, c) => (c.slotBehind > max ? c.slotBehind : max), 0n);
  return [
    `${report.cycles.length} kill -9 cycles (${streaming} while streaming, ${report.cycles.length - streaming} counted from spawn), then a final run`,
    `${report.transactions} transactions (${report.bigTransactions} large), ${report.committedChanges} committed changes on ${report.rows} rows`,
    `${report.eventsInFile} events in the file: ${report.distinctEvents} distinct, ${report.duplicates} duplicates (replays after kills; ` +
      `${report.sameIdentityDuplicates} with their first delivery's UUID and JSON but Timestamp), ${report.tornLines} torn lines`,
    `start checks: ${report.refusals} refused (exit 3); ${behind.length} of ${report.cycles.length} killed runs started with the slot behind the saved position (at most ${maxBehind} bytes), the others at it or killed before the check`,
    `final run caught up in ${Math.round(report.catchUpMs)} ms, exit code ${report.finalExitCode} after SIGTERM; total ${(report.totalMs / 1000).toFixed(1)} s`,
    report.problems.length === 0 ? 'contract held: nothing lost, per-row commit order, whole transactions, no replay before the persisted position, replays with their first UUIDs' : `${report.problems.length} problem(s):\n${report.problems.join('\n')}`,
  ].join('\n');
}
