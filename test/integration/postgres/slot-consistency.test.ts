/**
 * Regressions for the two silent data losses of issue 10 and their relatives: the streamer, run as
 * an operator runs it, refuses (exit 3, one ERROR naming the remedy, nothing confirmed) when its
 * saved position and the server disagree, and the remedies it names work
 * (docs/operations.md "Positions the server must agree with").
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';
import { startApp } from '../../../src/app.ts';
import { configFromText } from '../../../src/components.ts';
import { parseLsn } from '../../../src/replication/lsn.ts';
import { pgClient, serverMajor, uniqueName, type PgServer } from '../../helpers/pg.ts';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { confirmedFlush, slotPid, startPrivateCluster, useSourceTests, type PrivateCluster } from '../../helpers/postgres-source.ts';
import { completeLines, startStreamer, tempDir, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const db = useSourceTests();
const dir = tempDir('psql-streamer-slot-consistency-');
const children: StreamerProcess[] = [];
const clusters: PrivateCluster[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
    await child.exited;
  }
  for (const cluster of clusters) await cluster.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const EXIT_REFUSED = 3;

interface Setup {
  t: string;
  slot: string;
  publication: string;
  state: string;
  out: string;
  configText: (server?: PgServer) => string;
}

/** A table, its publication and slot, and a config streaming them to a file with a SQLite state file. */
async function setup(sql: postgres.Sql = db.sql, createSlot = true): Promise<Setup> {
  const t = uniqueName('t');
  await sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text)`);
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  await sql.unsafe(`CREATE PUBLICATION ${publication} FOR TABLE ${t}`);
  if (createSlot) await sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  db.dropLater(slot);
  const state = join(dir, `${t}.db`);
  const out = join(dir, `${t}.jsonl`);
  const configText = (server: PgServer = db.pg.server) =>
    postgresToFileToml({ server, publication, slot, state, out, source: 'startRetryInterval = "100ms"' });
  return { t, slot, publication, state, out, configText };
}

function run(s: Setup, name: string, args: string[] = [], server?: PgServer): StreamerProcess {
  const child = startStreamer(dir, s.configText(server), name, {}, args);
  children.push(child);
  return child;
}

/** Runs the streamer until `count` lines are in the output, then SIGTERM; expects exit 0. */
async function deliver(s: Setup, name: string, insert: () => Promise<unknown>, count: number, args: string[] = []): Promise<void> {
  const child = run(s, name, args);
  await child.waitForLog('Streaming from');
  await insert();
  await waitFor(`${count} lines in ${s.out}`, () => completeLines(s.out).length >= count, 30_000, () => child.stderr());
  child.proc.kill('SIGTERM');
  expect(await child.exited).toBe(0);
}

function ids(out: string): number[] {
  return completeLines(out).map((line) => Number(/"id":(\d+)/.exec(line)![1]));
}

function setStoredPosition(state: string, text: string): void {
  const file = new Database(state);
  file.run("UPDATE positions SET position = ?1 WHERE source = 'db1'", [text]);
  file.close();
}

function storedPosition(state: string): string | undefined {
  const file = new Database(state, { readonly: true });
  try {
    return (file.query("SELECT position FROM positions WHERE source = 'db1'").get() as { position: string } | null)?.position;
  } finally {
    file.close();
  }
}

/**
 * Runs the streamer and expects a refusal: exit 3 with `message` in the log, the slot's confirmed
 * position unchanged, and (unless the refusal comes from the stream itself) no stream started.
 */
async function expectRefusal(s: Setup, name: string, message: string, sql: postgres.Sql = db.sql, server?: PgServer, fromStream = false): Promise<StreamerProcess> {
  const before = await confirmedFlush(sql, s.slot);
  const child = run(s, name, [], server);
  expect(await child.exited).toBe(EXIT_REFUSED);
  expect(child.stderr()).toContain(message);
  if (!fromStream) expect(child.stderr()).not.toContain('Streaming from');
  expect(await confirmedFlush(sql, s.slot)).toBe(before);
  return child;
}

async function reset(s: Setup, name: string): Promise<string> {
  const child = startStreamer(dir, s.configText(), name, {}, ['--source', 'db1'], ['reset-position']);
  children.push(child);
  expect(await child.exited).toBe(0);
  return new Response(child.proc.stdout as ReadableStream).text();
}

describe('slot and state consistency', () => {
  test('regression: a saved position ahead of the server WAL end is refused, never confirmed; reset-position recovers', async () => {
    const s = await setup();
    await deliver(s, 'ahead-1', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a'), (2, 'b')`), 2);
    const slotBefore = await confirmedFlush(db.sql, s.slot);
    setStoredPosition(s.state, String(parseLsn('E8/D4A50FFF')));

    const refused = await expectRefusal(s, 'ahead-2', "the saved position of source \"db1\" (E8/D4A50FFF) is ahead of the server's WAL end");
    expect(refused.stderr()).toContain(`psql-streamer reset-position -config ${join(dir, 'ahead-2.toml')} --source db1`);
    expect(await confirmedFlush(db.sql, s.slot)).toBe(slotBefore);

    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (3, 'c')`);
    const said = await reset(s, 'ahead-reset');
    expect(said).toContain('forgot position E8/D4A50FFF');
    expect(storedPosition(s.state)).toBeUndefined();
    // From the slot's own position: row 3 (committed while refused) arrives, nothing is lost.
    await deliver(s, 'ahead-3', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (4, 'd')`), 4);
    expect(ids(s.out)).toEqual([1, 2, 3, 4]);
  });

  test('regression: slot dropped while running with a saved position: refused (not re-created) with the rows in between named lost; --accept-gap re-creates it', async () => {
    const s = await setup();
    const child = run(s, 'dropped-1');
    await child.waitForLog('Streaming from');
    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a')`);
    await waitFor('row 1 delivered', () => completeLines(s.out).length >= 1, 30_000, () => child.stderr());
    await waitFor('position persisted', () => storedPosition(s.state) !== undefined);
    // Terminate the walsender and drop the slot before the streamer reconnects (it retries every 100 ms).
    await waitFor('slot dropped', async () => {
      const pid = await slotPid(db.sql, s.slot);
      if (pid !== null) await db.sql`SELECT pg_terminate_backend(${pid})`;
      try {
        await db.sql`SELECT pg_drop_replication_slot(${s.slot})`;
        return true;
      } catch {
        return false;
      }
    });
    await db.sql.unsafe(`INSERT INTO ${s.t} SELECT g, 'gap' FROM generate_series(100, 599) g`);
    expect(await child.exited).toBe(EXIT_REFUSED);
    expect(child.stderr()).toContain(`replication slot "${s.slot}" does not exist, but source "db1" has a saved position`);
    expect(child.stderr()).toContain('--accept-gap');
    const [exists] = await db.sql`SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = ${s.slot}`;
    expect(exists!.n).toBe(0);

    // A plain restart refuses too: the slot is not silently re-created.
    await expectRefusal(s, 'dropped-2', 'does not exist, but source "db1" has a saved position');
    // The operator accepts the gap once: the slot is created again, later rows stream.
    const accepted = run(s, 'dropped-3', ['--accept-gap']);
    await accepted.waitForLog('Streaming from');
    expect(accepted.stderr()).toContain('--accept-gap given: creating the slot again');
    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1000, 'after')`);
    await waitFor('row 1000 delivered', () => ids(s.out).includes(1000), 30_000, () => accepted.stderr());
    accepted.proc.kill('SIGTERM');
    expect(await accepted.exited).toBe(0);
    expect(ids(s.out)).toEqual([1, 1000]);
  });

  test('a slot advanced past the saved position by someone else is refused; --accept-gap follows it', async () => {
    const s = await setup();
    await deliver(s, 'slot-ahead-1', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a')`), 1);
    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (2, 'skipped by the other consumer')`);
    await db.sql`SELECT pg_replication_slot_advance(${s.slot}, pg_current_wal_lsn())`;
    await expectRefusal(s, 'slot-ahead-2', `replication slot "${s.slot}" has confirmed`);
    await deliver(s, 'slot-ahead-3', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (3, 'c')`), 2, ['--accept-gap']);
    expect(ids(s.out)).toEqual([1, 3]);
  });

  test('a slot behind the saved position (a crash before confirming) resumes from the saved position without duplicates', async () => {
    const s = await setup();
    await deliver(s, 'behind-1', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a'), (2, 'b')`), 2);
    // Confirmation follows persistence; put the slot's view back to before those rows by
    // recording a later position in the state file instead: the slot is then behind it.
    const stored = BigInt(storedPosition(s.state)!);
    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (3, 'already delivered elsewhere')`);
    const [row] = await db.sql<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`;
    const later = parseLsn(row!.lsn);
    expect(later).toBeGreaterThan(stored);
    setStoredPosition(s.state, String(later));
    const child = run(s, 'behind-2');
    await child.waitForLog('Streaming from');
    expect(child.stderr()).toMatch(/bytes behind the resume position .*normal after a crash/);
    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (4, 'd')`);
    await waitFor('row 4', () => ids(s.out).includes(4), 30_000, () => child.stderr());
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(ids(s.out)).toEqual([1, 2, 4]);
  });

  test('regression: a garbage position in the state file failed with "Failed to parse String to BigInt"; now it names the file and the source, exit 3', async () => {
    const s = await setup();
    await deliver(s, 'garbage-1', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a')`), 1);
    setStoredPosition(s.state, 'garbage');
    const child = run(s, 'garbage-2');
    expect(await child.exited).toBe(EXIT_REFUSED);
    expect(child.stderr()).toContain(`State file '${s.state}': the saved position of source 'db1' is "garbage", not a WAL position`);
    expect(child.stderr()).not.toContain('Failed to parse');
    expect(await reset(s, 'garbage-reset')).toContain('forgot an unreadable position');
  });

  test('regression: a publication dropped and created again under the slot was retried every second forever; now refused with what to do', async () => {
    const s = await setup();
    await deliver(s, 'pub-1', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a')`), 1);
    await db.sql.unsafe(`DROP PUBLICATION ${s.publication}`);
    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (2, 'while dropped')`);
    await db.sql.unsafe(`CREATE PUBLICATION ${s.publication} FOR TABLE ${s.t}`);
    await db.sql.unsafe(`INSERT INTO ${s.t} VALUES (3, 'after')`);
    const child = await expectRefusal(s, 'pub-2', `publication ${s.publication} was dropped (and perhaps created again)`, db.sql, undefined, true);
    expect(ids(s.out)).toEqual([1]);
    expect(child.stderr()).toContain('pg_replication_slot_advance');
    if (serverMajor() >= 18) {
      // 18 goes on without the changes made while the publication was missing: --accept-gap accepts that, once.
      await deliver(s, 'pub-3', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (4, 'later')`), 3, ['--accept-gap']);
      expect(ids(s.out)).toEqual([1, 3, 4]);
    } else {
      // Up to 17 the server cannot get past it: --accept-gap does not help, the slot must be moved or dropped.
      const again = run(s, 'pub-3', ['--accept-gap']);
      expect(await again.exited).toBe(EXIT_REFUSED);
      await db.sql.unsafe(`SELECT pg_replication_slot_advance('${s.slot}', pg_current_wal_lsn())`);
      await deliver(s, 'pub-4', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (4, 'later')`), 2, ['--accept-gap']);
      expect(ids(s.out)).toEqual([1, 4]);
    }
  });

  test('another cluster behind the same DSN (a different system identifier) is refused', async () => {
    const other = await startPrivateCluster();
    clusters.push(other);
    const otherSql = pgClient(other.server);
    try {
      const s = await setup();
      await deliver(s, 'cluster-1', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a')`), 1);
      // The same names on the other cluster, so only the identity tells them apart.
      await otherSql.unsafe(`CREATE TABLE ${s.t} (id int PRIMARY KEY, v text); CREATE PUBLICATION ${s.publication} FOR TABLE ${s.t}`);
      await otherSql`SELECT pg_create_logical_replication_slot(${s.slot}, 'pgoutput')`;
      await expectRefusal(s, 'cluster-2', 'belongs to the PostgreSQL cluster with system identifier', otherSql, other.server);
    } finally {
      await otherSql.end({ timeout: 5 });
    }
  });

  test('an invalidated slot (max_slot_wal_keep_size exceeded) is a distinct refusal, also with --accept-gap', async () => {
    const cluster = await startPrivateCluster();
    clusters.push(cluster);
    const sql = pgClient(cluster.server);
    try {
      const s = await setup(sql);
      const server = cluster.server;
      const child = run(s, 'lost-1', [], server);
      await child.waitForLog('Streaming from');
      await sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a')`);
      await waitFor('row 1', () => ids(s.out).length === 1, 30_000, () => child.stderr());
      child.proc.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      await sql`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`;
      await sql`SELECT pg_reload_conf()`;
      let next = 1000;
      await waitFor('the slot invalidated', async () => {
        await sql.unsafe(`INSERT INTO ${s.t} SELECT g, repeat('x', 500) FROM generate_series(${next}, ${next + 2999}) g`);
        next += 3000;
        await sql`SELECT pg_switch_wal()`;
        await sql`CHECKPOINT`;
        const [row] = await sql<{ wal_status: string }[]>`SELECT wal_status FROM pg_replication_slots WHERE slot_name = ${s.slot}`;
        return row?.wal_status === 'lost';
      }, 60_000);
      for (const args of [[], ['--accept-gap']]) {
        const refused = startStreamer(dir, s.configText(server), `lost-${args.length}`, {}, args);
        children.push(refused);
        expect(await refused.exited).toBe(EXIT_REFUSED);
        expect(refused.stderr()).toContain(`replication slot "${s.slot}" was invalidated by PostgreSQL`);
        expect(refused.stderr()).toContain(`pg_drop_replication_slot('${s.slot}')`);
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  test('in process: a refusal fails /health and /status, sets source_refused, and resolves app.halted', async () => {
    const s = await setup();
    await deliver(s, 'health-1', () => db.sql.unsafe(`INSERT INTO ${s.t} VALUES (1, 'a')`), 1);
    await db.sql`SELECT pg_drop_replication_slot(${s.slot})`;
    const app = await startApp(configFromText(join(dir, 'health.toml'), s.configText()));
    try {
      const err = await app.halted;
      expect(err.code).toBe('REFUSED');
      const health = await fetch(`${app.httpUrl}/health`);
      expect(health.status).toBe(503);
      expect(await health.text()).toContain('Refused: replication slot');
      const status = await fetch(`${app.httpUrl}/status`);
      expect(status.status).toBe(500);
      expect(await status.text()).toContain('Source-PSQL (db1): refused: replication slot');
      const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
      expect(metrics).toContain('source_refused{sourceName="db1",reason="slot_missing"} 1');
    } finally {
      await app.stop();
    }
    const [exists] = await db.sql`SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = ${s.slot}`;
    expect(exists!.n).toBe(0);
  });
});
