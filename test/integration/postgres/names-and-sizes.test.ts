/**
 * Names and sizes that break naive clients: quoted mixed-case schema, table, column and
 * publication names; several publications as a comma list; a 20 MB value in one row; a table with
 * many columns.
 */
import { describe, expect, test } from 'bun:test';
import { uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

describe('names and sizes', () => {
  test('quoted mixed-case schema, table, column and publication names', async () => {
    const suffix = uniqueName('x');
    const schema = `My Schema ${suffix}`;
    const table = `Weird "Table" ${suffix}`;
    // (No comma: the config's publication is a comma list.)
    const publication = `Pub "Quoted" ${suffix}`;
    const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
    await db.sql.unsafe(`
      CREATE SCHEMA ${q(schema)};
      CREATE TABLE ${q(schema)}.${q(table)} ("Id" int PRIMARY KEY, "Mixed Case" text, "ünïcödé" text);
      CREATE PUBLICATION ${q(publication)} FOR TABLE ${q(schema)}.${q(table)}`);
    const slot = uniqueName('slot');
    await db.sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
    const h = await db.start({ slot, publication });
    await h.streaming();
    await db.sql.unsafe(`INSERT INTO ${q(schema)}.${q(table)} VALUES (1, 'a', 'b')`);
    await h.sink.untilCount(1);
    const [e] = h.sink.events;
    expect(e!.schema).toBe(schema);
    expect(e!.table).toBe(table);
    expect({ ...e!.columns }).toEqual({ Id: 1, 'Mixed Case': 'a', 'ünïcödé': 'b' });
    expect(e!.key).toEqual(['Id']);
  });

  test('several publications as a comma list stream the tables of each', async () => {
    const a = uniqueName('a');
    const b = uniqueName('b');
    await db.sql.unsafe(`CREATE TABLE ${a} (id int PRIMARY KEY); CREATE TABLE ${b} (id int PRIMARY KEY)`);
    const { slot, publication: pubA } = await db.prepare([a]);
    const pubB = uniqueName('pub');
    await db.sql.unsafe(`CREATE PUBLICATION ${pubB} FOR TABLE ${b}`);
    const h = await db.start({ slot, publication: `${pubA}, ${pubB}` });
    await h.streaming();
    await db.sql.unsafe(`INSERT INTO ${a} VALUES (1); INSERT INTO ${b} VALUES (2)`);
    await h.sink.untilCount(2);
    expect(h.sink.events.map((e) => `${e.table}:${e.columns.id}`)).toEqual([`${a}:1`, `${b}:2`]);
  });

  test('a 20 MB value and a 1000-column row arrive whole', async () => {
    const big = uniqueName('big');
    const wide = uniqueName('wide');
    const columns = Array.from({ length: 1000 }, (_, i) => `c${i} int`).join(', ');
    await db.sql.unsafe(`CREATE TABLE ${big} (id int PRIMARY KEY, v text); CREATE TABLE ${wide} (id int PRIMARY KEY, ${columns})`);
    const { slot, publication } = await db.prepare([big, wide]);
    const h = await db.start({ slot, publication });
    await h.streaming();
    const size = 20 * 2 ** 20;
    await db.sql.unsafe(`INSERT INTO ${big} VALUES (1, repeat('0123456789abcdef', ${size / 16}) || 'END')`);
    await db.sql.unsafe(`INSERT INTO ${wide} VALUES (1, ${Array.from({ length: 1000 }, (_, i) => i).join(', ')})`);
    await h.sink.untilCount(2, 30_000);
    const value = h.sink.of(big)[0]!.columns.v as string;
    expect(value.length).toBe(size + 3);
    expect(value.endsWith('ef0123456789abcdefEND')).toBe(true);
    const row = h.sink.of(wide)[0]!.columns;
    expect(Object.keys(row).length).toBe(1001);
    expect(row.c0).toBe(0);
    expect(row.c999).toBe(999);
  });
});
