/**
 * The snapshot engine through the real PostgresSource and pipeline: an initial snapshot that
 * runs while rows change, on a busy and on an idle server, backfills with a condition, progress
 * persisted per chunk. A consumer applying the events in order must end with the table's contents.
 */
import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { encodePassthrough } from '../../../src/event/passthrough.ts';
import { createMemoryStateStore } from '../../../src/state/sqlite-store.ts';
import type { PostgresSource } from '../../../src/sources/postgres/source.ts';
import { uniqueName } from '../../helpers/pg.ts';
import { useSourceTests, waitFor } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

type Row = Record<string, unknown>;

/** Applies events in order as upserts and deletes by row key; unchanged TOAST columns keep their value. */
function apply(events: readonly ChangeEvent[], table: string): Map<number, Row> {
  const rows = new Map<number, Row>();
  for (const e of events) {
    if (e.table !== table) continue;
    const id = Number(e.columns.id ?? e.old?.id);
    if (e.action === 'delete') rows.delete(id);
    else if (e.action === 'insert' || e.action === 'update') {
      const oldId = e.old?.id;
      if (oldId !== undefined && Number(oldId) !== id) rows.delete(Number(oldId));
      rows.set(id, { ...(rows.get(id) ?? {}), ...e.columns });
    } else if (e.action === 'truncate') rows.clear();
  }
  return rows;
}

async function tableRows(table: string): Promise<Map<number, Row>> {
  const rows = await db.sql.unsafe(`SELECT id, v, s FROM ${table} ORDER BY id`);
  return new Map(rows.map((r) => [Number(r.id), { id: Number(r.id), v: r.v === null ? null : Number(r.v), s: r.s }]));
}

function sourceOf(h: { source: unknown }): PostgresSource {
  return h.source as PostgresSource;
}

describe('snapshots', () => {
  test('initial: every row copied while the table changes; the applied result equals the table', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v int, s text)`);
    await db.sql.unsafe(`INSERT INTO ${t} SELECT g, g, 'row ' || g FROM generate_series(1, 20000) g`);
    const { slot, publication } = await db.prepare([t], { createSlot: false });
    const store = createMemoryStateStore();
    const h = await db.start({ slot, publication, store, source: { snapshot: 'initial', snapshotChunkSize: 700 } });
    await h.streaming();
    let writes = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        const n = 1 + Math.floor(Math.random() * 20000);
        await db.sql.unsafe(`UPDATE ${t} SET v = v + 1, s = 'changed ' || ${writes} WHERE id = ${n}`);
        await db.sql.unsafe(`DELETE FROM ${t} WHERE id = ${(n * 7) % 20000 + 1}`);
        await db.sql.unsafe(`INSERT INTO ${t} VALUES (${20000 + writes + 1}, -1, 'new') ON CONFLICT (id) DO NOTHING`);
        writes++;
      }
    })();
    const source = sourceOf(h);
    await waitFor('initial snapshot done', () => source.snapshots.get('initial')?.state === 'done', 60_000);
    stop = true;
    await writer;
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (0, 0, 'marker')`);
    await h.sink.until('marker', () => h.sink.events.some((e) => e.table === t && e.columns.id === 0));
    expect(writes).toBeGreaterThan(10);
    const info = source.snapshots.get('initial')!;
    expect(info.tables).toHaveLength(1);
    expect(info.tables[0]!.chunks).toBeGreaterThanOrEqual(Math.floor(20000 / 700));
    const snapshotEvents = h.sink.of(t).filter((e) => e.snapshot === true);
    expect(snapshotEvents.length).toBeGreaterThan(15000);
    for (const e of snapshotEvents.slice(0, 50)) {
      expect(e.action).toBe('insert');
      expect(e.xid).toBeUndefined();
      expect(e.commitLsn).toBeUndefined();
      const json = new TextDecoder().decode(e.encoded ?? new TextEncoder().encode(encodePassthrough(e)));
      expect(json.endsWith(',"Snapshot":true}')).toBe(true);
    }
    const applied = apply(h.sink.events, t);
    const expected = await tableRows(t);
    expect(applied.size).toBe(expected.size);
    for (const [id, row] of expected) expect({ id, ...(applied.get(id) ?? {}) }).toEqual({ id, ...row });
    // The progress record says done, with the rows counted.
    const stored = JSON.parse(store.getSnapshots(h.source.name)[0]!.body);
    expect(stored.state).toBe('done');
  }, 120_000);

  test('an idle server: chunks still reach their place in the stream (the server is asked where it is)', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v int, s text)`);
    await db.sql.unsafe(`INSERT INTO ${t} SELECT g, g, 'x' FROM generate_series(1, 3000) g`);
    const { slot, publication } = await db.prepare([t], { createSlot: false });
    const h = await db.start({ slot, publication, source: { snapshot: 'initial', snapshotChunkSize: 1000 } });
    await h.streaming();
    const source = sourceOf(h);
    const started = performance.now();
    await waitFor('initial snapshot done', () => source.snapshots.get('initial')?.state === 'done', 30_000);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(h.sink.of(t).filter((e) => e.snapshot).length).toBe(3000);
  });

  test('a backfill with a condition copies only the matching rows; never mode copies nothing at start', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v int, s text)`);
    await db.sql.unsafe(`INSERT INTO ${t} SELECT g, g % 10, 'x' FROM generate_series(1, 2000) g`);
    const { slot, publication } = await db.prepare([t], { createSlot: false });
    const h = await db.start({ slot, publication, source: { snapshotChunkSize: 300 } });
    await h.streaming();
    const source = sourceOf(h);
    expect(source.snapshots.list()).toEqual([]);
    const info = await source.snapshots.start({ tables: [t], where: 'v = 3' });
    expect(info.state).toBe('pending');
    await waitFor('backfill done', () => source.snapshots.get(info.id)?.state === 'done', 30_000);
    const copied = h.sink.of(t).filter((e) => e.snapshot);
    expect(copied.length).toBe(200);
    expect(copied.every((e) => e.columns.v === 3)).toBe(true);
    expect(source.snapshots.get(info.id)!.rowsDone).toBe(200);
  });

  test('throttled: while the stream is behind by more than snapshotMaxLag the copy waits, and /status says why', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v int, s text)`);
    await db.sql.unsafe(`INSERT INTO ${t} SELECT g, g, 'x' FROM generate_series(1, 6000) g`);
    const { slot, publication } = await db.prepare([t], { createSlot: false });
    const h = await db.start({ slot, publication, source: { snapshot: 'initial', snapshotChunkSize: 50, snapshotMaxLag: 1 } });
    await h.streaming();
    const source = sourceOf(h);
    await waitFor('the copy started', () => (source.snapshots.get('initial')?.rowsDone ?? 0) > 0, 30_000);
    // A stuck sink: live changes arrive but are not delivered, so the stream falls behind.
    const unblock = h.sink.block();
    await db.sql.unsafe(`UPDATE ${t} SET v = v + 1 WHERE id <= 50`);
    await waitFor('the copy waits for the stream', () => source.statusDetails().includes('snapshot paused: the stream is'), 30_000);
    const held = source.snapshots.get('initial')!.rowsDone;
    await Bun.sleep(500);
    expect(source.snapshots.get('initial')!.rowsDone).toBe(held);
    expect(source.snapshots.get('initial')!.state).toBe('running');
    unblock();
    await waitFor('initial snapshot done', () => source.snapshots.get('initial')?.state === 'done', 30_000);
    expect(source.statusDetails()).not.toContain('snapshot paused');
    const applied = apply(h.sink.events, t);
    expect(applied.size).toBe(6000);
  });
});
