/**
 * Generated columns through the source. pgoutput leaves generated columns out of Relation messages
 * and rows on every version by default; PostgreSQL 18 publishes STORED ones when the publication
 * says `publish_generated_columns = stored` (VIRTUAL ones, new in 18, never). What we emit follows
 * the server: the columns it sends, converted like any other (docs/testing.md, version matrix).
 */
import { describe, expect, test } from 'bun:test';
import { testSince, uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

describe('generated columns', () => {
  test('by default a STORED generated column is not in the events', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, n int, doubled int GENERATED ALWAYS AS (n * 2) STORED)`);
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication });
    await h.streaming();

    await db.sql.unsafe(`INSERT INTO ${t} (id, n) VALUES (1, 5)`);
    await db.sql.unsafe(`UPDATE ${t} SET n = 6 WHERE id = 1`);
    await h.sink.untilCount(2);
    const [insert, update] = h.sink.of(t);
    expect({ ...insert!.columns }).toEqual({ id: 1, n: 5 });
    expect({ ...update!.columns }).toEqual({ id: 1, n: 6 });
  });

  testSince(18, 'publish_generated_columns')('publish_generated_columns = stored: the STORED column arrives, a VIRTUAL one does not', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, n int,
      doubled int GENERATED ALWAYS AS (n * 2) STORED, tripled int GENERATED ALWAYS AS (n * 3) VIRTUAL)`);
    const { slot, publication } = await db.prepare([t]);
    await db.sql.unsafe(`ALTER PUBLICATION ${publication} SET (publish_generated_columns = stored)`);
    const h = await db.start({ slot, publication });
    await h.streaming();

    await db.sql.unsafe(`INSERT INTO ${t} (id, n) VALUES (1, 5)`);
    await db.sql.unsafe(`UPDATE ${t} SET n = 6 WHERE id = 1`);
    await db.sql.unsafe(`DELETE FROM ${t} WHERE id = 1`);
    await h.sink.untilCount(3);
    const [insert, update, remove] = h.sink.of(t);
    expect({ ...insert!.columns }).toEqual({ id: 1, n: 5, doubled: 10 });
    expect({ ...update!.columns }).toEqual({ id: 1, n: 6, doubled: 12 });
    expect(remove!.action).toBe('delete');
    expect({ ...remove!.columns }).toEqual({ id: 1, n: null, doubled: null });
  });
});
