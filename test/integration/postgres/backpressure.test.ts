/**
 * Back-pressure against the real server: while the only sink blocks, a 50,000-row transaction must
 * not pile up in the streamer. The source pauses its socket when the pipeline is full, so the
 * events held stay within maxBufferedEvents (plus the frame being decoded) and RSS stays flat;
 * once the sink is released every row arrives, in order.
 */
import { describe, expect, test } from 'bun:test';
import { uniqueName } from '../../helpers/pg.ts';
import { dsnFor, useSourceTests, waitFor } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

const ROWS = 50_000;
const MAX_BUFFERED = 1_000;
/**
 * How far past maxBufferedEvents the held events may go. push() returning false pauses the socket
 * and the read loop stops before the next frame, so at most the event of the frame being handled
 * is added after the bound is reached: measured 0 (the bound is reached exactly and not passed).
 */
const SLACK = 1;
/** RSS growth allowed while blocked: the held events are ~1,000 × ~1 kB; all 50k would be ≥ 50 MB. */
const RSS_GROWTH_LIMIT = 40 * 2 ** 20;

describe('back-pressure', () => {
  test(`a blocked sink and a ${ROWS}-row transaction: at most maxBufferedEvents held, RSS bounded, then all rows in order`, async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, payload text)`);
    const { slot, publication } = await db.prepare([t]);
    let pushed = 0;
    let maxHeld = 0;
    let maxRss = 0;
    const h = await db.start({
      slot,
      publication,
      pipeline: { batchSize: 100, maxBufferedEvents: MAX_BUFFERED },
      wrapOutput: (pipeline) => ({
        push(item) {
          if (item.event) {
            pushed++;
            const held = pushed - h.sink.events.length;
            if (held > maxHeld) maxHeld = held;
            if (pushed % 500 === 0) maxRss = Math.max(maxRss, process.memoryUsage.rss());
          }
          return pipeline.push(item);
        },
        drained: () => pipeline.drained(),
      }),
    });
    await h.streaming();
    Bun.gc(true);
    const rssBefore = process.memoryUsage.rss();
    const release = h.sink.block();

    await db.sql.unsafe(`INSERT INTO ${t} SELECT i, repeat(md5(i::text), 16) FROM generate_series(1, ${ROWS}) i`);
    await waitFor('the bound reached while the sink is blocked', () => pushed >= MAX_BUFFERED, 30_000, () => `pushed ${pushed}`);
    // Give a source that ignored back-pressure time to read on: the whole transaction takes well
    // under a second to stream. A correct source stays paused, so this wait cannot make it fail.
    await Bun.sleep(1_000);
    const heldWhileBlocked = pushed;
    const rssBlocked = Math.max(maxRss, process.memoryUsage.rss());
    expect(heldWhileBlocked).toBeGreaterThanOrEqual(MAX_BUFFERED);
    expect(heldWhileBlocked).toBeLessThanOrEqual(MAX_BUFFERED + SLACK);
    expect(rssBlocked - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT);

    release();
    await h.sink.untilCount(ROWS, 60_000);
    const ids = h.sink.of(t).map((e) => e.columns.id);
    expect(ids.length).toBe(ROWS);
    expect(ids.every((id, i) => id === i + 1)).toBe(true);
    expect(maxHeld).toBeLessThanOrEqual(MAX_BUFFERED + SLACK);
    console.log(`back-pressure: held while blocked ${heldWhileBlocked}, max held ${maxHeld}, RSS +${((rssBlocked - rssBefore) / 2 ** 20).toFixed(1)} MiB while blocked`);
  }, 120_000);

  test('a sink blocked for several times wal_sender_timeout: the paused stream stays connected (status updates keep it alive)', async () => {
    const t = uniqueName('t');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
    const { slot, publication } = await db.prepare([t]);
    // wal_sender_timeout is a per-connection setting: a DSN key that is not a connection keyword
    // is sent as a startup parameter.
    const h = await db.start({
      slot,
      publication,
      dsn: `${dsnFor(db.pg.server)} wal_sender_timeout=1000`,
      pipeline: { batchSize: 100, maxBufferedEvents: 500 },
    });
    await h.streaming();
    const [row] = await db.sql<{ pid: number }[]>`SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = ${slot}`;
    const release = h.sink.block();
    await db.sql.unsafe(`INSERT INTO ${t} SELECT i FROM generate_series(1, 20000) i`);
    await h.sink.until('the first blocked write', () => h.sink.pending > 0);
    // The scenario itself, not an assertion on time: paused for three walsender timeouts.
    await Bun.sleep(3_000);
    release();
    await h.sink.untilCount(20_000);
    expect(h.source.stats()).toMatch(/replicaErrors: 0/);
    const [after] = await db.sql<{ pid: number }[]>`SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = ${slot}`;
    expect(after!.pid).toBe(row!.pid);
    expect(h.sink.of(t).map((e) => e.columns.id)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
  });
});
