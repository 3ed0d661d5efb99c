/**
 * Every row action through the real PostgresSource and pipeline: insert, update, delete, TRUNCATE
 * (one event per table), each replica identity, a key change, unchanged TOAST values and logical
 * decoding messages.
 */
import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { EventIdentity } from '../../../src/event/identity.ts';
import { testSince, uniqueName } from '../../helpers/pg.ts';
import { useSourceTests, type Harness } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

/** Creates the tables (`ddl` uses {t} for the first table name, {t2}... for more), a publication, a slot, and a streaming source. */
async function stream(tableCount: number, ddl: (names: string[]) => string, options: { publish?: string } = {}): Promise<{ h: Harness; names: string[]; slot: string }> {
  const names = Array.from({ length: tableCount }, () => uniqueName('t'));
  await db.sql.unsafe(ddl(names));
  const { slot, publication } = await db.prepare(names, options);
  const h = await db.start({ slot, publication });
  await h.streaming();
  return { h, names, slot };
}

/** The UUIDs of the server's stream through `slot` (docs/kafka.md, "Event identity (UUID)"). */
async function identityOf(slot: string): Promise<{ identity: EventIdentity; stream: string }> {
  const [row] = await db.sql`SELECT system_identifier::text AS id FROM pg_control_system()`;
  return { identity: EventIdentity.of(row!.id as string, slot), stream: `${row!.id}/${slot}` };
}

/** The parts of an event a test asserts on (plain objects: columns have no prototype). */
function shape(e: ChangeEvent) {
  const out: Record<string, unknown> = { action: e.action, columns: { ...e.columns } };
  if (e.old !== undefined) out.old = { ...e.old };
  if (e.unchanged !== undefined) out.unchanged = e.unchanged;
  return out;
}

describe('row actions', () => {
  test('insert, update, delete with REPLICA IDENTITY DEFAULT carry columns, key and old key', async () => {
    const { h, names: [t] } = await stream(1, ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY, name text, n int)`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'one', 10)`);
    await db.sql.unsafe(`UPDATE ${t} SET name = 'uno' WHERE id = 1`);
    await db.sql.unsafe(`DELETE FROM ${t} WHERE id = 1`);
    await h.sink.untilCount(3);
    const events = h.sink.of(t!);
    expect(events.map(shape)).toEqual([
      { action: 'insert', columns: { id: 1, name: 'one', n: 10 } },
      { action: 'update', columns: { id: 1, name: 'uno', n: 10 } },
      // A key tuple: the key columns carry values, the others are null; Old keeps the key only.
      { action: 'delete', columns: { id: 1, name: null, n: null }, old: { id: 1 } },
    ]);
    for (const e of events) {
      expect(e.key).toEqual(['id']);
      expect(e.schema).toBe('public');
      expect(e.database).toBe(db.pg.server.database);
      expect(e.host).toBe(db.pg.server.host);
      expect(typeof e.xid).toBe('number');
      expect(e.commitLsn).toBeGreaterThan(0n);
      expect(e.lsn).toBeGreaterThan(0n);
      expect(e.lsn).toBeLessThanOrEqual(e.commitLsn!);
      expect(e.commitTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    }
    // Three transactions: three distinct xids and increasing commit LSNs.
    expect(new Set(events.map((e) => e.xid)).size).toBe(3);
    expect(events[0]!.commitLsn! < events[1]!.commitLsn! && events[1]!.commitLsn! < events[2]!.commitLsn!).toBe(true);
  });

  test('an update that changes the key sends the old key', async () => {
    const { h, names: [t] } = await stream(1, ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY, name text)`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'a')`);
    await db.sql.unsafe(`UPDATE ${t} SET id = 2 WHERE id = 1`);
    await h.sink.untilCount(2);
    expect(h.sink.of(t!).map(shape)).toEqual([
      { action: 'insert', columns: { id: 1, name: 'a' } },
      { action: 'update', columns: { id: 2, name: 'a' }, old: { id: 1 } },
    ]);
  });

  test('REPLICA IDENTITY FULL: update and delete carry the whole old row; Key is the primary key, or every column without one', async () => {
    const { h, names: [t, nopk] } = await stream(2, ([t, nopk]) => `
      CREATE TABLE ${t} (id int PRIMARY KEY, name text, n int); ALTER TABLE ${t} REPLICA IDENTITY FULL;
      CREATE TABLE ${nopk} (id int, name text); ALTER TABLE ${nopk} REPLICA IDENTITY FULL`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'one', 10)`);
    await db.sql.unsafe(`UPDATE ${t} SET n = 11 WHERE id = 1`);
    await db.sql.unsafe(`DELETE FROM ${t} WHERE id = 1`);
    await db.sql.unsafe(`INSERT INTO ${nopk} VALUES (1, 'x')`);
    await db.sql.unsafe(`DELETE FROM ${nopk}`);
    await h.sink.untilCount(5);
    const events = h.sink.of(t!);
    expect(events.map(shape)).toEqual([
      { action: 'insert', columns: { id: 1, name: 'one', n: 10 } },
      { action: 'update', columns: { id: 1, name: 'one', n: 11 }, old: { id: 1, name: 'one', n: 10 } },
      { action: 'delete', columns: { id: 1, name: 'one', n: 11 }, old: { id: 1, name: 'one', n: 11 } },
    ]);
    for (const e of events) expect(e.key).toEqual(['id']);
    const noKey = h.sink.of(nopk!);
    expect(noKey.map(shape)).toEqual([
      { action: 'insert', columns: { id: 1, name: 'x' } },
      { action: 'delete', columns: { id: 1, name: 'x' }, old: { id: 1, name: 'x' } },
    ]);
    // Without a primary key every column is part of the identity.
    for (const e of noKey) expect(e.key).toEqual(['id', 'name']);
  });

  test('REPLICA IDENTITY USING INDEX: the index columns are the key', async () => {
    const { h, names: [t] } = await stream(1, ([t]) => `
      CREATE TABLE ${t} (id int, code text NOT NULL, name text);
      CREATE UNIQUE INDEX ${t}_code ON ${t} (code);
      ALTER TABLE ${t} REPLICA IDENTITY USING INDEX ${t}_code`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'c1', 'a')`);
    await db.sql.unsafe(`UPDATE ${t} SET name = 'b' WHERE code = 'c1'`);
    await db.sql.unsafe(`UPDATE ${t} SET code = 'c2' WHERE code = 'c1'`);
    await db.sql.unsafe(`DELETE FROM ${t} WHERE code = 'c2'`);
    await h.sink.untilCount(4);
    const events = h.sink.of(t!);
    expect(events.map(shape)).toEqual([
      { action: 'insert', columns: { id: 1, code: 'c1', name: 'a' } },
      // The key did not change: PostgreSQL sends no old key.
      { action: 'update', columns: { id: 1, code: 'c1', name: 'b' } },
      { action: 'update', columns: { id: 1, code: 'c2', name: 'b' }, old: { code: 'c1' } },
      { action: 'delete', columns: { id: null, code: 'c2', name: null }, old: { code: 'c2' } },
    ]);
    for (const e of events) expect(e.key).toEqual(['code']);
  });

  test('REPLICA IDENTITY NOTHING: PostgreSQL refuses update/delete while the publication publishes them; with publish = insert they are not streamed', async () => {
    const { h, names: [t, t2] } = await stream(2, ([t, t2]) => `
      CREATE TABLE ${t} (id int PRIMARY KEY, name text); ALTER TABLE ${t} REPLICA IDENTITY NOTHING;
      CREATE TABLE ${t2} (id int PRIMARY KEY)`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'a')`);
    // 55000 object_not_in_prerequisite_state: "cannot update table ... because it does not have a replica identity and publishes updates".
    await expect(db.sql.unsafe(`UPDATE ${t} SET name = 'b'`)).rejects.toMatchObject({ code: '55000' });
    await expect(db.sql.unsafe(`DELETE FROM ${t}`)).rejects.toMatchObject({ code: '55000' });
    await db.sql.unsafe(`INSERT INTO ${t2} VALUES (1)`);
    await h.sink.until('the marker row', () => h.sink.of(t2!).length === 1);
    expect(h.sink.of(t!).map(shape)).toEqual([{ action: 'insert', columns: { id: 1, name: 'a' } }]);
    expect(h.sink.of(t!)[0]!.key).toEqual([]);

    // A publication of inserts only: update and delete succeed and nothing of them is sent.
    const { h: h2, names: [u, u2] } = await stream(2, ([u, u2]) => `
      CREATE TABLE ${u} (id int PRIMARY KEY, name text); ALTER TABLE ${u} REPLICA IDENTITY NOTHING;
      CREATE TABLE ${u2} (id int PRIMARY KEY)`, { publish: 'insert' });
    await db.sql.unsafe(`INSERT INTO ${u} VALUES (1, 'a')`);
    await db.sql.unsafe(`UPDATE ${u} SET name = 'b'`);
    await db.sql.unsafe(`DELETE FROM ${u}`);
    await db.sql.unsafe(`INSERT INTO ${u2} VALUES (1)`);
    await h2.sink.until('the marker row', () => h2.sink.of(u2!).length === 1);
    expect(h2.sink.of(u!).map(shape)).toEqual([{ action: 'insert', columns: { id: 1, name: 'a' } }]);
  });

  test('TRUNCATE gives one truncate event per table, also for a multi-table TRUNCATE', async () => {
    const { h, names: [a, b, c] } = await stream(3, ([a, b, c]) => `
      CREATE TABLE ${a} (id int PRIMARY KEY); CREATE TABLE ${b} (id int PRIMARY KEY); CREATE TABLE ${c} (id int PRIMARY KEY)`);
    await db.sql.unsafe(`INSERT INTO ${a} VALUES (1); INSERT INTO ${b} VALUES (1); INSERT INTO ${c} VALUES (1)`);
    await db.sql.unsafe(`TRUNCATE ${a}`);
    await db.sql.unsafe(`TRUNCATE ${b}, ${c}`);
    await db.sql.unsafe(`INSERT INTO ${a} VALUES (2)`);
    await h.sink.untilCount(7);
    const seen = h.sink.events.map((e) => `${e.action} ${e.table}`);
    expect(seen).toEqual([`insert ${a}`, `insert ${b}`, `insert ${c}`, `truncate ${a}`, `truncate ${b}`, `truncate ${c}`, `insert ${a}`]);
    const [ta, tb, tc] = h.sink.events.slice(3, 6);
    for (const e of [ta!, tb!, tc!]) {
      expect(e.columns).toEqual({});
      expect(e.schema).toBe('public');
      expect(typeof e.xid).toBe('number');
    }
    // The two tables of one TRUNCATE share its transaction.
    expect(tb!.xid).toBe(tc!.xid!);
    expect(tb!.commitLsn).toBe(tc!.commitLsn!);
    expect(ta!.xid).not.toBe(tb!.xid!);
  });

  test('an unchanged TOAST value is listed in Unchanged and absent from Columns, never null', async () => {
    const { h, names: [t] } = await stream(1, ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY, big text, n int)`);
    // ~64 kB of hex digits: too large to stay inline even compressed, so it is stored out of line.
    await db.sql.unsafe(`INSERT INTO ${t} SELECT 1, string_agg(md5(i::text), ''), 1 FROM generate_series(1, 1000) i`);
    await db.sql.unsafe(`UPDATE ${t} SET n = 2 WHERE id = 1`);
    await db.sql.unsafe(`UPDATE ${t} SET big = 'small now', n = 3 WHERE id = 1`);
    await h.sink.untilCount(3);
    const [insert, untouched, touched] = h.sink.of(t!);
    expect(typeof insert!.columns.big).toBe('string');
    expect((insert!.columns.big as string).length).toBe(32_000);
    expect(insert!.unchanged).toBeUndefined();
    expect(shape(untouched!)).toEqual({ action: 'update', columns: { id: 1, n: 2 }, unchanged: ['big'] });
    expect('big' in untouched!.columns).toBe(false);
    expect(shape(touched!)).toEqual({ action: 'update', columns: { id: 1, big: 'small now', n: 3 } });
  });

  test('a transaction replayed from another replication origin (an Origin message) streams its rows', async () => {
    const { h, names: [t] } = await stream(1, ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY)`);
    const origin = uniqueName('origin');
    await db.sql`SELECT pg_replication_origin_create(${origin})`;
    const conn = await db.sql.reserve();
    try {
      await conn`SELECT pg_replication_origin_session_setup(${origin})`;
      await conn.unsafe(`INSERT INTO ${t} VALUES (1)`);
      await conn`SELECT pg_replication_origin_session_reset()`;
    } finally {
      conn.release();
      await db.sql`SELECT pg_replication_origin_drop(${origin})`;
    }
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (2)`);
    await h.sink.untilCount(2);
    expect(h.sink.of(t!).map((e) => e.columns.id)).toEqual([1, 2]);
  });

  test('REPLICA IDENTITY FULL and an unchanged TOAST value: listed in Unchanged, absent from Columns, whole in Old', async () => {
    const { h, names: [t] } = await stream(1, ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY, big text, n int); ALTER TABLE ${t} REPLICA IDENTITY FULL`);
    await db.sql.unsafe(`INSERT INTO ${t} SELECT 1, string_agg(md5(i::text), ''), 1 FROM generate_series(1, 1000) i`);
    await db.sql.unsafe(`UPDATE ${t} SET n = 2 WHERE id = 1`);
    await h.sink.untilCount(2);
    const [insert, update] = h.sink.of(t!);
    const big = insert!.columns.big as string;
    expect(big.length).toBe(32_000);
    expect(shape(update!)).toEqual({ action: 'update', columns: { id: 1, n: 2 }, old: { id: 1, big, n: 1 }, unchanged: ['big'] });
  });

  // PostgreSQL 13's pgoutput has no `messages` option: the source cannot ask for them there.
  testSince(14, 'logical decoding messages (the pgoutput messages option)')('pg_logical_emit_message: transactional and non-transactional messages become message events', async () => {
    const { h, names: [t] } = await stream(1, ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY)`);
    const prefix = uniqueName('msg');
    await db.sql.begin(async (tx) => {
      await tx.unsafe(`INSERT INTO ${t} VALUES (1)`);
      await tx`SELECT pg_logical_emit_message(true, ${prefix}, 'in a transaction')`;
    });
    await db.sql`SELECT pg_logical_emit_message(false, ${prefix}, ${'\u00e9t\u00e9 <&>'})`;
    await db.sql`SELECT pg_logical_emit_message(false, ${prefix}, ${Buffer.from([0xff, 0x00, 0x01])})`;
    const mine = () => h.sink.events.filter((e) => e.action === 'message' && e.columns.prefix === prefix);
    await h.sink.until('three messages', () => mine().length === 3);
    const [tx, plain, binary] = mine();
    expect(tx!.columns).toEqual({ prefix, content: 'in a transaction', transactional: true });
    const insert = h.sink.of(t!)[0]!;
    expect(tx!.xid).toBe(insert.xid!);
    expect(tx!.commitLsn).toBe(insert.commitLsn!);
    expect(tx!.table).toBe('');
    expect(plain!.columns).toEqual({ prefix, content: '\u00e9t\u00e9 <&>', transactional: false });
    expect(plain!.xid).toBeUndefined();
    // Outside a transaction: its own LSN stands for the commit LSN, and it is change 0 there.
    expect([plain!.commitLsn, plain!.txIndex]).toEqual([plain!.lsn, 0]);
    // Content that is not UTF-8 is kept losslessly as bytea hex text.
    expect(binary!.columns).toEqual({ prefix, content: '\\xff0001', transactional: false });
  });
});

describe('event identity', () => {
  testSince(14, 'logical decoding messages (the pgoutput messages option)')('txIndex counts every change message of a transaction (a TRUNCATE once per table); the UUID is the documented function of (commit LSN, txIndex)', async () => {
    // Column names whose UTF-16 and code point orders differ: rows of ${b} take the general path, ${a}'s the byte path.
    const { h, names: [a, b], slot } = await stream(2, ([a, b]) => `CREATE TABLE ${a} (id int PRIMARY KEY, v text); CREATE TABLE ${b} (id int PRIMARY KEY, "\u{1F600}" int, "\uE000" int)`);
    const prefix = uniqueName('msg');
    await db.sql.begin(async (tx) => {
      await tx.unsafe(`INSERT INTO ${a} VALUES (1, 'x')`);
      await tx`SELECT pg_logical_emit_message(true, ${prefix}, 'in a transaction')`;
      await tx.unsafe(`UPDATE ${a} SET v = 'y' WHERE id = 1`);
      await tx.unsafe(`TRUNCATE ${a}, ${b}`);
      await tx.unsafe(`INSERT INTO ${b} VALUES (7, 1, 2)`);
      await tx.unsafe(`INSERT INTO ${a} VALUES (3, 'w')`);
    });
    await db.sql.unsafe(`INSERT INTO ${a} VALUES (2, 'z')`);
    await db.sql`SELECT pg_logical_emit_message(false, ${prefix}, 'alone')`;
    await h.sink.until('the events', () => h.sink.events.some((e) => e.action === 'message' && e.columns.content === 'alone'));
    const events = h.sink.events.filter((e) => e.table === a || e.table === b || e.columns.prefix === prefix);
    expect(events.map((e) => `${e.action} ${e.table || e.columns.content} #${e.txIndex}`)).toEqual([
      `insert ${a} #0`, 'message in a transaction #1', `update ${a} #2`, `truncate ${a} #3`, `truncate ${b} #4`, `insert ${b} #5`, `insert ${a} #6`,
      `insert ${a} #0`, 'message alone #0',
    ]);
    const { identity, stream: streamId } = await identityOf(slot);
    for (const e of events) {
      expect(e.uuid).toBe(identity.stream(e.commitLsn!, e.txIndex!));
      expect(e.stream).toBe(streamId);
    }
    expect(new Set(events.map((e) => e.uuid)).size).toBe(events.length);
    // The general path took ${b}'s insert, the byte path the others' rows.
    expect(events.filter((e) => e.action === 'insert').map((e) => e.encoded !== undefined)).toEqual([true, false, true, true]);
    const alone = events.at(-1)!;
    expect([alone.commitLsn, alone.txIndex]).toEqual([alone.lsn, 0]);
  });
});
