/**
 * Snapshot crash harness shared by test/integration/snapshot/crash.test.ts and
 * scripts/soak-snapshot: psql-streamer as a child process (PostgreSQL source with `snapshot =
 * "initial"` → file sink, SQLite state) copies a pre-filled table while a writer inserts, updates
 * and deletes; it is killed with SIGKILL at random points of the copy and restarted, `cycles` times,
 * then a last run finishes. Checked (docs/snapshots.md "Resuming", docs/delivery.md):
 *
 * - the consumer's copy (every run's events applied in order) equals the table's final contents,
 *   row by row: every row present, nothing stale (observer.ts);
 * - progress is resumed, not restarted: after each kill the next run's first snapshot row comes
 *   after the last key the state file had persisted, the persisted progress never goes back, and
 *   the snapshot rows delivered in all stay within the table plus a few chunks per kill.
 */
import postgres from 'postgres';
import { join } from 'node:path';
import { dropSlot, pgClient, type PgServer } from '../pg.ts';
import { startStreamer, waitFor, type StreamerProcess } from '../streamer.ts';
import { snapshotConfig, stateFileOf } from './config.ts';
import { FileFollower } from './follow.ts';
import { SnapshotObserver } from './observer.ts';
import { initialProgress } from './state.ts';
import { ChurnWriter, createSnapshotTable, endMark, insertMarker, type ChurnCounts } from './table.ts';

const SOURCE = 'db1';

export interface SnapshotCrashOptions {
  server: PgServer;
  dir: string;
  rows: number;
  chunkSize: number;
  cycles: number;
  /** Share of kills timed from spawn (often before or at the first chunk). */
  spawnKillShare?: number;
  /** Share of kills timed from "Streaming from" (anywhere in a chunk's life); the rest come once the run delivered its share of rows. */
  streamingKillShare?: number;
  /** A run killed by time lives this long after spawn, or after "Streaming from". */
  minRunMs?: number;
  maxRunMs?: number;
  /** Writer pause between transactions (0 = as fast as it can). */
  writerPauseMs?: number;
  log?: (line: string) => void;
}

/** One start → SIGKILL cycle. */
export interface SnapshotCycle {
  trigger: 'spawn' | 'streaming' | 'rows';
  /** Snapshot rows this run delivered before the kill. */
  snapshotRows: number;
  /** Its first and last snapshot row's key. */
  firstKey: number | undefined;
  lastKey: number | undefined;
  /** Persisted progress after the kill: last key and rows done (undefined: nothing persisted yet). */
  persistedKey: number | undefined;
  persistedRows: number;
  /** The copy was already complete when the kill came. */
  afterCopy: boolean;
  /** The run logged that it resumed the snapshot. */
  loggedResume: boolean;
}

export interface SnapshotCrashReport {
  cycles: SnapshotCycle[];
  writer: ChurnCounts;
  /** Snapshot rows delivered over every run (replays of unacknowledged chunks included). */
  snapshotRows: number;
  tableRows: number;
  tornLines: number;
  finalExitCode: number;
  problems: string[];
  summary: string;
  totalMs: number;
}

const pick = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

export async function runSnapshotCrash(options: SnapshotCrashOptions): Promise<SnapshotCrashReport> {
  const began = performance.now();
  const log = options.log ?? (() => {});
  const sql: postgres.Sql = pgClient(options.server, { max: 4 });
  const problems: string[] = [];
  const stream = await createSnapshotTable(sql, 'snap_crash', options.rows);
  const stateFile = stateFileOf(options.dir);
  const config = snapshotConfig({ server: options.server, dir: options.dir, publication: stream.publication, slot: stream.slot, mode: 'initial', chunkSize: options.chunkSize });
  const observer = new SnapshotObserver(stream.table, options.rows);
  const follower = new FileFollower(join(options.dir, 'out.jsonl'), (line, run) => observer.onEvent(line, run));
  const writer = new ChurnWriter(sql, stream.table, options.rows, { pauseMs: options.writerPauseMs ?? 0 });
  let writerStarted = false;
  const cycles: SnapshotCycle[] = [];
  let previousKey = 0;
  let previousRows = 0;
  let streamer: StreamerProcess | undefined;
  try {
    for (let i = 0; i < options.cycles; i++) {
      const dice = Math.random();
      const spawnShare = options.spawnKillShare ?? 0.2;
      const trigger = dice < spawnShare ? 'spawn' : dice < spawnShare + (options.streamingKillShare ?? 0.3) ? 'streaming' : 'rows';
      streamer = startStreamer(options.dir, config, `run-${i}`);
      if (!writerStarted) {
        // The first start creates the slot: every change after it is in the stream.
        await streamer.waitForLog('Streaming from', 30_000);
        writer.start();
        writerStarted = true;
      }
      const running = streamer;
      // Every run also ends once it delivered its share of the table (0.3–1.5 × rows / (cycles + 2)),
      // so the kills spread over the copy however fast it goes; polled every 5 ms.
      const share = Math.max(1, Math.round((0.3 + 1.2 * Math.random()) * (options.rows / (options.cycles + 2))));
      const runRows = () => observer.runs[i]?.snapshotRows ?? 0;
      let until = Number.POSITIVE_INFINITY;
      if (trigger === 'spawn') until = Date.now() + pick(options.minRunMs ?? 100, options.maxRunMs ?? 1500);
      if (trigger === 'streaming') {
        await running.waitForLog('Streaming from', 30_000).catch(() => {});
        until = Date.now() + pick(0, 300);
      }
      const deadline = Date.now() + 60_000;
      for (;;) {
        follower.poll();
        if (runRows() >= share || Date.now() >= until || observer.endSeen || running.proc.exitCode !== null) break;
        if (Date.now() > deadline) throw new Error(`cycle ${i}: no kill point within 60 s (${runRows()} of ${share} rows):\n${running.stderr().slice(-3000)}`);
        await Bun.sleep(5);
      }
      if (trigger === 'rows') await Bun.sleep(pick(0, 10));
      if (running.proc.exitCode !== null) problems.push(`cycle ${i}: the streamer exited by itself (code ${running.proc.exitCode}):\n${running.stderr().slice(-2000)}`);
      running.proc.kill('SIGKILL');
      await running.exited;
      if (writer.error !== undefined) throw writer.error;
      follower.endRun();
      observer.newRun();
      const run = observer.runs[i];
      const progress = initialProgress(stateFile, SOURCE);
      const persistedKey = progress?.lastKey === null || progress?.lastKey === undefined ? undefined : Number(progress.lastKey[0]);
      const persistedRows = progress?.rowsDone ?? 0;
      const cycle: SnapshotCycle = {
        trigger, snapshotRows: run?.snapshotRows ?? 0, firstKey: run?.firstKey, lastKey: run?.lastKey, persistedKey, persistedRows,
        afterCopy: observer.endSeen, loggedResume: /Snapshot \S+: resuming/.test(running.stderr()),
      };
      // Resumed, not restarted: this run's copy began after what the previous kill left persisted.
      if (previousKey > 0 && cycle.firstKey !== undefined && cycle.firstKey <= previousKey) {
        problems.push(`cycle ${i}: first snapshot row ${cycle.firstKey}, but key ${previousKey} was persisted before (restarted instead of resumed)`);
      }
      if (previousKey > 0 && cycle.snapshotRows > 0 && !cycle.loggedResume) problems.push(`cycle ${i}: no "resuming" line although key ${previousKey} was persisted`);
      if ((persistedKey ?? 0) < previousKey || persistedRows < previousRows) {
        problems.push(`cycle ${i}: persisted progress went back from key ${previousKey} (${previousRows} rows) to ${persistedKey} (${persistedRows} rows)`);
      }
      if (persistedKey !== undefined && cycle.lastKey !== undefined && persistedKey > cycle.lastKey && cycle.firstKey !== undefined) {
        problems.push(`cycle ${i}: key ${persistedKey} persisted, but the run delivered snapshot rows only up to ${cycle.lastKey}`);
      }
      previousKey = Math.max(previousKey, persistedKey ?? 0);
      previousRows = Math.max(previousRows, persistedRows);
      cycles.push(cycle);
      log(`cycle ${i} (${trigger}): ${cycle.snapshotRows} snapshot rows (keys ${cycle.firstKey ?? '-'}..${cycle.lastKey ?? '-'}), persisted key ${persistedKey ?? '-'} (${persistedRows} rows)${cycle.afterCopy ? ', copy already complete' : ''}`);
    }

    // The last run: finishes the copy, then everything the writer committed.
    const final = startStreamer(options.dir, config, 'final');
    streamer = final;
    await waitFor(`the snapshot row of the end mark ${endMark(options.rows)}`, () => {
      follower.poll();
      return observer.endSeen || final.proc.exitCode !== null;
    }, 120_000, () => final.stderr().slice(-3000));
    const counts = await writer.stop();
    const sentinel = endMark(options.rows) + 2;
    await insertMarker(sql, stream.table, sentinel);
    await waitFor('the sentinel row committed after the writer stopped', () => {
      follower.poll();
      return observer.sawStreamKey(sentinel) || final.proc.exitCode !== null;
    }, 90_000, () => final.stderr().slice(-3000));
    final.proc.kill('SIGTERM');
    const finalExitCode = await final.exited;
    follower.endRun();
    const end = await observer.finalProblems(sql);
    problems.push(...end.problems);
    const snapshotRows = observer.runs.reduce((sum, r) => sum + r.snapshotRows, 0);
    const bound = options.rows + 1 + counts.inserts + options.cycles * 3 * options.chunkSize;
    if (snapshotRows > bound) problems.push(`${snapshotRows} snapshot rows delivered in all: more than the table plus three chunks per kill (${bound}): restarted rather than resumed`);
    const finalProgress = initialProgress(stateFile, SOURCE);
    if (finalProgress?.snapshotState !== 'done') problems.push(`the initial snapshot's record is ${finalProgress?.snapshotState ?? 'missing'}, not done`);
    const summary = [
      `${cycles.length} kills (${cycles.filter((c) => c.trigger === 'spawn').length} timed from spawn, ${cycles.filter((c) => c.trigger === 'streaming').length} from "Streaming from", ${cycles.filter((c) => c.afterCopy).length} after the copy was complete), ` +
        `${cycles.filter((c) => c.loggedResume).length} runs logged "resuming"`,
      `table: ${options.rows} pre-filled rows, ${end.tableRows} at the end, ${end.differences} differing in the consumer's copy`,
      `snapshot rows delivered: ${snapshotRows} over ${observer.runs.length} runs (${(snapshotRows / (options.rows + 1)).toFixed(2)}× the table), ${follower.tornLines} torn lines`,
      `writer: ${JSON.stringify(counts)}`,
      observer.summary(),
    ].join('\n');
    return { cycles, writer: counts, snapshotRows, tableRows: end.tableRows, tornLines: follower.tornLines, finalExitCode, problems, summary, totalMs: performance.now() - began };
  } finally {
    if (streamer !== undefined && streamer.proc.exitCode === null) {
      streamer.proc.kill('SIGKILL');
      await streamer.exited;
    }
    await writer.stop().catch(() => {});
    await dropSlot(sql, stream.slot).catch(() => {});
    await sql.end({ timeout: 5 });
  }
}
