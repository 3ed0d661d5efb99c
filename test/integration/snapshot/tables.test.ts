/**
 * resolveSnapshotTables and validateWhere against the real server: every relation is compared
 * with the Relation message pgoutput really sends for the table (replica identities, partitions,
 * column lists, generated and dropped columns, names needing quotes), plus the key a snapshot
 * reads in, and each refusal (status and message).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { SqlClient } from '../../../src/pg/sql-client.ts';
import { resolveSnapshotTables, validateWhere, type SnapshotTable } from '../../../src/sources/postgres/snapshot/tables.ts';
import { SnapshotRequestError } from '../../../src/sources/postgres/snapshot/types.ts';
import { serverMajor, testSince, uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';
import { snapshotClient, streamed } from '../../helpers/snapshot-reader.ts';

const db = useSourceTests();
let client: SqlClient;
beforeAll(async () => {
  client = await snapshotClient(db.pg.server);
});
afterAll(async () => {
  await client?.close();
});

async function refusal(promise: Promise<unknown>): Promise<SnapshotRequestError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof SnapshotRequestError)) throw new Error(`expected a SnapshotRequestError, got ${String(err)}`);
  return err;
}

/** Resolves one table and checks its relation against what pgoutput sends after inserting `row`. */
async function resolveAndCompare(publication: string, requested: string, insert: string): Promise<SnapshotTable> {
  const { tables } = await resolveSnapshotTables(client, [publication], [requested]);
  expect(tables.length).toBe(1);
  const table = tables[0]!;
  const sent = await streamed(db.sql, [publication], insert);
  expect(table.relation).toEqual(sent.relations.get(`${table.schema}.${table.name}`)!);
  return table;
}

describe('resolveSnapshotTables: keys and replica identities', () => {
  test('composite primary key: key order is the key\'s, not the columns\'', async () => {
    const t = uniqueName('comp');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (a int, b text, c varchar(10), PRIMARY KEY (b, a)); CREATE PUBLICATION ${pub} FOR TABLE ${t}`);
    const table = await resolveAndCompare(pub, t, `INSERT INTO ${t} VALUES (1, 'x', 'y')`);
    expect(table).toMatchObject({ schema: 'public', name: t, qualified: `public.${t}`, keyColumns: ['b', 'a'], keyTypes: ['text', 'integer'], rowFilter: undefined });
    expect(table.relation.columns.map((c) => [c.name, c.isKey])).toEqual([['a', true], ['b', true], ['c', false]]);
  });

  test('REPLICA IDENTITY FULL: every column flagged, the primary key read in', async () => {
    const t = uniqueName('full');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (id bigint PRIMARY KEY, v text); ALTER TABLE ${t} REPLICA IDENTITY FULL; CREATE PUBLICATION ${pub} FOR TABLE ${t}`);
    const table = await resolveAndCompare(pub, `public.${t}`, `INSERT INTO ${t} VALUES (1, 'x')`);
    expect(table.relation.replicaIdentity).toBe('f');
    expect(table.relation.columns.every((c) => c.isKey)).toBe(true);
    expect([table.keyColumns, table.keyTypes]).toEqual([['id'], ['bigint']]);
  });

  test('REPLICA IDENTITY USING INDEX: that index\'s columns, in its order', async () => {
    const t = uniqueName('idx');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`
      CREATE TABLE ${t} (id int PRIMARY KEY, x int NOT NULL, y timestamptz NOT NULL, z text);
      CREATE UNIQUE INDEX ${t}_yx ON ${t} (y, x);
      ALTER TABLE ${t} REPLICA IDENTITY USING INDEX ${t}_yx;
      CREATE PUBLICATION ${pub} FOR TABLE ${t}`);
    const table = await resolveAndCompare(pub, t, `INSERT INTO ${t} VALUES (1, 2, now(), 'z')`);
    expect([table.keyColumns, table.keyTypes]).toEqual([['y', 'x'], ['timestamp with time zone', 'integer']]);
    expect(table.relation.columns.map((c) => c.isKey)).toEqual([false, true, true, false]);
  });

  test('REPLICA IDENTITY NOTHING: nothing flagged, the primary key read in', async () => {
    const t = uniqueName('nothing');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text); ALTER TABLE ${t} REPLICA IDENTITY NOTHING; CREATE PUBLICATION ${pub} FOR TABLE ${t} WITH (publish = 'insert')`);
    const table = await resolveAndCompare(pub, t, `INSERT INTO ${t} VALUES (1, 'x')`);
    expect(table.relation.columns.some((c) => c.isKey)).toBe(false);
    expect(table.keyColumns).toEqual(['id']);
  });

  test('a table without a usable key: 400 when asked for, refused from "all"', async () => {
    const plain = uniqueName('nokey');
    const full = uniqueName('fullnokey');
    const good = uniqueName('good');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`
      CREATE TABLE ${plain} (a int, b text); CREATE TABLE ${full} (a int UNIQUE); ALTER TABLE ${full} REPLICA IDENTITY FULL;
      CREATE TABLE ${good} (id int PRIMARY KEY);
      CREATE PUBLICATION ${pub} FOR TABLE ${plain}, ${full}, ${good} WITH (publish = 'insert')`);
    const err = await refusal(resolveSnapshotTables(client, [pub], [good, plain]));
    expect(err.status).toBe(400);
    expect(err.message).toBe(`public.${plain} has no primary key or replica identity index: snapshots read in key order; add one (ALTER TABLE ... ADD PRIMARY KEY (...)) or leave it out`);
    expect((await refusal(resolveSnapshotTables(client, [pub], [full]))).status).toBe(400);
    const all = await resolveSnapshotTables(client, [pub], 'all');
    expect(all.tables.map((t) => t.qualified)).toEqual([`public.${good}`]);
    expect(all.refused.map((r) => r.table).sort()).toEqual([`public.${full}`, `public.${plain}`].sort());
    expect(all.refused[0]!.reason).toContain('has no primary key or replica identity index');
  });
});

describe('resolveSnapshotTables: what is published', () => {
  test('a table not in the publication, one that does not exist, a publication that does not exist: 404s', async () => {
    const inside = uniqueName('inside');
    const outside = uniqueName('outside');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${inside} (id int PRIMARY KEY); CREATE TABLE ${outside} (id int PRIMARY KEY); CREATE PUBLICATION ${pub} FOR TABLE ${inside}`);
    const notIn = await refusal(resolveSnapshotTables(client, [pub], [outside]));
    expect([notIn.status, notIn.message]).toEqual([404, `public.${outside} is not in publication "${pub}"`]);
    const missing = await refusal(resolveSnapshotTables(client, [pub], ['nosuchschema.t']));
    expect([missing.status, missing.message]).toEqual([404, 'table nosuchschema.t does not exist']);
    const noPub = await refusal(resolveSnapshotTables(client, [pub, 'no_such_pub'], [inside]));
    expect([noPub.status, noPub.message]).toEqual([404, 'publication "no_such_pub" does not exist']);
    expect((await refusal(resolveSnapshotTables(client, [pub], ['a.b.c']))).status).toBe(400);
    expect((await refusal(resolveSnapshotTables(client, [pub], []))).status).toBe(400);
  });

  test('FOR ALL TABLES: any table, and "all" lists them; duplicates are read once', async () => {
    const t = uniqueName('anytable');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text); CREATE PUBLICATION ${pub} FOR ALL TABLES`);
    try {
      await resolveAndCompare(pub, t, `INSERT INTO ${t} VALUES (1, 'x')`);
      const twice = await resolveSnapshotTables(client, [pub], [t, `public.${t}`, `"public"."${t}"`]);
      expect(twice.tables.length).toBe(1);
      const all = await resolveSnapshotTables(client, [pub], 'all');
      expect(all.tables.map((x) => x.qualified)).toContain(`public.${t}`);
    } finally {
      // A FOR ALL TABLES publication would publish the other tests' tables too.
      await db.sql.unsafe(`DROP PUBLICATION ${pub}`);
    }
  });

  test('names needing quotes: schema and table with dots, spaces, quotes and capitals', async () => {
    const schema = `My Schema ${uniqueName('s')}`;
    const name = 'odd.Table "q"';
    const pub = uniqueName('pub');
    const qs = `"${schema}"`;
    const qt = `"odd.Table ""q"""`;
    await db.sql.unsafe(`CREATE SCHEMA ${qs}; CREATE TABLE ${qs}.${qt} ("Key Col" int PRIMARY KEY, "v.x" text); CREATE PUBLICATION ${pub} FOR TABLE ${qs}.${qt}`);
    const table = await resolveAndCompare(pub, `${qs}.${qt}`, `INSERT INTO ${qs}.${qt} VALUES (1, 'x')`);
    expect([table.schema, table.name, table.qualified, table.keyColumns]).toEqual([schema, name, `${schema}.${qt}`, ['Key Col']]);
    // The qualified name (what a snapshot record keeps) resolves to the same table again.
    expect((await resolveSnapshotTables(client, [pub], [table.qualified])).tables[0]!.relationId).toBe(table.relationId);
    const err = await refusal(resolveSnapshotTables(client, [pub], [`${schema}.nope`]));
    expect(err.message).toBe(`table ${schema}.nope does not exist`);
  });

  test('dropped columns are left out, as pgoutput does', async () => {
    const t = uniqueName('dropped');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (a int, gone text, id int PRIMARY KEY, b text); ALTER TABLE ${t} DROP COLUMN gone; ALTER TABLE ${t} DROP COLUMN a; CREATE PUBLICATION ${pub} FOR TABLE ${t}`);
    const table = await resolveAndCompare(pub, t, `INSERT INTO ${t} VALUES (1, 'x')`);
    expect(table.relation.columns.map((c) => c.name)).toEqual(['id', 'b']);
  });

  test('generated columns: as pgoutput sends them (left out before PostgreSQL 18)', async () => {
    const t = uniqueName('gen');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, a int, twice int GENERATED ALWAYS AS (a * 2) STORED, b text); CREATE PUBLICATION ${pub} FOR TABLE ${t}`);
    const table = await resolveAndCompare(pub, t, `INSERT INTO ${t} (id, a, b) VALUES (1, 2, 'x')`);
    expect(table.relation.columns.map((c) => c.name)).toEqual(['id', 'a', 'b']);
  });

  testSince(18, 'publish_generated_columns')('PostgreSQL 18: publish_generated_columns = stored sends stored generated columns', async () => {
    const t = uniqueName('gen18');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, a int, twice int GENERATED ALWAYS AS (a * 2) STORED, virt int GENERATED ALWAYS AS (a + 1) VIRTUAL);
      CREATE PUBLICATION ${pub} FOR TABLE ${t} WITH (publish_generated_columns = stored)`);
    const table = await resolveAndCompare(pub, t, `INSERT INTO ${t} (id, a) VALUES (1, 2)`);
    expect(table.relation.columns.map((c) => c.name)).toEqual(['id', 'a', 'twice']);
  });

  testSince(15, 'column lists')('PostgreSQL 15+: a column list sends only its columns; a row filter is kept', async () => {
    const t = uniqueName('cols');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, secret text, v text, n int); CREATE PUBLICATION ${pub} FOR TABLE ${t} (id, v, n) WHERE (n > 10)`);
    const table = await resolveAndCompare(pub, t, `INSERT INTO ${t} VALUES (1, 's', 'v', 11)`);
    expect(table.relation.columns.map((c) => c.name)).toEqual(['id', 'v', 'n']);
    expect(table.rowFilter).toBe('(n > 10)');
  });

  testSince(15, 'column lists')('PostgreSQL 15+: a column list without the key: the key is still read', async () => {
    const t = uniqueName('nokeycol');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text); CREATE PUBLICATION ${pub} FOR TABLE ${t} (v) WITH (publish = 'insert')`);
    const table = await resolveAndCompare(pub, t, `INSERT INTO ${t} VALUES (1, 'v')`);
    expect([table.relation.columns.map((c) => c.name), table.keyColumns]).toEqual([['v'], ['id']]);
  });
});

describe('resolveSnapshotTables: partitioned tables', () => {
  async function partitioned(viaRoot: boolean) {
    const root = uniqueName(viaRoot ? 'root_on' : 'root_off');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`
      CREATE TABLE ${root} (id int, region text, v text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
      CREATE TABLE ${root}_eu PARTITION OF ${root} FOR VALUES IN ('eu');
      CREATE TABLE ${root}_us PARTITION OF ${root} FOR VALUES IN ('us');
      CREATE PUBLICATION ${pub} FOR TABLE ${root} WITH (publish_via_partition_root = ${viaRoot});
      INSERT INTO ${root} SELECT g, CASE WHEN g % 3 = 0 THEN 'us' ELSE 'eu' END, 'x' FROM generate_series(1, 300) g;
      ANALYZE ${root}_eu; ANALYZE ${root}_us`);
    return { root, pub };
  }

  test('publish_via_partition_root on: the root, its rows summed; a partition asked for names the root', async () => {
    const { root, pub } = await partitioned(true);
    const table = await resolveAndCompare(pub, root, `INSERT INTO ${root} VALUES (1000, 'us', 'y')`);
    const [oid] = await db.sql.unsafe(`SELECT '${root}'::regclass::oid::int AS oid`);
    expect([table.relationId, table.keyColumns, table.estimatedRows]).toEqual([oid!.oid as number, ['region', 'id'], 300]);
    const err = await refusal(resolveSnapshotTables(client, [pub], [`${root}_eu`]));
    expect([err.status, err.message]).toEqual([404,
      `public.${root}_eu is a partition of public.${root}, which publication "${pub}" publishes as a whole (publish_via_partition_root): ask for public.${root}`]);
    expect((await resolveSnapshotTables(client, [pub], 'all')).tables.map((t) => t.name)).toEqual([root]);
  });

  test('publish_via_partition_root off: the partitions; the root asked for stands for them', async () => {
    const { root, pub } = await partitioned(false);
    const leaf = await resolveAndCompare(pub, `${root}_us`, `INSERT INTO ${root} VALUES (1000, 'us', 'y')`);
    expect([leaf.name, leaf.estimatedRows]).toEqual([`${root}_us`, 100]);
    const viaRoot = await resolveSnapshotTables(client, [pub], [root]);
    expect(viaRoot.tables.map((t) => t.name).sort()).toEqual([`${root}_eu`, `${root}_us`]);
    expect((await resolveSnapshotTables(client, [pub], 'all')).tables.map((t) => t.name)).toEqual([`${root}_eu`, `${root}_us`]);
  });
});

describe('validateWhere', () => {
  let table: SnapshotTable;
  let name: string;
  beforeAll(async () => {
    name = uniqueName('where');
    const pub = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${name} (id int PRIMARY KEY, status text); INSERT INTO ${name} VALUES (1, 'open'), (2, 'closed');
      CREATE PUBLICATION ${pub} FOR TABLE ${name}`);
    table = (await resolveSnapshotTables(client, [pub], [name])).tables[0]!;
  });

  test('a condition on the table\'s columns passes', async () => {
    await validateWhere(client, table, "status = 'open' AND id > 0 -- trailing comment");
  });

  test('the server\'s refusal is a 400 with its message', async () => {
    const err = await refusal(validateWhere(client, table, 'nosuch = 1'));
    expect([err.status, err.message]).toEqual([400, 'where: column "nosuch" does not exist']);
    expect((await refusal(validateWhere(client, table, 'id'))).message).toContain('argument of WHERE must be type boolean');
  });

  test('attempts to write are refused and harmless', async () => {
    for (const where of [
      `1=1); DELETE FROM ${name}; --`,
      `1=1) OR (1=1`,
      `id IN (SELECT id FROM (WITH d AS (DELETE FROM ${name} RETURNING id) SELECT id FROM d) x)`,
    ]) {
      const err = await refusal(validateWhere(client, table, where));
      expect(err.status).toBe(400);
    }
    const [row] = await db.sql.unsafe(`SELECT count(*)::int AS n FROM ${name}`);
    expect(row!.n).toBe(2);
    // The session is usable afterwards (the transaction was rolled back).
    expect(await client.query('SELECT 1')).toEqual([['1']]);
    expect(serverMajor()).toBeGreaterThanOrEqual(13);
  });
});
