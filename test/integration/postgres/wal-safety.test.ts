/**
 * WAL safety against the real server (docs/operations.md "WAL retention, lag and budget"): with a
 * sink that never acknowledges, the slot gauges of a running streamer match what the test computes
 * from pg_replication_slots, the budget warns or stops the process; the seconds-behind gauges grow
 * while stuck and read 0 once caught up; heartbeats advance the slot of a quiet database while
 * another database of the cluster writes, and reach the sink only when asked.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import type postgres from 'postgres';
import { parseLsn } from '../../../src/replication/lsn.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { dropSlot, pgClient, testSince, uniqueName } from '../../helpers/pg.ts';
import { confirmedFlush, currentLsn as walInsertLsn, dsnFor, useSourceTests, waitFor } from '../../helpers/postgres-source.ts';
import { postgresSourceToml, sinkToml, streamerToml } from '../../helpers/configs.ts';
import { killChildrenAndDropSlots, startStreamer, tempDir, type StreamerProcess } from '../../helpers/streamer.ts';

const children: StreamerProcess[] = [];
const slots: string[] = [];
// Registered before useSourceTests so that it runs first: a walsender whose client stopped reading
// holds up the server's shutdown (it must send the shutdown checkpoint first).
afterAll(() => killChildrenAndDropSlots(children, slots, db.sql), 60_000);
const db = useSourceTests();
const logs = captureLogs();

const FIXTURE = join(import.meta.dir, '../../fixtures/app/run-with-counting-source.ts');
const MiB = 2 ** 20;
const POLL_MS = 500;

/** The value of one series in Prometheus exposition text, or undefined when absent. */
function metric(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const [series, value] = line.split(/\s+/);
    if (wanted.every((pair) => series!.includes(pair))) return Number(value);
  }
  return undefined;
}

/** WAL end − confirmed_flush_lsn and WAL end − restart_lsn of `slot`, as the test sees them. */
async function slotDistances(sql: postgres.Sql, slot: string): Promise<{ behind: number; retained: number }> {
  const [row] = await sql<{ behind: string; retained: string }[]>`
    SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS behind, (pg_current_wal_lsn() - restart_lsn)::text AS retained
    FROM pg_replication_slots WHERE slot_name = ${slot}`;
  return { behind: Number(row!.behind), retained: Number(row!.retained) };
}

/** A fresh table `(id int PRIMARY KEY)` with its publication and slot. */
async function tableAndSlot(prefix: string): Promise<{ table: string; slot: string; publication: string }> {
  const table = uniqueName(prefix);
  await db.sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  return { table, ...(await db.prepare([table])) };
}

/** Inserts rows in transactions of 2,000 until the slot retains at least `bytes`. */
async function fillSlot(sql: postgres.Sql, table: string, slot: string, bytes: number): Promise<number> {
  for (let round = 0; round < 200; round++) {
    const { retained } = await slotDistances(sql, slot);
    if (retained >= bytes) return retained;
    await sql.unsafe(`INSERT INTO ${table} (payload) SELECT repeat(md5(i::text), 8) FROM generate_series(1, 2000) i`);
  }
  throw new Error(`the slot never retained ${bytes} bytes`);
}

async function stuckStreamer(extra: string): Promise<{ streamer: StreamerProcess; table: string; slot: string; url: string }> {
  const table = uniqueName('wal');
  await db.sql.unsafe(`CREATE TABLE ${table} (id serial PRIMARY KEY, payload text)`);
  const { slot, publication } = await db.prepare([table]);
  slots.push(slot);
  const dir = tempDir('psql-streamer-wal-');
  const config = streamerToml({
    state: join(dir, 'state.db'),
    top: 'shutdownTimeout = "2s"',
    sections: [
      postgresSourceToml({
        server: db.pg.server, publication, slot, batchFlushInterval: null,
        source: `slotMonitorInterval = "${POLL_MS}ms"\nmaxBufferedEvents = 1000\n${extra}`,
      }),
      sinkToml('stuck', 'hanging'),
    ],
  });
  const streamer = startStreamer(dir, config, 'wal', {}, [], [], FIXTURE);
  children.push(streamer);
  await streamer.waitForLog('Streaming from', 30_000);
  return { streamer, table, slot, url: await streamer.httpUrl() };
}

describe('WAL retention and budget with a stuck sink', () => {
  test('regression: the WAL lag gauge understated a stuck sink (received − persisted); now the slot gauges match pg_replication_slots within one poll; the soft budget warns (log, metric, /status 200)', async () => {
    const { streamer, table, slot, url } = await stuckStreamer('walBudgetWarn = "4MiB"');
    const filled = await fillSlot(db.sql, table, slot, 8 * MiB);

    // Bracket one poll: the WAL only grows and nothing is confirmed, so the gauge (read after a poll
    // that ran between the two SQL readings) lies between them.
    const before = await slotDistances(db.sql, slot);
    await Bun.sleep(POLL_MS * 3);
    const text = await (await fetch(`${url}/metrics`)).text();
    const after = await slotDistances(db.sql, slot);
    const behind = metric(text, 'source_slot_behind_bytes', { sourceName: 'db1' });
    const retained = metric(text, 'source_slot_retained_bytes', { sourceName: 'db1' });
    const oldLag = metric(text, 'source_wal_lag_bytes', { sourceName: 'db1' });
    console.log(`stuck sink: slot retains ${(filled / MiB).toFixed(1)} MiB; behind gauge ${behind} in [${before.behind}, ${after.behind}], ` +
      `retained gauge ${retained} in [${before.retained}, ${after.retained}]; source_wal_lag_bytes ${oldLag}`);
    expect(behind).toBeGreaterThanOrEqual(before.behind);
    expect(behind).toBeLessThanOrEqual(after.behind);
    expect(retained).toBeGreaterThanOrEqual(before.retained);
    expect(retained).toBeLessThanOrEqual(after.retained);
    expect(behind).toBeGreaterThan(8 * MiB - 2 * MiB);
    // The in-process measure stops where the source stopped reading (maxBufferedEvents).
    expect(oldLag).toBeLessThan(behind! / 2);
    expect(metric(text, 'source_slot_wal_status', { sourceName: 'db1', status: 'reserved' })).toBe(1);
    expect(metric(text, 'source_slot_wal_status', { sourceName: 'db1', status: 'lost' })).toBe(0);
    expect(metric(text, 'source_wal_budget_exceeded', { sourceName: 'db1', limit: 'warn' })).toBe(1);
    expect(metric(text, 'source_wal_budget_bytes', { sourceName: 'db1', limit: 'warn' })).toBe(4 * MiB);

    await streamer.waitForLog(/WAL budget warning: the slot "\w+" makes the server keep [\d.]+ MiB of WAL, over walBudgetWarn 4\.0 MiB/);
    expect(streamer.stderr().match(/WAL budget warning/g)?.length).toBe(1);
    const status = await fetch(`${url}/status`);
    const body = await status.text();
    expect(status.status).toBe(200);
    expect(body).toMatch(/^Source-PSQL \(db1\): WARNING: WAL budget warning: [\d.]+ MiB retained > walBudgetWarn 4\.0 MiB; slot: behind [\d.]+ MiB, retained [\d.]+ MiB, wal_status reserved/m);

    // Seconds behind, from the commit times: grows while stuck.
    const lag1 = metric(await (await fetch(`${url}/metrics`)).text(), 'source_delivered_lag_seconds', { sourceName: 'db1' })!;
    await Bun.sleep(1_500);
    const lag2 = metric(await (await fetch(`${url}/metrics`)).text(), 'source_delivered_lag_seconds', { sourceName: 'db1' })!;
    expect(lag1).toBeGreaterThan(0);
    expect(lag2).toBeGreaterThan(lag1 + 1);
    const stats = await (await fetch(`${url}/stats`)).text();
    expect(stats).toMatch(/Source-PSQL \(db1\): .*; slot: behind [\d.]+ MiB, retained [\d.]+ MiB, wal_status reserved, safe_wal_size unlimited; seconds behind: delivered [\d.]+, received [\d.]+/);
  }, 120_000);

  test('walBudgetAction = "stop": past walBudgetMax the source stops, nothing is confirmed, the process exits 3 with a clear error', async () => {
    const { streamer, table, slot } = await stuckStreamer('walBudgetMax = "2MiB"\nwalBudgetAction = "stop"');
    // Keepalive positions (other tests write WAL too) may still be confirmed up to the first stuck
    // transaction's commit, never past it: its end lies before the WAL position read right after it.
    await db.sql.unsafe(`INSERT INTO ${table} (payload) VALUES ('first stuck row')`);
    const afterFirst = await walInsertLsn(db.sql);
    await fillSlot(db.sql, table, slot, 3 * MiB);
    expect(await Promise.race([streamer.exited, Bun.sleep(30_000).then(() => 'still running')])).toBe(3);
    expect(streamer.stderr()).toMatch(/ERROR Source-PSQL \(db1\): Refusing to stream: WAL budget exceeded: the slot "\w+" makes the server keep [\d.]+ MiB of WAL, over walBudgetMax 2\.0 MiB; walBudgetAction = "stop": stopping the source/);
    expect(streamer.stderr().match(/WAL budget exceeded/g)?.length).toBe(1);
    expect(streamer.stderr()).toContain('(exit code 3)');
    expect(await confirmedFlush(db.sql, slot)).toBeLessThan(afterFirst);
  }, 120_000);
});

describe('seconds behind', () => {
  test('delivered lag grows while the sink is blocked (received lag stays 0: all was read), both 0 once caught up', async () => {
    const { table, slot, publication } = await tableAndSlot('lag');
    const h = await db.start({ slot, publication, source: { slotMonitorInterval: POLL_MS } });
    await h.streaming();
    const gauge = async (name: string) => metric((await h.metrics.scrape()).body, name, { sourceName: h.name });
    const release = h.sink.block();
    await db.sql.unsafe(`INSERT INTO ${table} VALUES (1)`);
    await waitFor('the blocked write', () => h.sink.pending > 0, 20_000);
    await Bun.sleep(1_500);
    const stuck = await gauge('source_delivered_lag_seconds');
    expect(stuck).toBeGreaterThan(1);
    expect(stuck).toBeLessThan(60);
    await waitFor('received lag 0 (caught up with the server)', async () => (await gauge('source_received_lag_seconds')) === 0, 20_000);
    release();
    await h.sink.untilCount(1);
    await waitFor('delivered lag 0', async () => (await gauge('source_delivered_lag_seconds')) === 0, 20_000);
    expect(h.source.stats()).toContain('seconds behind: delivered 0.0, received 0.0');
  }, 60_000);
});

describe('slot monitor outages', () => {
  test('a monitor that cannot connect is logged once, counted, shown in /status, and polls again once it can', async () => {
    const { slot, publication } = await tableAndSlot('outage');
    const role = uniqueName('mon');
    await db.sql.unsafe(`CREATE ROLE ${role} LOGIN REPLICATION PASSWORD 'mon-secret'`);
    try {
      const h = await db.start({ slot, publication, dsn: dsnFor(db.pg.server, { user: role, password: 'mon-secret' }), source: { slotMonitorInterval: 200 } });
      await h.streaming();
      const errors = async () => metric((await h.metrics.scrape()).body, 'source_slot_monitor_errors_total', { sourceName: h.name, operation: 'poll' }) ?? 0;
      await waitFor('a first poll', () => /slot: behind/.test(h.source.stats()), 20_000, () => h.source.stats());
      // The replication connection stays; new connections of the role fail, the open monitor connection is ended.
      await db.sql.unsafe(`ALTER ROLE ${role} NOLOGIN`);
      await db.sql.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}' AND backend_type = 'client backend'`);
      await waitFor('three failed polls', async () => (await errors()) >= 3, 20_000);
      expect(h.source.status()).toBeNull();
      expect(h.source.warning()).toMatch(/slot monitor poll failing: .*not permitted to log in/);
      await db.sql.unsafe(`ALTER ROLE ${role} LOGIN`);
      await waitFor('the monitor back', () => h.source.warning() === null, 20_000, () => String(h.source.warning()));
      const failedLines = logs.filter((line) => line.includes(h.name) && line.includes('Slot monitor: poll failed'));
      expect(failedLines.length).toBe(1);
      expect(failedLines[0]).toContain('logged once until it works again');
      expect(logs.filter((line) => line.includes(h.name) && line.includes('Slot monitor: poll works again')).length).toBe(1);
      await h.shutdown();
    } finally {
      await db.sql.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`);
      await dropSlotAndRole(slot, role);
    }
  }, 60_000);
});

/** Drops `slot` (its walsender runs as `role`) and then the role. */
async function dropSlotAndRole(slot: string, role: string): Promise<void> {
  await dropSlot(db.sql, slot);
  await db.sql.unsafe(`DROP ROLE IF EXISTS ${role}`);
}

describe('heartbeats', () => {
  let other: postgres.Sql | undefined;
  let otherDb: string | undefined;
  afterAll(async () => {
    await other?.end({ timeout: 5 });
    if (otherDb) await db.sql.unsafe(`DROP DATABASE IF EXISTS ${otherDb} WITH (FORCE)`).catch(() => {});
  });

  /** Keeps another database of the cluster writing until the returned function is called. */
  async function writeElsewhere(): Promise<() => Promise<void>> {
    otherDb ??= uniqueName('busy');
    if (other === undefined) {
      await db.sql.unsafe(`CREATE DATABASE ${otherDb}`);
      other = pgClient(db.pg.server, { database: otherDb });
      await other.unsafe('CREATE TABLE busy (id serial PRIMARY KEY, payload text)');
    }
    const sql = other;
    let running = true;
    const loop = (async () => {
      while (running) await sql.unsafe(`INSERT INTO busy (payload) SELECT repeat('x', 200) FROM generate_series(1, 200)`);
    })();
    return async () => {
      running = false;
      await loop;
    };
  }

  // Measured on PostgreSQL 15: without heartbeats this slot advances too, through the walsender's
  // keepalives (the source confirms their position between transactions). What fails without
  // them is the heartbeat path itself: messages written, swallowed by prefix, their position confirmed.
  // pgoutput streams logical decoding messages from 14 on; on 13 a heartbeat still writes WAL the keepalives confirm.
  testSince(14, 'pgoutput messages')('an idle slot moves past each heartbeat while another database writes; no heartbeat reaches the sink', async () => {
    const { slot, publication } = await tableAndSlot('quiet');
    const h = await db.start({ slot, publication, source: { slotMonitorInterval: POLL_MS, heartbeatInterval: 300 } });
    await h.streaming();
    const stop = await writeElsewhere();
    try {
      for (let i = 0; i < 3; i++) {
        const target = await walInsertLsn(db.sql);
        await waitFor(`confirmed_flush_lsn past ${target}`, async () => (await confirmedFlush(db.sql, slot)) >= target, 30_000,
          () => h.source.stats());
      }
      await waitFor('a heartbeat written', () => /last heartbeat/.test(h.source.stats()), 20_000);
      const heartbeat = parseLsn(/last heartbeat ([0-9A-F]+\/[0-9A-F]+)/.exec(h.source.stats())![1]!);
      await waitFor(`confirmed_flush_lsn past the heartbeat at ${heartbeat}`, async () => (await confirmedFlush(db.sql, slot)) >= heartbeat, 30_000,
        () => h.source.stats());
    } finally {
      await stop();
    }
    const { body: text } = await h.metrics.scrape();
    expect(metric(text, 'source_heartbeats_total', { sourceName: h.name })).toBeGreaterThan(0);
    expect(metric(text, 'source_pgoutput_skipped_total', { sourceName: h.name, kind: 'heartbeat' })).toBeGreaterThan(0);
    expect(h.sink.events.filter((e) => e.action === 'message')).toEqual([]);
    expect(h.source.stats()).toMatch(/last heartbeat [0-9A-F]+\/[0-9A-F]+/);
  }, 90_000);

  testSince(14, 'pgoutput messages')('heartbeatEvents = true delivers them as message events with the prefix', async () => {
    const { slot, publication } = await tableAndSlot('quiet');
    const h = await db.start({ slot, publication, source: { heartbeatInterval: 200, heartbeatEvents: true, heartbeatPrefix: 'hb-test' } });
    await h.streaming();
    // Only the message of this source's prefix: other sources on this database write heartbeats too.
    const mine = () => h.sink.events.find((e) => e.action === 'message' && e.columns.prefix === 'hb-test');
    await h.sink.until('a heartbeat event', () => mine() !== undefined, 20_000);
    const event = mine()!;
    expect(event.columns.prefix).toBe('hb-test');
    expect(event.columns.transactional).toBe(false);
    expect(Number.isNaN(Date.parse(String(event.columns.content)))).toBe(false);
  }, 60_000);
});
