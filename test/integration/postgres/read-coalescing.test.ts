/**
 * readCoalesce against the real server: while the replication stream comes fast (src/pg/read-pacing.ts,
 * above ≈ 8 MB/s) the source waits after each read before reading again, so what arrives meanwhile
 * is read at once; a slower stream is read as it comes. The wait must mix with back-pressure (the
 * source pausing and resuming the socket) without losing or reordering anything. When the wait
 * starts is read-pacing.ts's decision, unit-tested on its own (test/unit/pg/read-pacing.test.ts):
 * a test cannot make the walsender send at a given rate.
 */
import { describe, expect, test } from 'bun:test';
import { uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

/** Long enough that "read at once" and "read after the wait" cannot be confused on a busy machine. */
const HOLD_MS = 1_000;

describe('read coalescing', () => {
  test('a slow stream is read at once: no change waits for the interval', async () => {
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

    // Rows committed 150 ms apart, a few hundred bytes a second: each is read when it arrives,
    // none held for the HOLD_MS a fast stream would wait between reads.
    const committedAt: number[] = [];
    for (const id of [1, 2, 3, 4]) {
      if (id > 1) await Bun.sleep(150);
      await db.sql.unsafe(`INSERT INTO ${t} VALUES (${id})`);
      committedAt.push(performance.now());
      await h.sink.untilCount(id, 3 * HOLD_MS);
    }
    const pushed = [1, 2, 3, 4].map((id) => pushedAt.get(id)!);
    for (let i = 0; i < 4; i++) expect(pushed[i]! - committedAt[i]!).toBeLessThan(HOLD_MS / 2);
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
