/**
 * Warm standby as docs/operations.md describes it: two instances with the same sources and sinks,
 * the same state file and the same slot, each on its own http address. The second stands by while
 * the first holds the slot, takes over after the first is killed (kill -9), delivers everything
 * after what the first delivered and nothing of it again, and the shared state file's position
 * never goes back. A second instance on the same http address fails at once with a hint. With an
 * initial snapshot, the standby continues the copy from the key the first one saved.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueName } from '../../helpers/pg.ts';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { confirmedFlush, useSourceTests } from '../../helpers/postgres-source.ts';
import { completeLines, killChildren, startStreamer, storedPosition as positionIn, tempDir, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const storedPosition = (stateFile: string) => positionIn(stateFile, 'db1');

const db = useSourceTests();
const dir = tempDir('psql-streamer-standby-');
const children: StreamerProcess[] = [];

afterAll(async () => {
  await killChildren(children);
  rmSync(dir, { recursive: true, force: true });
});

const lines = (path: string) => completeLines(path).map((line) => ({ id: Number(/"id":(\d+)/.exec(line)![1]), commit: BigInt(/"CommitLSN":(\d+)/.exec(line)![1]!) }));

describe('warm standby', () => {
  test('regression: a second instance on the same config died on the HTTP port; now the standby waits, takes over after kill -9 of the active instance, nothing lost or repeated, state never back', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
    const { slot, publication } = await db.prepare([t]);
    const out = join(dir, 'out.jsonl');
    const state = join(dir, 'state.db');
    // The slot's confirmed position lags far behind the state file (status once an hour): a
    // standby resuming from the slot would deliver the first instance's rows again and write older
    // positions to the shared state file.
    const config = (http: string) => postgresToFileToml({
      server: db.pg.server, publication, slot, state, out, http,
      batchFlushInterval: '10ms', statusInterval: '1h', source: 'startRetryInterval = "200ms"',
    });
    const active = startStreamer(dir, config('127.0.0.1:0'), 'active');
    children.push(active);
    await active.waitForLog('Streaming from');
    const activeUrl = await active.httpUrl();

    // Same http address: refused at once, with the hint.
    const clash = startStreamer(dir, config(activeUrl.slice('http://'.length)), 'clash');
    children.push(clash);
    expect(await clash.exited).toBe(1);
    expect(clash.stderr()).toContain('address in use: another instance? a warm standby needs its own http address');

    const standby = startStreamer(dir, config('127.0.0.1:0'), 'standby');
    children.push(standby);
    await standby.waitForLog(/Standing by: .*replication slot "\w+" is in use by another process/);
    const standbyUrl = await standby.httpUrl();
    const status = await fetch(`${standbyUrl}/status`);
    expect(status.status).toBe(500);
    expect(await status.text()).toContain('standing by');

    // Watch the shared state file the whole time.
    const seen: bigint[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        seen.push(storedPosition(state));
        await Bun.sleep(10);
      }
    })();

    for (let id = 1; id <= 200; id++) await db.sql.unsafe(`INSERT INTO ${t} VALUES (${id})`);
    await waitFor('the active instance delivered 200 rows', () => lines(out).length >= 200, 30_000, active.stderr);
    const lastCommit = lines(out)[199]!.commit;
    await waitFor('... and persisted them', () => storedPosition(state) >= lastCommit, 30_000, active.stderr);
    expect(await confirmedFlush(db.sql, slot)).toBeLessThan(lastCommit);

    active.proc.kill('SIGKILL');
    await active.exited;
    for (let id = 201; id <= 300; id++) await db.sql.unsafe(`INSERT INTO ${t} VALUES (${id})`);
    await standby.waitForLog('Streaming from', 30_000);
    await waitFor('the standby delivered the rest', () => lines(out).some((l) => l.id === 300), 30_000, standby.stderr);
    await waitFor('... and persisted it', () => storedPosition(state) >= lines(out).at(-1)!.commit, 30_000, standby.stderr);
    watching = false;
    await watcher;

    expect(standby.stderr()).toContain('written by another instance');
    expect(lines(out).map((l) => l.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const backwards = seen.findIndex((p, i) => i > 0 && p < seen[i - 1]!);
    expect(backwards).toBe(-1);
    expect(seen.at(-1)!).toBeGreaterThan(lastCommit);
    expect(standby.stderr()).not.toMatch(/ERROR/);

    standby.proc.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
  }, 180_000);

  test('an initial snapshot: the standby takes over the copy where the active instance left it, not from the start', async () => {
    // Small chunks, so the copy takes a thousand round trips (≈ 3 s here), not the 0.3 s a
    // 30,000-row copy in chunks of 300 took once chunks were built as they arrived: the active
    // instance must still be copying when the standby stands by and the test kills it.
    const rows = 120_000;
    const chunk = 100;
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text); INSERT INTO ${t} SELECT g, 'row ' || g FROM generate_series(1, ${rows}) g`);
    const { slot, publication } = await db.prepare([t], { createSlot: false });
    const snapDir = join(dir, 'snapshot');
    mkdirSync(snapDir);
    const out = join(snapDir, 'out.jsonl');
    const state = join(snapDir, 'state.db');
    const config = postgresToFileToml({
      server: db.pg.server, publication, slot, state, out, http: '127.0.0.1:0', batchFlushInterval: '10ms',
      source: `startRetryInterval = "200ms"\nsnapshot = "initial"\nsnapshotChunkSize = ${chunk}`,
    });
    const snapshotIds = () => completeLines(out).filter((l) => l.includes('"Snapshot":true')).map((l) => Number(/"id":(\d+)/.exec(l)![1]));
    const active = startStreamer(snapDir, config, 'snap-active');
    children.push(active);
    await active.waitForLog('Streaming from');
    const standby = startStreamer(snapDir, config, 'snap-standby');
    children.push(standby);
    await standby.waitForLog(/Standing by/);
    // Kill the active instance once it copied (and saved) a good part of the table.
    const saved = () => {
      const db = new Database(state, { readonly: true });
      try {
        const row = db.query<{ body: string }, []>("SELECT body FROM snapshots WHERE id = 'initial'").get();
        return row === null ? 0 : (JSON.parse(row.body).tables[0]?.rowsDone ?? 0) as number;
      } finally {
        db.close();
      }
    };
    await waitFor('the active instance saved 6,000 copied rows', () => saved() >= 6_000, 60_000, active.stderr);
    active.proc.kill('SIGKILL');
    await active.exited;
    const savedAtKill = saved();
    const linesAtKill = snapshotIds().length;

    await standby.waitForLog('Streaming from', 30_000);
    await standby.waitForLog('snapshot initial done', 60_000);
    expect(standby.stderr()).toContain('adopted the progress the other instance saved');
    const ids = snapshotIds();
    expect(new Set(ids).size).toBe(rows);
    // The standby copied what was left after the saved key, plus at most the chunks in flight.
    const copiedByStandby = ids.length - linesAtKill;
    expect(copiedByStandby).toBeLessThanOrEqual(rows - savedAtKill + 3 * chunk);
    expect(standby.stderr()).not.toMatch(/ERROR/);
    standby.proc.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
  }, 180_000);
});
