import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../../../../src/event/event.ts';
import type { ChunkMark } from '../../../../../src/sources/postgres/snapshot/mark.ts';
import { parsePgSnapshot } from '../../../../../src/sources/postgres/snapshot/pg-snapshot.ts';
import { StreamJoin } from '../../../../../src/sources/postgres/snapshot/stream-join.ts';

const row = (id: number, extra: Partial<ChangeEvent> = {}): ChangeEvent =>
  ({ schema: 'public', table: 't', action: 'insert', key: ['id'], columns: { id }, uuid: `c${id}`, ...extra }) as ChangeEvent;
const snapshot = parsePgSnapshot('100:100:');

function join() {
  const emitted: { ids: string[]; mark: ChunkMark }[] = [];
  const j = new StreamJoin((events, mark) => emitted.push({ ids: events.map((e) => e.uuid), mark }));
  return { j, emitted };
}

describe('StreamJoin', () => {
  test('emits at the first commit, Begin or keepalive at or past the target, in opening order', () => {
    const { j, emitted } = join();
    const a = j.open('public', 't', undefined);
    const b = j.open('public', 't', undefined);
    expect(j.active).toBe(true);
    a.window.fill(snapshot, 500n, [row(1), row(2)]);
    b.window.fill(snapshot, 400n, [row(3)]);
    j.committed(90, 450n);
    expect(emitted).toEqual([]);
    j.idle(499n);
    expect(emitted).toEqual([]);
    j.begin(101, 500n);
    expect(emitted.map((e) => e.ids)).toEqual([['c1', 'c2'], ['c3']]);
    expect(emitted[0]!.mark).toBe(a.mark);
    expect(j.active).toBe(false);
  });

  test('a window still reading holds back the later ones', () => {
    const { j, emitted } = join();
    const a = j.open('public', 't', undefined);
    const b = j.open('public', 't', undefined);
    b.window.fill(snapshot, 10n, [row(3)]);
    j.idle(1000n);
    expect(emitted).toEqual([]);
    a.window.fill(snapshot, 20n, [row(1)]);
    j.idle(1000n);
    expect(emitted.map((e) => e.ids)).toEqual([['c1'], ['c3']]);
  });

  test('changes of the table by unseen transactions drop rows; a key change drops the old key too; other tables do not', () => {
    const { j, emitted } = join();
    const w = j.open('public', 't', undefined);
    j.begin(150, 100n);
    j.row(row(1, { action: 'update', columns: { id: 9 }, old: { id: 2 } }));
    j.row(row(3, { table: 'other' }));
    j.committed(150, 120n);
    w.window.fill(snapshot, 200n, [row(1), row(2), row(3), row(9)]);
    j.idle(200n);
    expect(emitted[0]!.ids).toEqual(['c1', 'c3']);
    expect(w.window.dropped).toBe(2);
  });

  test('the transaction running when a window opens must be visible in the chunk\'s snapshot, else the chunk is read again; the session ending closes every window', async () => {
    const { j, emitted } = join();
    // Its changes before the window opened were not noted: unseen by the snapshot (here at or past
    // its xmax: the newest transaction, committed but not yet shown as such) means a race.
    const w = j.open('public', 't', 150);
    j.row(row(5));
    expect(w.window.fill(snapshot, 10n, [row(5), row(6)])).toBe('race');
    const inXip = j.open('public', 't', 150);
    expect(inXip.window.fill(parsePgSnapshot('140:160:150'), 10n, [row(5)])).toBe('race');
    // Seen by the snapshot: its changes are older than the chunk's rows, which all go out.
    const seen = j.open('public', 't', 150);
    j.row(row(5));
    expect(seen.window.fill(parsePgSnapshot('151:151:'), 10n, [row(5), row(6)])).toBe('filled');
    w.window.close();
    inXip.window.close();
    await w.window.ended;
    await inXip.window.ended;
    j.committed(150, 20n);
    expect(emitted.map((e) => e.ids)).toEqual([['c5', 'c6']]);
    const x = j.open('public', 't', undefined);
    j.end();
    expect(await x.window.ended).toBe(false);
    expect(j.active).toBe(false);
  });
});

describe('StreamJoin watches', () => {
  const move = (extra: Partial<ChangeEvent> = {}) => row(9, { action: 'update', columns: { id: 9 }, old: { id: 2 }, unchanged: ['doc'], ...extra });

  test('key moves that left Unchanged values reach every watcher of the table until it unwatches', () => {
    const { j } = join();
    const a: number[] = [];
    const b: number[] = [];
    const stopA = j.watch('public', 't', (e) => a.push(Number(e.columns.id)));
    j.watch('public', 't', (e) => b.push(Number(e.columns.id)));
    expect(j.busy).toBe(true);
    j.row(move());
    j.row(move({ unchanged: undefined }));
    j.row(move({ old: undefined }));
    j.row(move({ old: { id: 9 } }));
    j.row(move({ table: 'other' }));
    stopA();
    j.row(move());
    expect(a).toEqual([9]);
    expect(b).toEqual([9, 9]);
  });

  test('busy only while a window is open or a table watched', () => {
    const { j } = join();
    expect(j.busy).toBe(false);
    const stop = j.watch('public', 't', () => {});
    const w = j.open('public', 't', undefined);
    stop();
    expect(j.busy).toBe(true);
    w.window.close();
    j.end();
    expect(j.busy).toBe(false);
  });
});
