/**
 * A start the operator allowed (`--accept-gap` after a slot moved ahead or was dropped, or a
 * `walPositionOverride` ahead of the saved position) followed at once by kill -9, then an ordinary
 * start: the next start must not refuse what was already accepted (docs/operations.md "Positions
 * the server must agree with").
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { uniqueName } from '../../helpers/pg.ts';
import { confirmedFlush, currentLsn, useSourceTests } from '../../helpers/postgres-source.ts';
import { completeLines, startStreamer, tempDir, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const db = useSourceTests();
const dir = tempDir('psql-streamer-accepted-');
const children: StreamerProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
    await child.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function storedPosition(state: string): bigint {
  const file = new Database(state, { readonly: true });
  try {
    return BigInt((file.query("SELECT position FROM positions WHERE source = 'db1'").get() as { position: string } | null)?.position ?? 0);
  } finally {
    file.close();
  }
}

/** Row `id` is in the output file. */
function has(out: string, id: number): boolean {
  return completeLines(out).some((line) => line.includes(`"Columns":{"id":${id}}`));
}

async function setup() {
  const t = uniqueName('t');
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
  await db.sql.unsafe(`CREATE PUBLICATION ${publication} FOR TABLE ${t}`);
  await db.sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  db.dropLater(slot);
  const state = join(dir, `${t}.db`);
  const out = join(dir, `${t}.jsonl`);
  const config = (extra = '') => postgresToFileToml({ server: db.pg.server, publication, slot, state, out, source: `startRetryInterval = "100ms"\n${extra}` });
  const start = (name: string, args: string[] = [], extra = '') => {
    const child = startStreamer(dir, config(extra), `${t}-${name}`, {}, args);
    children.push(child);
    return child;
  };
  /** A first run that delivers one row and stops: a saved position exists. */
  const deliverOne = async () => {
    const child = start('first');
    await child.waitForLog('Streaming from');
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1)`);
    await waitFor('row 1', () => has(out, 1), 30_000, () => child.stderr());
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  };
  /**
   * Starts, waits until streaming, kills -9 at once. The accepted start must be in the state file
   * before streaming begins: then no kill, however early, leaves the slot ahead of the file.
   */
  const killedRightAfterStart = async (name: string, args: string[] = [], extra = '') => {
    const child = start(name, args, extra);
    await child.waitForLog('Streaming from');
    child.proc.kill('SIGKILL');
    await child.exited;
    expect(storedPosition(state)).toBeGreaterThanOrEqual(await confirmedFlush(db.sql, slot));
    return child;
  };
  /** An ordinary start must stream (not refuse), and deliver a row inserted now. */
  const expectStreams = async (name: string) => {
    const child = start(name);
    const outcome = await Promise.race([child.waitForLog('Streaming from', 30_000).then(() => 'streaming'), child.exited.then((code) => `exit ${code}`)]);
    expect(outcome, child.stderr()).toBe('streaming');
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (2)`);
    await waitFor('row 2', () => has(out, 2), 60_000, () => child.stderr());
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  };
  return { t, slot, out, start, deliverOne, killedRightAfterStart, expectStreams };
}

describe('a start the operator allowed, then kill -9', () => {
  test('--accept-gap after the slot moved ahead', async () => {
    const s = await setup();
    await s.deliverOne();
    await db.sql`SELECT pg_replication_slot_advance(${s.slot}, pg_current_wal_lsn())`;
    // A large transaction waits after the slot's position: the first session is busy with it (no
    // keepalive position to persist) when it is killed.
    await db.sql.unsafe(`INSERT INTO ${s.t} SELECT generate_series(1000, 50999)`);
    await s.killedRightAfterStart('accept', ['--accept-gap']);
    await s.expectStreams('after');
    expect(has(s.out, 50999)).toBe(true);
  });

  test('--accept-gap after the slot was dropped', async () => {
    const s = await setup();
    await s.deliverOne();
    await db.sql`SELECT pg_drop_replication_slot(${s.slot})`;
    await s.killedRightAfterStart('accept', ['--accept-gap']);
    await s.expectStreams('after');
  });

  test('walPositionOverride ahead of the saved position, then removed', async () => {
    const s = await setup();
    await s.deliverOne();
    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (100)`);
    const skipTo = await currentLsn(db.sql);
    const child = s.start('override', [], `walPositionOverride = ${skipTo}`);
    await child.waitForLog('Streaming from');
    await Bun.sleep(500); // a status interval (200 ms) or two: the override is confirmed to the slot
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    await s.expectStreams('after');
    // The skip the operator asked for stays: row 100 (before the override) is never delivered.
    expect(has(s.out, 100)).toBe(false);
  });
});
