/**
 * readCoalesce against the real server: after each read of the replication stream the source waits
 * before reading again, so what arrives meanwhile is read at once. Changes committed during a wait
 * are read together, none later than the interval; the wait must mix with back-pressure (the source
 * pausing and resuming the socket) without losing or reordering anything. (That a change after a
 * quiet spell is read at once holds too, but the walsender's own keepalives make a quiet spell
 * impossible to arrange reliably.)
 */
import { describe, expect, test } from 'bun:test';
import { uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

/** Long enough that "read together" and "read one by one" cannot be confused on a busy machine. */
const HOLD_MS = 1_000;

describe('read coalescing', () => {
  test('changes committed while a read waits are read together when the wait ends, none later than the interval', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
    const { slot, publication } = await db.prepare([t]);
    const pushedAt = new Map<number, number>();
    const h = await db.start({
      slot,
      publication,
      source: { readCoalesce: HOLD_MS },
      wrapOutput: (pipeline) => ({
        push(item) {
          if (item.event) pushedAt.set(item.event.columns.id as number, performance.now());
          return pipeline.push(item);
        },
        drained: () => pipeline.drained(),
      }),
    });
    await h.streaming();

    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1)`);
    await h.sink.untilCount(1, 3 * HOLD_MS);
    // The read that brought row 1 started a wait of HOLD_MS: rows 2 to 4, committed 100 ms apart
    // within it, arrive meanwhile and are read together when it ends.
    const committedAt: number[] = [];
    for (const id of [2, 3, 4]) {
      if (id > 2) await Bun.sleep(100);
      await db.sql.unsafe(`INSERT INTO ${t} VALUES (${id})`);
      committedAt.push(performance.now());
    }
    await h.sink.untilCount(4, 3 * HOLD_MS);

    const pushed = [2, 3, 4].map((id) => pushedAt.get(id)!);
    expect(committedAt[2]! - committedAt[0]!).toBeGreaterThanOrEqual(200);
    expect(Math.max(...pushed) - Math.min(...pushed)).toBeLessThan(50);
    expect(pushed[0]! - committedAt[0]!).toBeLessThan(HOLD_MS + 1_000);
    expect(h.sink.of(t).map((e) => e.columns.id)).toEqual([1, 2, 3, 4]);
  }, 30_000);

  test('waits between reads mixed with back-pressure pauses: every row, in order', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, payload text)`);
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication, source: { readCoalesce: 20 }, pipeline: { batchSize: 50, maxBufferedEvents: 100 } });
    await h.streaming();
    // The sink is slow, so the pipeline fills and the source pauses and resumes the socket while
    // waits between reads are running.
    h.sink.delayMs = 2;
    const rows = 5_000;
    for (let from = 1; from <= rows; from += 1_000) {
      await db.sql.unsafe(`INSERT INTO ${t} SELECT i, md5(i::text) FROM generate_series(${from}, ${from + 999}) i`);
    }
    await h.sink.untilCount(rows, 60_000);
    expect(h.sink.of(t).map((e) => e.columns.id)).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
  }, 90_000);

  test('readCoalesce = 0 reads as soon as data arrives', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication, source: { readCoalesce: 0 } });
    await h.streaming();
    await db.sql.unsafe(`INSERT INTO ${t} SELECT i FROM generate_series(1, 1000) i`);
    await h.sink.untilCount(1_000);
    expect(h.sink.of(t).map((e) => e.columns.id)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
  });
});
