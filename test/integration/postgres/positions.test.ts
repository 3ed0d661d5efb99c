/**
 * The delivery contract's positions against the real server: the store holds commit END LSNs and
 * the slot's confirmed_flush_lsn follows (minus walRetain); an idle or filtered database still
 * advances; a failing sink holds everything back; interleaved transactions survive a restart
 * (skipped by commit LSN, not change LSN); walPositionOverride starts where it says.
 */
import { describe, expect, test } from 'bun:test';
import type postgres from 'postgres';
import { configFromText } from '../../../src/components.ts';
import type { PostgresSourceOptions } from '../../../src/sources/postgres/spec.ts';
import { formatLsn, parseLsn, type Lsn } from '../../../src/replication/lsn.ts';
import { createMemoryStateStore } from '../../../src/state/memory-store.ts';
import { postgresSourceToml, sinkToml, streamerToml } from '../../helpers/configs.ts';
import { uniqueName } from '../../helpers/pg.ts';
import {
  confirmedFlush,
  currentLsn,
  recordingStore,
  useSourceTests,
  waitFor,
} from '../../helpers/postgres-source.ts';

const db = useSourceTests();

/** A table and a publication of it; `other` is a table in no publication (WAL activity we do not stream). */
async function tables(): Promise<{ t: string; other: string }> {
  const t = uniqueName('t');
  const other = uniqueName('other');
  await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text); CREATE TABLE ${other} (id serial PRIMARY KEY, v text)`);
  return { t, other };
}

/**
 * End LSNs of the committed transactions a second pgoutput slot sees (the `lsn` of a Commit row
 * of pg_logical_slot_peek_binary_changes is the transaction's end LSN).
 */
async function commitEnds(sql: postgres.Sql, slot: string, publication: string): Promise<Lsn[]> {
  const rows = await sql<{ lsn: string }[]>`
    SELECT lsn::text AS lsn FROM pg_logical_slot_peek_binary_changes(${slot}, NULL, NULL,
      'proto_version', '1', 'publication_names', ${publication})
    WHERE get_byte(data, 0) = ${'C'.charCodeAt(0)}`;
  return rows.map((r) => parseLsn(r.lsn));
}

describe('positions', () => {
  test('after delivery the store holds the commit END LSN and confirmed_flush_lsn advances to it', async () => {
    const { t } = await tables();
    const { slot, publication } = await db.prepare([t]);
    // A second slot at the same point lets us read the transactions' end LSNs from the server.
    const peek = uniqueName('peek');
    await db.sql`SELECT pg_create_logical_replication_slot(${peek}, 'pgoutput')`;
    db.dropLater(peek);
    const store = recordingStore();
    const h = await db.start({ slot, publication, store });
    await h.streaming();

    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'a')`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (2, 'b'), (3, 'c')`);
    await h.sink.untilCount(3);
    const ends = await commitEnds(db.sql, peek, publication);
    expect(ends.length).toBe(2);
    const [end1, end2] = ends as [Lsn, Lsn];
    // Each commit's end LSN lies after the commit record's start (the events' CommitLSN).
    expect(end1).toBeGreaterThan(h.sink.events[0]!.commitLsn!);
    expect(end2).toBeGreaterThan(h.sink.events[2]!.commitLsn!);

    await waitFor('the store to hold the second commit end', () => h.persisted() >= end2, 20_000, () => `persisted ${formatLsn(h.persisted())}, end ${formatLsn(end2)}`);
    // The source hands the pipeline each transaction's end LSN exactly (keepalives may add later
    // positions); the store keeps the last position of each acknowledgement.
    expect(h.acked).toContain(end1);
    expect(h.acked).toContain(end2);
    for (const p of store.positions) expect(h.acked).toContain(p);
    // (A keepalive's WAL end may lie inside a transaction the server has read but not yet sent:
    // that is still safe, as the server re-sends every transaction committed at or after it.)
    // Positions only ever grow.
    const ascending = (list: Lsn[]) => list.every((p, i) => i === 0 || p > list[i - 1]!);
    expect(ascending(h.acked)).toBe(true);
    expect(ascending(store.positions)).toBe(true);

    await waitFor('confirmed_flush_lsn to reach the second commit end', async () => (await confirmedFlush(db.sql, slot)) >= end2);
    // Never confirmed beyond what was persisted.
    expect(await confirmedFlush(db.sql, slot)).toBeLessThanOrEqual(h.persisted());
  });

  test('a graceful shutdown confirms the persisted position with a final status update', async () => {
    const { t } = await tables();
    const { slot, publication } = await db.prepare([t]);
    // No periodic status within the test: only the final one can confirm.
    const h = await db.start({ slot, publication, source: { statusInterval: 600_000 } });
    await h.streaming();
    const before = await confirmedFlush(db.sql, slot);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'a')`);
    await h.sink.untilCount(1);
    await waitFor('the commit persisted', () => h.persisted() > h.sink.events[0]!.commitLsn!);
    await h.shutdown();
    const persisted = h.persisted();
    await waitFor('confirmed_flush_lsn = the persisted position', async () => (await confirmedFlush(db.sql, slot)) === persisted, 10_000,
      () => `before ${formatLsn(before)}, persisted ${formatLsn(persisted)}`);
  });

  test('walRetain: the confirmed LSN is the persisted one minus walRetain bytes', async () => {
    const { t } = await tables();
    const { slot, publication } = await db.prepare([t]);
    const retain = 4096;
    const h = await db.start({ slot, publication, source: { walRetain: retain } });
    await h.streaming();
    // Far more WAL than walRetain, so persisted − walRetain is past the slot's starting point.
    await db.sql.unsafe(`INSERT INTO ${t} SELECT i, repeat('x', 200) FROM generate_series(1, 500) i`);
    await h.sink.untilCount(500);
    let last = { confirmed: 0n, persisted: 0n };
    await waitFor('confirmed_flush_lsn = persisted − walRetain', async () => {
      last = { confirmed: await confirmedFlush(db.sql, slot), persisted: h.persisted() };
      return last.persisted > 0n && last.confirmed === last.persisted - BigInt(retain);
    }, 20_000, () => `confirmed ${formatLsn(last.confirmed)}, persisted ${formatLsn(last.persisted)}`);
    expect(last.persisted).toBeGreaterThanOrEqual(h.sink.events[499]!.commitLsn!);
  });

  test('an idle database (WAL only for tables outside the publication) still advances confirmed_flush_lsn', async () => {
    const { t, other } = await tables();
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication });
    await h.streaming();
    const before = await confirmedFlush(db.sql, slot);
    for (let i = 0; i < 5; i++) await db.sql.unsafe(`INSERT INTO ${other} (v) SELECT repeat('y', 100) FROM generate_series(1, 100)`);
    const target = await currentLsn(db.sql);
    expect(target).toBeGreaterThan(before);
    await waitFor('confirmed_flush_lsn past the unpublished writes', async () => (await confirmedFlush(db.sql, slot)) >= target, 30_000,
      () => `stats: ${h.source.stats()}`);
    expect(h.sink.events.length).toBe(0);
    expect(h.persisted()).toBeGreaterThanOrEqual(target);
  });

  test('a failing sink never lets the persisted or confirmed position pass undelivered events', async () => {
    const { t, other } = await tables();
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication, pipeline: { sendRetryIntervalMs: 20, maxRetryIntervalMs: 100 } });
    await h.streaming();
    h.sink.failWith(new Error('sink is down'));
    const beforeInsert = await currentLsn(db.sql);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'held back')`);
    // Unpublished WAL after it: keepalives arrive with WAL ends beyond the undelivered commit.
    for (let i = 0; i < 5; i++) await db.sql.unsafe(`INSERT INTO ${other} (v) SELECT repeat('z', 100) FROM generate_series(1, 100)`);
    const afterWrites = await currentLsn(db.sql);
    await h.sink.until('three failed writes', () => h.sink.writes >= 3);
    // The walsender reports write_lsn = what we received: once it passed our later WAL, a status
    // update sent after those keepalives has been processed.
    await waitFor('a status update reporting everything received', async () => {
      const [row] = await db.sql<{ write: string | null }[]>`SELECT write_lsn::text AS write FROM pg_stat_replication WHERE application_name = ${h.name}`;
      return row?.write ? parseLsn(row.write) >= afterWrites : false;
    }, 30_000, () => `stats: ${h.source.stats()}`);
    expect(h.persisted()).toBeLessThanOrEqual(beforeInsert);
    expect(await confirmedFlush(db.sql, slot)).toBeLessThanOrEqual(beforeInsert);
    expect(h.pipeline.status()).toContain('sink is down');
    expect(h.source.status()).toBeNull();
    expect(h.sink.events.length).toBe(0);

    h.sink.failWith(undefined);
    await h.sink.untilCount(1);
    expect(h.sink.events[0]!.columns.v).toBe('held back');
    await waitFor('confirmed_flush_lsn past the delivered commit', async () => (await confirmedFlush(db.sql, slot)) > h.sink.events[0]!.commitLsn!);
    await waitFor('the pipeline healthy again', () => h.pipeline.status() === null);
  });

  test('interleaved transactions across a restart: the later-committing transaction is not lost', async () => {
    const { t } = await tables();
    const { slot, publication } = await db.prepare([t]);
    const store = createMemoryStateStore();
    const name = uniqueName('src');
    const h1 = await db.start({ slot, publication, store, name });
    await h1.streaming();

    const c1 = await db.sql.reserve();
    const c2 = await db.sql.reserve();
    try {
      await c1`BEGIN`;
      await c2`BEGIN`;
      // T2 writes first: its first change has a lower LSN than T1's commit.
      await c2.unsafe(`INSERT INTO ${t} VALUES (20, 't2 early')`);
      await c1.unsafe(`INSERT INTO ${t} VALUES (10, 't1')`);
      await c1`COMMIT`;
      await h1.sink.untilCount(1);
      expect(h1.sink.events.map((e) => e.columns.v)).toEqual(['t1']);
      const t1 = h1.sink.events[0]!;
      await waitFor('T1 persisted', () => h1.persisted() > t1.commitLsn!);
      // Stop after T1 was delivered, before T2 commits.
      await h1.shutdown();
      expect(h1.sink.events.length).toBe(1);

      await c2.unsafe(`INSERT INTO ${t} VALUES (21, 't2 late')`);
      await c2`COMMIT`;
    } finally {
      c1.release();
      c2.release();
    }

    const h2 = await db.start({ slot, publication, store, name });
    await h2.sink.untilCount(2);
    // Nothing of T1 again (it was persisted), all of T2, in order.
    expect(h2.sink.events.map((e) => e.columns.v)).toEqual(['t2 early', 't2 late']);
    expect(h2.sink.events[0]!.lsn).toBeLessThan(h1.sink.events[0]!.commitLsn!);
    expect(h2.sink.events[0]!.commitLsn).toBeGreaterThan(h1.sink.events[0]!.commitLsn!);
  });

  test('walPositionOverride ("X/Y" in the config) starts there instead of the saved position', async () => {
    const { t } = await tables();
    const { slot, publication } = await db.prepare([t]);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'before')`);
    const override = await currentLsn(db.sql);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (2, 'after 1')`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (3, 'after 2')`);

    const config = configFromText('override.toml', streamerToml({
      state: 'unused.db',
      sections: [
        postgresSourceToml({
          server: db.pg.server, publication, slot, batchFlushInterval: null, statusInterval: null,
          source: `walPositionOverride = "${formatLsn(override)}"`,
        }),
        sinkToml('s', 'stub_discard'),
      ],
    }));
    const options = config.sources[0]!.options as PostgresSourceOptions;
    expect(options.walPositionOverride).toBe(override);
    const store = createMemoryStateStore();
    const name = uniqueName('src');
    store.setPosition(name, 1n);
    const h = await db.start({ slot, publication, store, name, source: { walPositionOverride: options.walPositionOverride } });
    await h.sink.untilCount(2);
    expect(h.sink.events.map((e) => e.columns.v)).toEqual(['after 1', 'after 2']);
  });
});
