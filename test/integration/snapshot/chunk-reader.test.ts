/**
 * readChunk against the real server (its Insert messages decoded as the stream decodes them): reading a table chunk by chunk gives every row once, in the
 * server's key order (composite keys, text keys under a collation, uuid/timestamptz/numeric/float/
 * bytea keys round-tripping through lastKey), within the row and byte limits; `where` and the
 * publication's row filter; the snapshot and WAL position; the raw bytes; errors roll back; a
 * builder gets the WAL position, then every kept row in order, and its failure fails the read.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { PgError } from '../../../src/pg/errors.ts';
import type { PgConnection } from '../../../src/pg/connection.ts';
import type { SqlClient } from '../../../src/pg/sql-client.ts';
import { parseLsn, type Lsn } from '../../../src/replication/lsn.ts';
import { readChunk, type ChunkRowBuilder } from '../../../src/sources/postgres/snapshot/chunk-reader.ts';
import { resolveSnapshotTables, validateWhere, type SnapshotTable } from '../../../src/sources/postgres/snapshot/tables.ts';
import { testSince, uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';
import { readRows, snapshotClient, snapshotConnection, type ChunkRows } from '../../helpers/snapshot-reader.ts';

const db = useSourceTests();
let client: SqlClient;
let conn: PgConnection;
beforeAll(async () => {
  client = await snapshotClient(db.pg.server);
  conn = await snapshotConnection(db.pg.server);
});
afterAll(async () => {
  await client?.close();
  await conn?.close();
});

/** Creates the table (`columns` SQL) in a publication of its own, fills it with `fill` and resolves it. */
async function table(prefix: string, columns: string, fill: string, publishAs = ''): Promise<SnapshotTable> {
  const name = uniqueName(prefix);
  const pub = uniqueName('pub');
  await db.sql.unsafe(`CREATE TABLE ${name} (${columns}); ${fill.replaceAll('$T', name)}; CREATE PUBLICATION ${pub} FOR TABLE ${name}${publishAs}`);
  return (await resolveSnapshotTables(client, [pub], [name])).tables[0]!;
}


/** Reads the whole table in chunks; returns the chunks. */
async function readAll(t: SnapshotTable, limits: { rows: number; bytes: number }, where?: string): Promise<ChunkRows[]> {
  const chunks: ChunkRows[] = [];
  let after: string[] | undefined;
  for (;;) {
    const chunk = await readRows(conn, t, after, where, limits);
    chunks.push(chunk);
    expect(chunks.length).toBeLessThan(10_000);
    if (chunk.complete) return chunks;
    after = chunk.lastKey;
  }
}

/** The server's own order of the rows (text of every relation column). */
async function serverOrder(t: SnapshotTable, where = 'true'): Promise<(string | null)[][]> {
  const columns = t.relation.columns.map((c) => `src."${c.name}"::text`).join(', ');
  return client.query(`SELECT ${columns} FROM "${t.schema}"."${t.name}" AS src WHERE ${where} ORDER BY ${t.keyColumns.map((k) => `src."${k}"`).join(', ')}`);
}

describe('readChunk', () => {
  test('composite key: every row once, in key order, chunk by chunk', async () => {
    const t = await table('comp', 'a int, b text, v text, PRIMARY KEY (b, a)',
      "INSERT INTO $T SELECT g % 7, 'k' || (g % 5), 'v' || g FROM generate_series(1, 35) g");
    const chunks = await readAll(t, { rows: 4, bytes: 1 << 20 });
    expect(chunks.flatMap((c) => c.rows)).toEqual(await serverOrder(t));
    expect(chunks.length).toBe(9);
    expect(chunks.slice(0, -1).every((c) => c.rows.length === 4 && !c.complete)).toBe(true);
    expect([chunks.at(-1)!.rows.length, chunks.at(-1)!.complete, chunks.at(-1)!.lastKey]).toEqual([3, true, ['k4', '6']]);
    expect(chunks[0]!.lastKey).toEqual(['k0', '3']);
  });

  test('a chunk of exactly the rows left is not complete; the next, empty one is', async () => {
    const t = await table('exact', 'id int PRIMARY KEY', 'INSERT INTO $T SELECT generate_series(1, 4)');
    const chunks = await readAll(t, { rows: 2, bytes: 1 << 20 });
    expect(chunks.map((c) => [c.rows.length, c.complete, c.lastKey])).toEqual([[2, false, ['2']], [2, false, ['4']], [0, true, undefined]]);
  });

  test('an empty table: no rows, complete', async () => {
    const t = await table('empty', 'id int PRIMARY KEY', 'SELECT 1');
    expect(await readRows(conn, t, undefined, undefined, { rows: 10, bytes: 10 })).toMatchObject({ rows: [], lastKey: undefined, bytes: 0, complete: true });
  });

  test('uuid, timestamptz, numeric, float8 and bytea keys round-trip through lastKey', async () => {
    const t = await table('types', 'u uuid, at timestamptz, n numeric, f float8, b bytea, PRIMARY KEY (u, at, n, f, b)', `
      INSERT INTO $T SELECT u::uuid, at::timestamptz, n::numeric, f::float8, b::bytea FROM
        (VALUES ('00000000-0000-0000-0000-000000000001'), ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')) us(u),
        (VALUES ('2020-01-02 03:04:05.123456+00'), ('2020-01-02 03:04:05.123457+05:30'), ('-infinity'), ('infinity'), ('1999-12-31 23:59:59.999999 BC')) ats(at),
        (VALUES ('1.5'), ('1.500000000000000000000000000001'), ('NaN'), ('-0.000000000000000000001')) ns(n),
        (VALUES ('0.1'), ('0.30000000000000004'), ('-Infinity'), ('5e-324')) fs(f),
        (VALUES ('\\x00'), ('\\x00ff'), ('\\x')) bs(b)`);
    const chunks = await readAll(t, { rows: 1, bytes: 1 << 20 });
    const expected = await serverOrder(t);
    expect(expected.length).toBe(2 * 5 * 4 * 4 * 3);
    expect(chunks.flatMap((c) => c.rows)).toEqual(expected);
  });

  // "C" always; a linguistic collation (ICU or en_US) as well when the server has one.
  test('text keys follow the column\'s collation', async () => {
    const [c] = await client.query("SELECT collname FROM pg_collation WHERE collname IN ('und-x-icu', 'en-x-icu', 'en_US.utf8', 'en_US.UTF-8') ORDER BY collname LIMIT 1");
    const values = "('a'), ('B'), ('c'), ('_x'), ('é'), ('e'), ('Z'), ('aa'), (''), (' a')";
    for (const collation of ['C', ...(c ? [c[0]!] : [])]) {
      const t = await table('coll', `k text COLLATE "${collation}" PRIMARY KEY, v int`, `INSERT INTO $T (k) VALUES ${values}`);
      const chunks = await readAll(t, { rows: 1, bytes: 1 << 20 });
      const got = chunks.flatMap((ch) => ch.rows.map((r) => r[0]));
      expect(got).toEqual((await serverOrder(t)).map((r) => r[0]!));
      expect(got.length).toBe(10);
      if (collation === 'C') expect(got.slice(0, 4)).toEqual(['', ' a', 'B', 'Z']);
      else expect(got.indexOf('a')).toBeLessThan(got.indexOf('B'));
    }
  });

  test('the byte limit cuts a chunk after the row that reaches it (at least one row)', async () => {
    const t = await table('bytes', 'id int PRIMARY KEY, pad text', "INSERT INTO $T SELECT g, repeat('x', 998) FROM generate_series(1, 10) g");
    // Each row is 1 byte of id (1..9) or 2 (10), plus 998 bytes of pad.
    const cut = await readRows(conn, t, undefined, undefined, { rows: 100, bytes: 2500 });
    expect([cut.rows.length, cut.bytes, cut.complete, cut.lastKey]).toEqual([3, 2997, false, ['3']]);
    const one = await readRows(conn, t, ['3'], undefined, { rows: 100, bytes: 1 });
    expect([one.rows.length, one.bytes, one.complete, one.lastKey]).toEqual([1, 999, false, ['4']]);
    const chunks = await readAll(t, { rows: 100, bytes: 2500 });
    expect(chunks.map((c) => c.rows.length)).toEqual([3, 3, 3, 1]);
    expect(chunks.at(-1)!.complete).toBe(true);
    // More rows than one FETCH reads (1,000), cut by bytes in a later one: 9 ids of one
    // byte, 90 of two, 900 of three (2889 bytes), then 278 of four reach 4000.
    const many = await table('many', 'id int PRIMARY KEY', 'INSERT INTO $T SELECT generate_series(1, 2000)');
    const big = await readRows(conn, many, undefined, undefined, { rows: 5000, bytes: 4000 });
    expect([big.rows.length, big.bytes >= 4000, big.complete]).toEqual([1277, true, false]);
    expect((await readRows(conn, many, undefined, undefined, { rows: 5000, bytes: 1 << 20 })).rows.length).toBe(2000);
  });

  test('where: only matching rows, combined with the key', async () => {
    const t = await table('where', 'id int PRIMARY KEY, status text', "INSERT INTO $T SELECT g, CASE WHEN g % 3 = 0 THEN 'open' ELSE 'closed' END FROM generate_series(1, 30) g");
    const where = "status = 'open' -- only the open ones";
    const chunks = await readAll(t, { rows: 3, bytes: 1 << 20 }, where);
    expect(chunks.flatMap((c) => c.rows)).toEqual(await serverOrder(t, "status = 'open'"));
    expect(chunks.flatMap((c) => c.rows).length).toBe(10);
  });

  testSince(15, 'row filters')('PostgreSQL 15+: the publication\'s row filter applies; a column list leaves columns out, the key is still followed', async () => {
    const t = await table('filtered', 'id int PRIMARY KEY, secret text, n int',
      "INSERT INTO $T SELECT g, 's', g FROM generate_series(1, 20) g", ' (n, secret) WHERE (n % 2 = 0)');
    expect(t.relation.columns.map((c) => c.name)).toEqual(['secret', 'n']);
    const chunks = await readAll(t, { rows: 3, bytes: 1 << 20 }, 'n > 4');
    expect(chunks.flatMap((c) => c.rows)).toEqual(await serverOrder(t, 'n % 2 = 0 AND n > 4'));
    expect(chunks[0]!.lastKey).toEqual(['10']);
  });

  test('the snapshot and WAL position are taken at the start; committed work is visible', async () => {
    const t = await table('snap', 'id int PRIMARY KEY', 'INSERT INTO $T VALUES (1)');
    const [before] = await db.sql.unsafe("SELECT pg_current_wal_insert_lsn()::text AS lsn, pg_current_xact_id()::text AS xid");
    await db.sql.unsafe(`INSERT INTO ${t.name} VALUES (2)`);
    const chunk = await readRows(conn, t, undefined, undefined, { rows: 10, bytes: 1 << 20 });
    const [xmin, xmax, xip] = chunk.snapshot.split(':');
    expect(chunk.snapshot).toMatch(/^\d+:\d+:(\d+(,\d+)*)?$/);
    expect(BigInt(xmax!)).toBeGreaterThan(BigInt(before!.xid as string));
    expect(BigInt(xmin!)).toBeLessThanOrEqual(BigInt(xmax!));
    expect(xip!.split(',')).not.toContain(before!.xid as string);
    expect(chunk.walInsertLsn).toBeGreaterThan(parseLsn(before!.lsn as string));
    expect(chunk.rows).toEqual([['1'], ['2']]);
  });

  test('values are the server\'s text bytes, NULLs null, and stay intact after later reads', async () => {
    const t = await table('raw', 'id int PRIMARY KEY, ts timestamptz, b bytea, j jsonb, n numeric, t text',
      "INSERT INTO $T VALUES (1, '2020-01-02 03:04:05.5+05:30', '\\x00ff', '{\"b\": 1, \"a\": [1.50]}', 1.50, 'é'), (2, NULL, NULL, NULL, NULL, NULL)");
    const first = await readRows(conn, t, undefined, undefined, { rows: 10, bytes: 1 << 20 });
    for (let i = 0; i < 5; i++) await readRows(conn, t, undefined, undefined, { rows: 10, bytes: 1 << 20 });
    expect(first.rows).toEqual([
      ['1', '2020-01-01 21:34:05.5+00', '\\x00ff', '{"a": [1.50], "b": 1}', '1.50', 'é'],
      ['2', null, null, null, null, null],
    ]);
    expect(first.bytes).toBe(1 + 24 + 6 + 21 + 4 + 2 + 1);
  });

  test('a session with standard_conforming_strings off reads `where` as the shape check does', async () => {
    const t = await table('scs', 'id int PRIMARY KEY, v text', "INSERT INTO $T SELECT g, 'v' FROM generate_series(1, 5) g");
    const old = await snapshotClient(db.pg.server);
    const oldConn = await snapshotConnection(db.pg.server);
    try {
      await old.query('SET standard_conforming_strings = off');
      await oldConn.simpleQuery('SET standard_conforming_strings = off');
      // Read with backslash escapes this would close its parentheses and OR every row in.
      const where = "v = '\\'' ) OR (1=1 --'";
      await validateWhere(old, t, where);
      const chunk = await readRows(oldConn, t, ['3'], where, { rows: 10, bytes: 1 << 20 });
      expect(chunk.rows).toEqual([]);
      const plain = await readRows(oldConn, t, ['3'], "v = 'v'", { rows: 10, bytes: 1 << 20 });
      expect(plain.rows).toEqual([['4', 'v'], ['5', 'v']]);
      // Only for the transaction: the session's own setting stays.
      expect((await oldConn.simpleQuery('SHOW standard_conforming_strings'))[0]!.rows).toEqual([['off']]);
    } finally {
      await old.close();
      await oldConn.close();
    }
  });

  test('an error rolls the transaction back; the session goes on', async () => {
    const t = await table('fail', 'id int PRIMARY KEY', 'INSERT INTO $T SELECT generate_series(0, 3)');
    const err = await readRows(conn, t, undefined, '1 / id = 1', { rows: 10, bytes: 1 << 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgError);
    expect((err as PgError).serverMessage).toBe('division by zero');
    // READ ONLY: a where that would write is refused by the server.
    const seq = uniqueName('seq');
    await db.sql.unsafe(`CREATE SEQUENCE ${seq}`);
    const write = await readRows(conn, t, undefined, `nextval('${seq}') > 0`, { rows: 10, bytes: 1 << 20 }).catch((e: unknown) => e);
    expect((write as PgError).serverMessage).toContain('read-only transaction');
    expect((await conn.simpleQuery('SELECT 1'))[0]!.rows).toEqual([['1']]);
    expect((await readRows(conn, t, ['1'], undefined, { rows: 10, bytes: 1 << 20 })).rows).toEqual([['2'], ['3']]);
    await expect(readRows(conn, t, ['1', '2'], undefined, { rows: 10, bytes: 1 }) as Promise<unknown>).rejects.toThrow(RangeError);
  });

  test('a builder gets the WAL position first, then every row the chunk keeps, in order, as it arrives', async () => {
    const t = await table('built', 'id int PRIMARY KEY, pad text', "INSERT INTO $T SELECT g, repeat('y', 300) FROM generate_series(1, 3000) g");
    const seen: string[] = [];
    let lsn: Lsn | undefined;
    const builder: ChunkRowBuilder = {
      start(walInsertLsn) {
        expect(seen).toEqual([]);
        lsn = walInsertLsn;
      },
      row(data, start, end) {
        expect(lsn).toBeDefined();
        seen.push(Buffer.from(data.subarray(start, end)).toString('hex'));
      },
    };
    // Cut by bytes inside a FETCH: the rows past the cut are not the builder's either.
    const read = await readChunk(conn, t, undefined, undefined, { rows: 5000, bytes: 600_000 }, undefined, builder);
    expect(lsn).toBe(read.walInsertLsn);
    // 9 ids of one digit, 90 of two, 900 of three, then 979 of four bring the values to 600,000 bytes.
    expect(read.rows).toBe(1978);
    const kept = read.messages;
    expect(seen).toEqual(Array.from({ length: read.rows }, (_, i) => Buffer.from(kept.data[i]!.subarray(kept.starts[i]!, kept.ends[i]!)).toString('hex')));
    // The next chunk (with the first one's bytes per row as hint) and a read by key build the same way.
    seen.length = 0;
    const rest = await readChunk(conn, t, read.lastKey, undefined, { rows: 5000, bytes: 1 << 30 }, { valueBytesPerRow: read.bytes / read.rows }, builder);
    expect([rest.rows, seen.length, rest.complete]).toEqual([1022, 1022, true]);
  });

  test('a builder that throws fails the read once it is over; the transaction ends, the session goes on', async () => {
    const t = await table('buildfail', 'id int PRIMARY KEY', 'INSERT INTO $T SELECT generate_series(1, 2500)');
    let rows = 0;
    const boom = new Error('cannot build row 1200');
    const builder: ChunkRowBuilder = {
      start() {},
      row() {
        if (++rows === 1200) throw boom;
      },
    };
    expect(await readChunk(conn, t, undefined, undefined, { rows: 5000, bytes: 1 << 20 }, undefined, builder).catch((e: unknown) => e)).toBe(boom);
    // No row after the failure was handed over, and nothing is left open on the connection.
    expect(rows).toBe(1200);
    expect((await conn.simpleQuery('SELECT 1'))[0]!.rows).toEqual([['1']]);
    expect((await conn.simpleQuery('SHOW transaction_isolation'))[0]!.rows).toEqual([['read committed']]);
    expect((await readRows(conn, t, ['2497'], undefined, { rows: 10, bytes: 1 << 20 })).rows).toEqual([['2498'], ['2499'], ['2500']]);
  });
});
