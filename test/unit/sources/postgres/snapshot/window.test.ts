import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../../../../src/event/event.ts';
import { parsePgSnapshot, visibleIn } from '../../../../../src/sources/postgres/snapshot/pg-snapshot.ts';
import { ChunkWindow as Window } from '../../../../../src/sources/postgres/snapshot/window.ts';

const rows = (...ids: number[]) => ids.map((id) => ({ uuid: String(id) }) as ChangeEvent);
const keyOf = (event: ChangeEvent) => `["public.t",${event.uuid}]`;
class ChunkWindow extends Window {
  /** `recent`: the transactions delivered before it opened. */
  constructor(schema: string, table: string, recent: number[]) {
    super(schema, table, (snapshot) => recent.some((xid) => !visibleIn(snapshot, xid)), keyOf);
  }
}
const ids = (events: ChangeEvent[]) => events.map((e) => Number(e.uuid));
const key = (id: number) => `["public.t",${id}]`;
// xids 100..: 100 ended, 101 running, 102 ended, 103+ not started.
const snapshot = parsePgSnapshot('101:103:101');

describe('ChunkWindow', () => {
  test('changes by transactions the snapshot did not see drop their keys; seen ones do not', () => {
    const w = new ChunkWindow('public', 't', []);
    w.begin(100);
    w.change([key(1)]);
    w.begin(101);
    w.change([key(2)]);
    w.begin(104);
    w.change([key(3)]);
    expect(w.fill(snapshot, 5000n, rows(1, 2, 3, 4))).toBe('filled');
    w.begin(102);
    w.change([key(4)]);
    w.begin(105);
    w.change([key(1), key(99)]);
    expect(w.due(4999n)).toBe(false);
    expect(w.due(5000n)).toBe(true);
    expect(ids(w.take())).toEqual([4]);
    expect(w.dropped).toBe(3);
  });

  test('a transaction already running when the chunk was filled is judged by the snapshot', () => {
    const w = new ChunkWindow('public', 't', []);
    w.begin(103);
    w.change([key(1)]);
    w.fill(snapshot, 10n, rows(1, 2, 3));
    w.change([key(2)]);
    w.begin(100);
    w.change([key(3)]);
    expect(ids(w.take())).toEqual([3]);
  });

  test('truncate by an unseen transaction drops everything; by a seen one nothing', () => {
    const seen = new ChunkWindow('public', 't', []);
    seen.begin(100);
    seen.truncate();
    seen.fill(snapshot, 1n, rows(1, 2));
    expect(ids(seen.take())).toEqual([1, 2]);
    const unseen = new ChunkWindow('public', 't', []);
    unseen.fill(snapshot, 1n, rows(1, 2));
    unseen.begin(110);
    unseen.truncate();
    expect(unseen.take()).toEqual([]);
    expect(unseen.dropped).toBe(2);
  });

  test('race: a transaction delivered before the window opened is still running in the snapshot', () => {
    const w = new ChunkWindow('public', 't', [99, 101]);
    expect(w.fill(snapshot, 1n, rows(1))).toBe('race');
    const fine = new ChunkWindow('public', 't', [99, 100, 102]);
    expect(fine.fill(snapshot, 1n, rows(1))).toBe('filled');
  });

  test('not due before it is filled; rows keep key order; closed windows end with false', async () => {
    const w = new ChunkWindow('public', 't', []);
    expect(w.due(1n << 60n)).toBe(false);
    w.fill(snapshot, 7n, rows(5, 1, 3));
    expect(ids(w.take())).toEqual([5, 1, 3]);
    expect(await w.ended).toBe(true);
    const closed = new ChunkWindow('public', 't', []);
    closed.close();
    expect(closed.open).toBe(false);
    expect(closed.fill(snapshot, 1n, rows(1))).toBe('filled');
    expect(closed.due(10n)).toBe(false);
    expect(await closed.ended).toBe(false);
  });

  test('an update listing Unchanged TOAST values merges into the chunk row (before or after the fill); a later full change or delete still drops it', () => {
    const row = (id: number, columns: Record<string, unknown>) => ({ uuid: String(id), source: 's', host: 'h', database: 'd', schema: 'public', table: 't', action: 'insert', lsn: 7n, timestamp: 'ts', key: ['id'], columns, snapshot: true }) as unknown as ChangeEvent;
    const update = (columns: Record<string, unknown>) => ({ action: 'update', columns, unchanged: ['blob'] }) as unknown as ChangeEvent;
    const w = new ChunkWindow('public', 't', []);
    w.begin(104); // not seen by the snapshot
    w.change([key(1)], update({ id: 1, txt: 'new' }));
    w.fill(snapshot, 10n, [row(1, { id: 1, txt: 'old', blob: 'big' }), row(2, { id: 2, txt: 'b', blob: 'x' }), row(3, { id: 3, txt: 'c', blob: 'y' })]);
    w.begin(105);
    w.change([key(1)], update({ id: 1, txt: 'newer' }));
    w.change([key(2)], update({ id: 2, txt: 'b2' }));
    w.change([key(2)]); // then a full change (or a delete): the stream's event stands
    w.begin(100); // seen by the snapshot: already in the row
    w.change([key(3)], update({ id: 3, txt: 'c0' }));
    const taken = w.take();
    expect(taken.map((e) => e.columns)).toEqual([{ id: 1, txt: 'newer', blob: 'big' }, { id: 3, txt: 'c', blob: 'y' }]);
    expect(taken[0]).toMatchObject({ action: 'insert', snapshot: true, lsn: 7n, table: 't', key: ['id'] });
    expect(taken[0]?.encoded).toBeUndefined();
    expect(w.dropped).toBe(1);
  });
});

describe('ChunkWindow under bulk changes', () => {
  test('more superseded keys than rows: rows are matched by their keys, memory bounded by the chunk', () => {
    const w = new ChunkWindow('public', 't', []);
    w.fill(snapshot, 1n, rows(1, 2, 3));
    w.begin(200);
    for (let i = 100; i < 20_100; i++) w.change([key(i)]);
    w.change([key(2)]);
    expect(ids(w.take())).toEqual([1, 3]);
    expect(w.dropped).toBe(1);
  });

  test('in that mode an update with Unchanged values still merges into its row, a full change still drops it', () => {
    const w = new ChunkWindow('public', 't', []);
    w.fill(snapshot, 1n, rows(1, 2, 3));
    w.begin(200);
    for (let i = 100; i < 20_100; i++) w.change([key(i)]);
    const patch = { action: 'update', columns: { n: 5 }, unchanged: ['doc'] } as unknown as ChangeEvent;
    w.change([key(1)], patch);
    w.change([key(3)]);
    const out = w.take();
    expect(ids(out)).toEqual([1, 2]);
    expect(out[0]!.columns).toEqual({ n: 5 });
    expect(out[0]!.snapshot).toBe(true);
  });

  test('a bulk change while the chunk is read: the chunk is read again later', () => {
    const w = new ChunkWindow('public', 't', []);
    w.begin(200);
    for (let i = 0; i < 100_001; i++) w.change([key(i)]);
    expect(w.fill(snapshot, 1n, rows(1))).toBe('overflow');
  });
});
