/**
 * Schema changes while streaming: ALTER TABLE ADD/DROP COLUMN and ALTER TYPE (new Relation
 * messages replace the cached ones), and user-defined types (enum, domain over int, composite)
 * added mid-stream, learnt through the catalog lookup.
 */
import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

const columnsOf = (e: ChangeEvent) => ({ ...e.columns });

describe('schema changes mid-stream', () => {
  test('ADD COLUMN, DROP COLUMN and ALTER COLUMN TYPE: later events have the new columns and types', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, a text, n int)`);
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication });
    await h.streaming();

    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'x', 1)`);
    await db.sql.unsafe(`ALTER TABLE ${t} ADD COLUMN added jsonb DEFAULT '{"k": [1]}'`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (2, 'y', 2)`);
    // The old row now reads with the added column's default.
    await db.sql.unsafe(`UPDATE ${t} SET n = 10 WHERE id = 1`);
    await db.sql.unsafe(`ALTER TABLE ${t} DROP COLUMN a`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (3, 3)`);
    await db.sql.unsafe(`ALTER TABLE ${t} ALTER COLUMN n TYPE numeric(10, 2)`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (4, 4.5)`);
    await db.sql.unsafe(`ALTER TABLE ${t} ALTER COLUMN n TYPE text`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (5, 'five')`);
    await h.sink.untilCount(6);

    const events = h.sink.of(t);
    expect(events.map((e) => e.action)).toEqual(['insert', 'insert', 'update', 'insert', 'insert', 'insert']);
    // Keys sorted: rows are built in column-name order, as the JSON encoding writes them.
    const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
    const json = (e: ChangeEvent) => JSON.stringify(sorted(e.columns), (_k, v) => (v && typeof v === 'object' && 'json' in v ? `raw:${v.json}` : v));
    expect(columnsOf(events[0]!)).toEqual({ id: 1, a: 'x', n: 1 });
    expect(json(events[1]!)).toBe(JSON.stringify(sorted({ id: 2, a: 'y', n: 2, added: 'raw:{"k": [1]}' })));
    expect(json(events[2]!)).toBe(JSON.stringify(sorted({ id: 1, a: 'x', n: 10, added: 'raw:{"k": [1]}' })));
    expect(json(events[3]!)).toBe(JSON.stringify(sorted({ id: 3, n: 3, added: 'raw:{"k": [1]}' })));
    // numeric keeps its exact text; after ALTER TYPE text the value is a string.
    expect(events[4]!.columns.n).toBe('4.50');
    expect(events[5]!.columns.n).toBe('five');
  });

  test('an enum, a domain over int and a composite column added mid-stream are learnt from the catalog', async () => {
    const t = uniqueName('t');
    const mood = uniqueName('mood');
    const posint = uniqueName('posint');
    const pair = uniqueName('pair');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication });
    await h.streaming();

    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1)`);
    await h.sink.untilCount(1);
    // The types exist only after streaming started, so the source cannot have known them before.
    await db.sql.unsafe(`
      CREATE TYPE ${mood} AS ENUM ('sad', 'happy');
      CREATE DOMAIN ${posint} AS int CHECK (VALUE > 0);
      CREATE TYPE ${pair} AS (a int, b text);
      ALTER TABLE ${t} ADD COLUMN m ${mood}, ADD COLUMN d ${posint}, ADD COLUMN p ${pair},
        ADD COLUMN ms ${mood}[], ADD COLUMN ds ${posint}[]`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (2, 'happy', 42, ROW(7, 'x y'), '{sad,happy}', '{1,2}')`);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (3, NULL, NULL, NULL, NULL, NULL)`);
    await h.sink.untilCount(3);

    const [, two, three] = h.sink.of(t);
    expect(columnsOf(two!)).toEqual({ id: 2, m: 'happy', d: 42, p: '(7,"x y")', ms: ['sad', 'happy'], ds: [1, 2] });
    expect(typeof two!.columns.d).toBe('number');
    expect(columnsOf(three!)).toEqual({ id: 3, m: null, d: null, p: null, ms: null, ds: null });
  });
});
