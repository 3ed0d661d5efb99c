/**
 * Snapshot crash safety (docs/snapshots.md "Resuming"): psql-streamer as a child process copies a
 * pre-filled table (`snapshot = "initial"`, chunks of 1,000 rows) while a writer inserts, updates
 * and deletes, and is killed with SIGKILL at random points of the copy, 12 times, then finishes.
 * Every row is present at the end and nothing is stale (the consumer's copy equals the table, row
 * by row, test/helpers/snapshot/replica.ts), and each restart resumed the copy after the last key
 * the state file had persisted instead of starting over. scripts/soak-snapshot runs the same with
 * more cycles and a bigger table.
 */
import { describe, expect, test } from 'bun:test';
import { usePostgres } from '../../helpers/pg.ts';
import { useTempDirs } from '../../helpers/streamer.ts';
import { testOutput } from '../../helpers/quiet.ts';
import { runSnapshotCrash } from '../../helpers/snapshot/crash.ts';

const pg = usePostgres();
const newDir = useTempDirs('psql-streamer-snapshot-crash-');

describe('kill -9 during a snapshot', () => {
  test('12 kills at random points of the copy under concurrent writes: every row present, nothing stale, progress resumed', async () => {
    const rows = 100_000;
    const chunkSize = 1_000;
    const cycles = 12;
    const report = await runSnapshotCrash({
      server: pg.server, dir: newDir(), rows, chunkSize, cycles,
      // The writer paced a little: the copy's chunks, not the writer, should fill the runs.
      writerPauseMs: 2,
      // Each cycle with the test's log (printed if it fails: helpers/quiet.ts); the summary below always.
      log: (line) => testOutput(`[snapshot-crash] ${line}\n`),
    });
    process.stderr.write(`[snapshot-crash] ${report.summary.replaceAll('\n', '\n[snapshot-crash] ')}\n`);
    expect(report.problems).toEqual([]);
    expect(report.finalExitCode).toBe(0);
    expect(report.cycles.length).toBe(cycles);
    // Most kills landed inside the copy, and later runs resumed from a persisted key.
    expect(report.cycles.filter((c) => !c.afterCopy).length).toBeGreaterThanOrEqual(10);
    expect(report.cycles.filter((c) => c.loggedResume).length).toBeGreaterThan(0);
    // Resumed, not restarted: well under one table copy per run.
    expect(report.snapshotRows).toBeLessThan(2 * rows);
    expect(report.writer.deletes).toBeGreaterThan(0);
  }, 240_000);
});
