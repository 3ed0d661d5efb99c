/**
 * Reconnects against the real server: the walsender is terminated mid-stream (also while the source
 * is paused inside a large transaction) and the source comes back by itself with nothing lost; a
 * second instance on the same slot stands by and takes over when the first one is closed.
 */
import { describe, expect, test } from 'bun:test';
import { uniqueName } from '../../helpers/pg.ts';
import { slotPid, useSourceTests, waitFor } from '../../helpers/postgres-source.ts';

const db = useSourceTests();
const SLOW = 60_000;

async function table(): Promise<string> {
  const t = uniqueName('t');
  await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text)`);
  return t;
}

/** Terminates the walsender holding `slot`; returns its PID. */
async function terminateWalsender(slot: string): Promise<number> {
  let pid: number | null = null;
  await waitFor(`a walsender on ${slot}`, async () => (pid = await slotPid(db.sql, slot)) !== null);
  await db.sql`SELECT pg_terminate_backend(${pid})`;
  return pid!;
}

describe('reconnects', () => {
  test('pg_terminate_backend of the walsender mid-stream: unhealthy meanwhile, reconnects by itself, nothing lost', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t]);
    // A visible wait before reconnecting, so the unhealthy status can be observed.
    const h = await db.start({ slot, publication, source: { startRetryInterval: 1000 } });
    await h.streaming();
    const total = 200;
    let killedPid = 0;
    const writer = (async () => {
      for (let id = 1; id <= total; id++) {
        await db.sql.unsafe(`INSERT INTO ${t} VALUES (${id}, 'row ${id}')`);
        if (id === 50) killedPid = await terminateWalsender(slot);
      }
    })();
    await waitFor('the source to report the lost connection', () => h.source.status() !== null, 20_000);
    expect(h.source.status()).toMatch(/replication error|terminat/i);
    await writer;
    await h.streaming(20_000);
    await h.sink.until(`all ${total} rows`, () => new Set(h.sink.of(t).map((e) => e.columns.id)).size === total, 30_000);

    // Every committed row arrived; re-sent transactions are whole and come again in commit order.
    const ids = h.sink.of(t).map((e) => e.columns.id as number);
    expect(new Set(ids).size).toBe(total);
    const firstSeen = ids.filter((id, i) => ids.indexOf(id) === i);
    expect(firstSeen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(h.source.stats()).toMatch(/replicaErrors: [1-9]/);
    const newPid = await slotPid(db.sql, slot);
    expect(newPid).not.toBeNull();
    expect(newPid).not.toBe(killedPid);
    // After the reconnect, events are as complete as before (relation known, columns named).
    const last = h.sink.of(t).at(-1)!;
    expect({ ...last.columns }).toEqual({ id: total, v: `row ${total}` });
    expect(last.key).toEqual(['id']);
  }, SLOW);

  test('terminated while paused inside a large transaction (back-pressure): the transaction comes again whole after the reconnect', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication, pipeline: { batchSize: 100, maxBufferedEvents: 500 } });
    await h.streaming();
    const release = h.sink.block();
    const rows = 20_000;
    await db.sql.unsafe(`INSERT INTO ${t} SELECT i, 'r' || i FROM generate_series(1, ${rows}) i`);
    // The sink holds the first batch; the source fills the buffer and pauses mid-transaction.
    await h.sink.until('the first blocked write', () => h.sink.pending > 0);
    await waitFor('the buffer to fill', () => /buffered: ([5-9]\d\d|\d{4,})/.test(h.pipeline.stats()), 20_000, () => h.pipeline.stats());
    await terminateWalsender(slot);
    release();
    await h.sink.until(`all ${rows} rows`, () => new Set(h.sink.of(t).map((e) => e.columns.id)).size === rows, 50_000);
    const ids = h.sink.of(t).map((e) => e.columns.id as number);
    // The part delivered before the reconnect comes again (at-least-once), then the whole transaction in order.
    const restart = ids.lastIndexOf(1);
    expect(ids.slice(restart)).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
    expect(ids.slice(0, restart)).toEqual(Array.from({ length: restart }, (_, i) => i + 1));
    await h.streaming();
  }, SLOW);

  test('a second instance on the same slot stands by (status says the slot is in use) and takes over when the first is closed', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t]);
    const first = await db.start({ slot, publication });
    await first.streaming();
    const second = await db.start({ slot, publication, source: { startRetryInterval: 100 } });
    await waitFor('the standby to report the slot in use', () => /in use/.test(second.source.status() ?? ''), 20_000, () => `status: ${second.source.status()}`);
    expect(second.source.status()).toMatch(/replication slot "[a-z0-9_]+" is (in use|active)/);

    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'to the first')`);
    await first.sink.untilCount(1);
    await first.shutdown();

    await second.streaming(30_000);
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (2, 'to the second')`);
    await second.sink.until('the row after the takeover', () => second.sink.of(t).some((e) => e.columns.id === 2), 20_000);
    expect(first.sink.of(t).map((e) => e.columns.id)).toEqual([1]);
    // The first instance confirmed row 1 when it closed: the second does not get it again.
    expect(second.sink.of(t).map((e) => e.columns.id)).toEqual([2]);
  }, SLOW);
});
