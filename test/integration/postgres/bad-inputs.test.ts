/**
 * Bad inputs against the real server: each one gives a clear message in the source's status(),
 * and the source keeps retrying (it does not crash); where the cause can be fixed while it runs,
 * it then streams by itself.
 */
import { describe, expect, test } from 'bun:test';
import { createServer } from 'node:net';
import { uniqueName } from '../../helpers/pg.ts';
import { dsnFor, useSourceTests, waitFor, type Harness } from '../../helpers/postgres-source.ts';

const db = useSourceTests();
const SLOW = 60_000;
/** Short retry waits: a few failed attempts within a second. */
const RETRY = { startRetryInterval: 50 };

function replicaErrors(h: Harness): number {
  return Number(/replicaErrors: (\d+)/.exec(h.source.stats())?.[1] ?? 0);
}

/** Waits until status() matches `pattern` and at least two attempts failed (it retries, it is not stuck). */
async function expectStatus(h: Harness, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  await waitFor(`status matching ${pattern} after two attempts`, () => pattern.test(h.source.status() ?? '') && replicaErrors(h) >= 2, timeoutMs,
    () => `status: ${h.source.status()}; ${h.source.stats()}`);
  return h.source.status()!;
}

async function table(): Promise<string> {
  const t = uniqueName('t');
  await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
  return t;
}

/** A local TCP port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('bad inputs give a clear status and the source keeps retrying', () => {
  test('wrong password', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t]);
    const { user } = db.pg.server.users.scram;
    const h = await db.start({ slot, publication, dsn: dsnFor(db.pg.server, { user, password: 'not-the-password' }), source: RETRY });
    const status = await expectStatus(h, /password authentication failed/);
    // Said once, not repeated through the error's cause.
    expect(status.match(/password authentication failed/g)?.length).toBe(1);
    await h.shutdown();
    expect(status).toContain(user);
  }, SLOW);

  test('missing publication: says it does not exist and how to create it; streams once it exists', async () => {
    const t = await table();
    const { slot } = await db.prepare([t]);
    const publication = uniqueName('missing');
    const h = await db.start({ slot, publication, source: RETRY });
    const status = await expectStatus(h, /does not exist/);
    expect(status).toContain(`"${publication}"`);
    expect(status).toContain(`CREATE PUBLICATION ${publication}`);

    await db.sql.unsafe(`CREATE PUBLICATION ${publication} FOR TABLE ${t}`);
    await h.streaming(30_000);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1)`);
    await h.sink.untilCount(1);
  }, SLOW);

  test('a user without the REPLICATION attribute: says to grant it', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t]);
    const role = uniqueName('norepl');
    await db.sql.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD 'pw-${role}'`);
    try {
      const h = await db.start({ slot, publication, dsn: dsnFor(db.pg.server, { user: role, password: `pw-${role}` }), source: RETRY });
      const status = await expectStatus(h, /REPLICATION/);
      expect(status).toContain(`ALTER ROLE ${role} REPLICATION`);
      await h.shutdown();
    } finally {
      await db.sql.unsafe(`DROP ROLE ${role}`);
    }
  }, SLOW);

  test('unreachable host/port: connection refused, reported quickly', async () => {
    const port = await closedPort();
    const started = Date.now();
    const h = await db.start({ slot: uniqueName('slot'), publication: 'unused', dsn: dsnFor(db.pg.server, { port }), source: RETRY });
    const status = await expectStatus(h, /refused/i, 5_000);
    expect(status).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(5_000);
    await h.shutdown();
  }, SLOW);

  test('a slot created with another plugin (test_decoding)', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t], { createSlot: false });
    await db.sql`SELECT pg_create_logical_replication_slot(${slot}, 'test_decoding')`;
    const h = await db.start({ slot, publication, source: RETRY });
    const status = await expectStatus(h, /test_decoding/);
    expect(status).toContain(`"${slot}"`);
    expect(status).toMatch(/not a logical pgoutput slot/);
    await h.shutdown();
  }, SLOW);

  test('slot creation held up by an open transaction: the status says what it waits for; streams once it ends', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t], { createSlot: false });
    const open = await db.sql.reserve();
    try {
      await open`BEGIN`;
      await open.unsafe(`INSERT INTO ${t} VALUES (1)`);
      const h = await db.start({ slot, publication, source: RETRY });
      await waitFor('a status about the slot creation', () => /creating replication slot/.test(h.source.status() ?? ''), 20_000,
        () => `status: ${h.source.status()}`);
      expect(h.source.status()).toContain(`"${slot}"`);
      expect(h.source.status()).toContain('pg_stat_activity');
      await open`COMMIT`;
      await h.streaming();
      // The slot's consistent point is after that transaction: only later changes stream.
      await db.sql.unsafe(`INSERT INTO ${t} VALUES (2)`);
      await h.sink.untilCount(1);
      expect(h.sink.events.map((e) => e.columns.id)).toEqual([2]);
    } finally {
      open.release();
    }
  }, SLOW);

  test('a slot of another database', async () => {
    const t = await table();
    const other = await db.pg.createDatabase('otherdb');
    const { slot, publication } = await db.prepare([t], { createSlot: false });
    const otherSql = db.pg.sql({ database: other, max: 1 });
    await otherSql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
    await otherSql.end();
    const h = await db.start({ slot, publication, source: RETRY });
    const status = await expectStatus(h, /belongs to database/);
    expect(status).toContain(`"${other}"`);
    await h.shutdown();
  }, SLOW);
});
