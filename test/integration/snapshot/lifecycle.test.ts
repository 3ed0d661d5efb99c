/**
 * The `snapshot` modes over restarts (docs/snapshots.md), through src/main.ts as a child process
 * with the file sink: `initial_only` copies then exits 0 (and a second start with the saved
 * position copies nothing and exits 0 too); `initial` on a restart with a saved position does not
 * copy again; `initial` stopped in the middle of its copy resumes it on the next start.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { usePostgres } from '../../helpers/pg.ts';
import { killChildrenAndDropSlots, startStreamer, useTempDirs, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';
import { snapshotConfig, stateFileOf } from '../../helpers/snapshot/config.ts';
import { FileFollower } from '../../helpers/snapshot/follow.ts';
import { SnapshotObserver } from '../../helpers/snapshot/observer.ts';
import { initialProgress } from '../../helpers/snapshot/state.ts';
import { createSnapshotTable, endMark, insertMarker } from '../../helpers/snapshot/table.ts';

const children: StreamerProcess[] = [];
const slots: string[] = [];
afterAll(async () => {
  await killChildrenAndDropSlots(children, slots, pg.sql());
});
const pg = usePostgres();
const newDir = useTempDirs('psql-streamer-snapshot-modes-');

/** A pre-filled table, its config in a fresh dir, and an observer following the file sink. */
async function setUp(mode: 'initial' | 'initial_only', rows: number, chunkSize: number) {
  const sql = pg.sql({ max: 2 });
  const stream = await createSnapshotTable(sql, `snap_${mode}`, rows);
  slots.push(stream.slot);
  const dir = newDir();
  const observer = new SnapshotObserver(stream.table, rows);
  const follower = new FileFollower(join(dir, 'out.jsonl'), (line, run) => observer.onEvent(line, run));
  const config = snapshotConfig({ server: pg.server, dir, publication: stream.publication, slot: stream.slot, mode, chunkSize });
  const start = (name: string) => {
    const child = startStreamer(dir, config, name);
    children.push(child);
    return child;
  };
  return { sql, stream, dir, observer, follower, start };
}

describe('snapshot modes over restarts', () => {
  test('initial_only: copies every row, then exits 0; started again with the saved position, copies nothing and exits 0', async () => {
    const rows = 5_000;
    const t = await setUp('initial_only', rows, 700);
    const first = t.start('first');
    expect(await Promise.race([first.exited, Bun.sleep(60_000).then(() => 'still running')])).toBe(0);
    t.follower.endRun();
    expect(first.stderr()).toContain('snapshot = "initial_only": the initial snapshot is done');
    const final = await t.observer.finalProblems(t.sql);
    expect(final.problems).toEqual([]);
    expect(t.observer.replica.stats.snapshotRows).toBe(rows + 1);
    expect(initialProgress(stateFileOf(t.dir), 'db1')?.snapshotState).toBe('done');

    const second = t.start('second');
    expect(await Promise.race([second.exited, Bun.sleep(60_000).then(() => 'still running')])).toBe(0);
    t.follower.endRun();
    expect(t.observer.runs[1]?.snapshotRows ?? 0).toBe(0);
  }, 150_000);

  test('initial: a restart with a saved position streams on and does not copy again', async () => {
    const rows = 5_000;
    const t = await setUp('initial', rows, 1_000);
    const first = t.start('first');
    await waitFor('the copy', () => {
      t.follower.poll();
      return t.observer.endSeen || first.proc.exitCode !== null;
    }, 60_000, () => first.stderr());
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    t.follower.endRun();
    t.observer.newRun();
    expect(t.observer.runs[0]?.snapshotRows).toBe(rows + 1);

    const second = t.start('second');
    await second.waitForLog('Streaming from', 30_000);
    const marker = endMark(rows) + 2;
    await insertMarker(t.sql, t.stream.table, marker);
    await waitFor('the row inserted after the restart', () => {
      t.follower.poll();
      return t.observer.sawStreamKey(marker);
    }, 30_000, () => second.stderr());
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    t.follower.endRun();
    expect(t.observer.runs[1]?.snapshotRows ?? 0).toBe(0);
    expect(second.stderr()).not.toContain('Initial snapshot');
    expect((await t.observer.finalProblems(t.sql)).problems).toEqual([]);
  }, 150_000);

  test('initial: stopped in the middle of its copy (SIGTERM), the next start resumes after the last persisted key', async () => {
    // 200 chunks: however fast the copy, the stop lands well inside it (polled every 5 ms).
    const rows = 100_000;
    const chunkSize = 500;
    const t = await setUp('initial', rows, chunkSize);
    const first = t.start('first');
    const deadline = Date.now() + 60_000;
    while ((t.observer.runs[0]?.snapshotRows ?? 0) < 3 * chunkSize && first.proc.exitCode === null) {
      if (Date.now() > deadline) throw new Error(`no three chunks within 60 s:\n${first.stderr()}`);
      t.follower.poll();
      await Bun.sleep(5);
    }
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    t.follower.endRun();
    t.observer.newRun();
    const stopped = initialProgress(stateFileOf(t.dir), 'db1');
    expect(stopped?.snapshotState).toBe('running');
    const persistedKey = Number(stopped?.lastKey?.[0]);
    expect(persistedKey).toBeGreaterThan(0);
    // A graceful stop saves the progress of every chunk its drain delivered: the saved key is the
    // last row the first run wrote (before, a chunk acknowledged after the stop was copied again).
    expect(t.observer.runs[0]?.lastKey).toBe(persistedKey);
    expect(t.observer.endSeen).toBe(false);

    const second = t.start('second');
    await waitFor('the rest of the copy', () => {
      t.follower.poll();
      return t.observer.endSeen || second.proc.exitCode !== null;
    }, 60_000, () => second.stderr());
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    t.follower.endRun();
    expect(second.stderr()).toMatch(/Snapshot \S+: resuming/);
    expect(t.observer.runs[1]?.firstKey).toBeGreaterThan(persistedKey);
    // Each row once: the second run copied exactly what the first had not delivered.
    expect(t.observer.replica.stats.snapshotRows).toBe(rows + 1);
    expect((await t.observer.finalProblems(t.sql)).problems).toEqual([]);
    expect(initialProgress(stateFileOf(t.dir), 'db1')?.snapshotState).toBe('done');
  }, 150_000);
});
