/**
 * Graceful shutdown of the whole program while a large transaction streams: SIGTERM → exit 0,
 * the state file holds only positions of transactions delivered in full, the slot is confirmed no
 * further; a restart delivers everything (the interrupted transaction again, whole).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueName } from '../../helpers/pg.ts';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { confirmedFlush, useSourceTests } from '../../helpers/postgres-source.ts';
import { startStreamer, storedPosition as persisted, tempDir, waitFor, type StreamerProcess, completeLines } from '../../helpers/streamer.ts';

const db = useSourceTests();
const dir = tempDir('psql-streamer-shutdown-');
const children: StreamerProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.proc.exitCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const BIG = 100_000;

interface Line {
  id: number;
  commitLsn: bigint;
}

function readLines(path: string): Line[] {
  return completeLines(path).map((text) => {
    const id = /"id":(\d+)/.exec(text)![1]!;
    const commit = /"CommitLSN":(\d+)/.exec(text)![1]!;
    return { id: Number(id), commitLsn: BigInt(commit) };
  });
}

describe('graceful shutdown', () => {
  test('SIGTERM while a large transaction streams: exit 0, only delivered transactions persisted; a restart delivers the rest', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text)`);
    const { slot, publication } = await db.prepare([t]);
    const out = join(dir, 'out.jsonl');
    const state = join(dir, 'state.db');
    const config = postgresToFileToml({ server: db.pg.server, publication, slot, state, out, top: 'shutdownTimeout = "30s"' });
    const first = startStreamer(dir, config, 'first');
    children.push(first);
    await first.waitForLog('Streaming from');

    // Small transactions, delivered and persisted before the big one.
    for (let id = 1; id <= 3; id++) await db.sql.unsafe(`INSERT INTO ${t} VALUES (${id}, 'small')`);
    await waitFor('the small rows in the file', () => readLines(out).length >= 3, 20_000, first.stderr);
    const smallCommit = readLines(out)[2]!.commitLsn;
    await waitFor('the small transactions persisted', () => persisted(state, 'db1') > smallCommit, 20_000, first.stderr);
    const smallBytes = statSync(out).size;

    // The big transaction commits, then streams for a while; SIGTERM once part of it is in the file.
    await db.sql.unsafe(`INSERT INTO ${t} SELECT i, 'big' FROM generate_series(1001, ${1000 + BIG}) i`);
    await waitFor('part of the big transaction in the file', () => statSync(out).size > smallBytes + 500_000, 60_000, first.stderr);
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const afterFirst = readLines(out);
    const big = afterFirst.filter((line) => line.id > 1000);
    expect(big.length).toBeGreaterThan(0);
    // Interrupted: the shutdown delivered what was in flight, not the whole transaction.
    expect(big.length).toBeLessThan(BIG);
    const bigCommit = big[0]!.commitLsn;
    const position = persisted(state, 'db1');
    expect(position).toBeGreaterThan(smallCommit);
    expect(position).toBeLessThanOrEqual(bigCommit);
    expect(await confirmedFlush(db.sql, slot)).toBeLessThanOrEqual(position);
    expect(first.stderr()).not.toMatch(/ERROR/);

    // Written while it was down.
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (2000000, 'after restart')`);
    const second = startStreamer(dir, config, 'second');
    children.push(second);
    await waitFor('everything after the restart', () => readLines(out).some((line) => line.id === 2_000_000), 120_000, second.stderr);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const lines = readLines(out);
    const ids = lines.map((line) => line.id);
    // The small rows once (persisted before the shutdown), then the interrupted part, then the big
    // transaction whole and in order, then the row written while down.
    expect(ids.slice(0, 3)).toEqual([1, 2, 3]);
    const rest = ids.slice(3 + big.length);
    expect(ids.slice(3, 3 + big.length)).toEqual(big.map((line) => line.id));
    expect(rest.length).toBe(BIG + 1);
    expect(rest.every((id, i) => id === (i < BIG ? 1001 + i : 2_000_000))).toBe(true);
    console.log(`shutdown: ${big.length} of ${BIG} rows of the interrupted transaction delivered before exit, then all ${BIG} again`);
  }, 180_000);
});
