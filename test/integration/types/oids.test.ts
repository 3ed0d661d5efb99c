/**
 * The generated OID table agrees with the running server's catalog (whatever its version): every
 * built-in type the server has under one of our OIDs has the same name, kind and array element.
 * `bun scripts/gen-oids.ts --check` is the strict form, for the version the table was made from.
 */
import { expect, test } from 'bun:test';
import { BUILTIN_TYPES } from '../../../src/pgtypes/oids.ts';
import { usePostgres } from '../../helpers/pg.ts';

const pg = usePostgres();

test('src/pgtypes/oids.ts matches pg_type of the test server', async () => {
  const sql = pg.sql({ max: 1 });
  const rows = await sql<{ oid: number; typname: string; typtype: string; elem: number; typdelim: string }[]>`
    SELECT t.oid::int AS oid, t.typname, t.typtype, t.typdelim,
           CASE WHEN e.typarray = t.oid THEN t.typelem::int ELSE 0 END AS elem
      FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem
     WHERE t.oid < 10000`;
  const server = new Map(rows.map((row) => [row.oid, row]));
  let compared = 0;
  for (const [oid, name, typtype, , elem, delimiter] of BUILTIN_TYPES) {
    const row = server.get(oid);
    if (row === undefined) continue; // a type newer than the server
    expect({ oid, name: row.typname, typtype: row.typtype, elem: row.elem, delimiter: row.typdelim }).toEqual({ oid, name, typtype, elem, delimiter });
    compared++;
  }
  expect(compared).toBeGreaterThan(150);
});
