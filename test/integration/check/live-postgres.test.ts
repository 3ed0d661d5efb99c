/**
 * `psql-streamer check --live` against a real PostgreSQL, run as an operator would (the CLI as a
 * child process): a cluster of this file's own (startPrivateCluster) set up well, then made wrong
 * one way at a time: a role without REPLICATION, a missing publication, tables without a key or with
 * TOAST-able columns, a slot of another plugin, statusInterval >= wal_sender_timeout, and last
 * wal_level = replica (a restart). Each case checks the exit code, the human lines and the JSON.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';
import { openSqliteStateStore } from '../../../src/state/sqlite-store.ts';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { pgClient } from '../../helpers/pg.ts';
import { startPrivateCluster, type PrivateCluster } from '../../helpers/postgres-source.ts';
import { runCommand, tempDir, type CommandResult } from '../../helpers/streamer.ts';

let cluster: PrivateCluster;
let sql: postgres.Sql;
/** server_version_num of the cluster (scripts/pg may start another version than the default). */
let versionNum = 0;
const dir = tempDir('check-live-pg-');

beforeAll(async () => {
  cluster = await startPrivateCluster();
  sql = pgClient(cluster.server, { max: 1 });
  // A good primary caps the WAL a slot may keep (unlimited is a WARN).
  await sql`ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'`;
  await sql`SELECT pg_reload_conf()`;
  await sql.unsafe(`
    CREATE ROLE app LOGIN REPLICATION PASSWORD 'app-secret';
    CREATE ROLE plain LOGIN PASSWORD 'plain-secret';
    CREATE TABLE accounts (id bigint PRIMARY KEY, balance int NOT NULL);
    CREATE TABLE notes (id int PRIMARY KEY, body text);
    ALTER TABLE notes REPLICA IDENTITY FULL;
    CREATE PUBLICATION good_pub FOR TABLE accounts, notes;
    CREATE TABLE keyless (a int, b int);
    ALTER TABLE keyless REPLICA IDENTITY FULL;
    CREATE TABLE docs (id int PRIMARY KEY, doc jsonb);
    CREATE PUBLICATION warn_pub FOR TABLE keyless, docs;
    CREATE TABLE no_identity (a int);
    INSERT INTO no_identity VALUES (1);
    CREATE PUBLICATION fail_pub FOR TABLE no_identity;
    CREATE TABLE events (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    CREATE PUBLICATION part_pub FOR TABLE events;
    CREATE TABLE totals (id int PRIMARY KEY, a int, b int, total int GENERATED ALWAYS AS (a + b) STORED);
    CREATE PUBLICATION gen_pub FOR TABLE totals;
  `);
  const [row] = await sql<{ v: string }[]>`SELECT current_setting('server_version_num') AS v`;
  versionNum = Number(row!.v);
}, 120_000);

afterAll(async () => {
  await sql?.end({ timeout: 5 }).catch(() => {});
  await cluster?.stop();
}, 60_000);

interface SourceKeys {
  user?: string;
  password?: string;
  publication?: string;
  slot?: string;
}

/** Writes a config with one postgres source (as `app` unless told) and a file sink; returns its path. */
function config(name: string, keys: SourceKeys = {}): string {
  const { host, port, database } = cluster.server;
  const file = join(dir, `${name}.toml`);
  writeFileSync(file, postgresToFileToml({
    server: cluster.server,
    dsn: `host=${host} port=${port} dbname=${database} user=${keys.user ?? 'app'} password=${keys.password ?? 'app-secret'} sslmode=disable`,
    publication: keys.publication ?? 'good_pub',
    slot: keys.slot ?? 'check_slot',
    state: join(dir, `${name}.db`),
    out: join(dir, `${name}.jsonl`),
  }));
  return file;
}

interface JsonResult {
  check: string;
  subject: string | null;
  verdict: string;
  reason: string;
  remedy: string | null;
}

interface JsonReport {
  format: number;
  verdict: string;
  exitCode: number;
  summary: { ok: number; warn: number; fail: number };
  groups: { kind: string; name: string; type: string; target: string | null; results: JsonResult[] }[];
}

async function check(file: string): Promise<{ human: CommandResult; json: CommandResult; report: JsonReport }> {
  const [human, json] = await Promise.all([runCommand(['check', '--live', '-config', file]), runCommand(['check', '--live', '--json', '-config', file])]);
  return { human, json, report: JSON.parse(json.stdout) as JsonReport };
}

const find = (report: JsonReport, check: string, subject: string | null = null): JsonResult | undefined =>
  report.groups.flatMap((g) => g.results).find((r) => r.check === check && (subject === null || r.subject === subject));

/** Runs `body` while a logical slot of `plugin` exists (created by hand, as another consumer would). */
async function withSlot(name: string, plugin: string, body: () => Promise<void>): Promise<void> {
  await sql`SELECT pg_create_logical_replication_slot(${name}, ${plugin})`;
  try {
    await body();
  } finally {
    await sql`SELECT pg_drop_replication_slot(${name})`;
  }
}

/** The human line of a check: `  VERDICT  label  reason`. */
const line = (out: string, verdict: string, label: string): string | undefined =>
  out.split('\n').find((l) => new RegExp(`^  ${verdict} +${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `).test(l));

describe('check --live', () => {
  test('a well set-up source: exit 0, every item OK, in both outputs', async () => {
    const { human, json, report } = await check(config('good'));
    // Not a terminal: stderr has at most the plain progress lines of a slow check (src/commands/check/progress.ts).
    expect(human.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('check --live: '))).toEqual([]);
    expect(human.code).toBe(0);
    expect(json.code).toBe(0);
    for (const [label, text] of [
      ['wal_level', 'logical'], ['replication_role', 'role app has REPLICATION'], ['publication good_pub', '2 table(s): public.accounts, public.notes'],
      ['table public.accounts', 'primary key (id); replica identity default'], ['table public.notes', 'replica identity full'],
      ['slot check_slot', 'created on first start'], ['max_replication_slots', '0 of 20 in use'], ['max_slot_wal_keep_size', '1 GB'],
      ['wal_sender_timeout', '60s, above statusInterval (0.2s)'], ['replication_connection', 'IDENTIFY_SYSTEM: system '], ['path', 'will be created'],
      ['position', 'no saved position: the first start creates the slot'],
    ]) {
      expect(line(human.stdout, 'OK  ', label as string), `${label} in\n${human.stdout}`).toContain(text as string);
    }
    expect(human.stdout).not.toMatch(/^ {2}(WARN|FAIL)/m);
    expect(human.stdout.trimEnd().split('\n').at(-1)).toMatch(/^OK: \d+ OK, 0 WARN, 0 FAIL in 2 source\(s\)\/sink\(s\) of .*good\.toml \(exit 0\)$/);
    expect(report).toMatchObject({ format: 1, verdict: 'OK', exitCode: 0, summary: { warn: 0, fail: 0 } });
    expect(report.groups.map((g) => `${g.kind} ${g.name} ${g.type}`)).toEqual(['source db1 postgres', 'sink out file']);
    const { port, database } = cluster.server;
    expect(report.groups[0]!.target).toBe(`${cluster.server.host}:${port} dbname=${database} user=app`);
    const [systemId] = await sql<{ system_identifier: string }[]>`SELECT system_identifier::text FROM pg_control_system()`;
    expect(find(report, 'replication_connection')!.reason).toContain(`system ${systemId!.system_identifier}, timeline 1`);
    // Nothing was created: the slot is still for the streamer to make, the state file for it to open.
    expect(await sql`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'check_slot'`).toHaveLength(0);
    expect(existsSync(join(dir, 'good.db'))).toBe(false);
  }, 60_000);

  test('a role without REPLICATION: FAIL from the catalog and from the replication connection, exit 2', async () => {
    const { human, report } = await check(config('norepl', { user: 'plain', password: 'plain-secret' }));
    expect(human.code).toBe(2);
    expect(line(human.stdout, 'FAIL', 'replication_role')).toContain('role plain has neither REPLICATION nor SUPERUSER');
    expect(human.stdout).toContain('remedy: ALTER ROLE plain REPLICATION;');
    const connection = find(report, 'replication_connection')!;
    expect(connection.verdict).toBe('FAIL');
    // "must be superuser or replication role to start walsender"; 16+: "permission denied to start WAL sender".
    expect(connection.reason).toMatch(/replication role|WAL sender/);
    expect(connection.remedy).toBe('ALTER ROLE plain REPLICATION;');
  }, 60_000);

  test('a missing publication: FAIL with CREATE PUBLICATION, exit 2', async () => {
    const { human, report } = await check(config('nopub', { publication: 'good_pub,nowhere' }));
    expect(human.code).toBe(2);
    expect(line(human.stdout, 'FAIL', 'publication nowhere')).toContain(`does not exist in database ${cluster.server.database}`);
    expect(find(report, 'publication', 'nowhere')!.remedy).toStartWith('CREATE PUBLICATION nowhere FOR ALL TABLES;');
    expect(find(report, 'publication', 'good_pub')!.verdict).toBe('OK');
  }, 60_000);

  test('a table without a primary key and a TOAST-able column without REPLICA IDENTITY FULL: WARN, exit 1', async () => {
    const { human, report } = await check(config('warn', { publication: 'warn_pub' }));
    expect(human.code).toBe(1);
    expect(line(human.stdout, 'WARN', 'table public.keyless')).toContain('no primary key: updates and deletes carry no Key');
    expect(line(human.stdout, 'WARN', 'table public.docs')).toContain('TOAST-able column(s) doc');
    expect(find(report, 'table', 'public.docs')!.remedy).toStartWith('ALTER TABLE public.docs REPLICA IDENTITY FULL;');
    expect(report).toMatchObject({ verdict: 'WARN', exitCode: 1, summary: { warn: 2, fail: 0 } });
  }, 60_000);

  test('no replica identity: FAIL, because UPDATE really fails on the primary', async () => {
    const { human, report } = await check(config('noident', { publication: 'fail_pub' }));
    expect(human.code).toBe(2);
    expect(find(report, 'table', 'public.no_identity')).toMatchObject({ verdict: 'FAIL', reason: expect.stringContaining('UPDATE and DELETE on this table fail on the primary') });
    const error = await sql`UPDATE no_identity SET a = 2`.then(() => undefined, (err: Error) => err);
    expect(error?.message).toContain('does not have a replica identity and publishes updates');
  }, 60_000);

  test('a slot of another plugin (test_decoding): FAIL with the drop command, exit 2', async () => {
    await withSlot('decoding_slot', 'test_decoding', async () => {
      const { human, report } = await check(config('decoding', { slot: 'decoding_slot' }));
      expect(human.code).toBe(2);
      expect(line(human.stdout, 'FAIL', 'slot decoding_slot')).toContain('is a logical slot with plugin test_decoding, not a logical pgoutput slot');
      expect(find(report, 'slot', 'decoding_slot')!.remedy).toStartWith("SELECT pg_drop_replication_slot('decoding_slot');");
      // The existing slot is counted, and needs no free one.
      expect(find(report, 'max_replication_slots')!.reason).toStartWith('1 of 20 in use');
    });
  }, 60_000);

  test('a partition published without publish_via_partition_root: WARN; with it, the root: OK', async () => {
    const leaf = await check(config('partition', { publication: 'part_pub' }));
    expect(leaf.human.code).toBe(1);
    expect(line(leaf.human.stdout, 'WARN', 'table public.events_2026')).toContain('partition of public.events: events name public.events_2026, not public.events');
    expect(find(leaf.report, 'table', 'public.events_2026')!.remedy).toBe('ALTER PUBLICATION part_pub SET (publish_via_partition_root = true);');
    await sql`ALTER PUBLICATION part_pub SET (publish_via_partition_root = true)`;
    const root = await check(config('partition', { publication: 'part_pub' }));
    expect(root.human.code).toBe(0);
    expect(find(root.report, 'table', 'public.events')).toMatchObject({ verdict: 'OK', reason: expect.stringContaining('partitioned') });
    expect(find(root.report, 'publication', 'part_pub')!.reason).toContain('publish_via_partition_root = true');
  }, 60_000);

  test('stored generated columns: PostgreSQL 18 WARNs until publish_generated_columns = stored; before 18 an OK note', async () => {
    const before = await check(config('generated', { publication: 'gen_pub' }));
    const totals = () => find(before.report, 'table', 'public.totals')!;
    if (versionNum < 180000) {
      expect(before.human.code).toBe(0);
      expect(totals().reason).toContain('generated column(s) total are not in events (PostgreSQL 18+ can publish them)');
      return;
    }
    expect(before.human.code).toBe(1);
    expect(totals()).toMatchObject({ verdict: 'WARN', remedy: 'ALTER PUBLICATION gen_pub SET (publish_generated_columns = stored);' });
    await sql.unsafe('ALTER PUBLICATION gen_pub SET (publish_generated_columns = stored)');
    const after = await check(config('generated', { publication: 'gen_pub' }));
    expect(after.human.code).toBe(0);
    expect(find(after.report, 'table', 'public.totals')!.reason).toContain('generated column(s) total published');
    expect(find(after.report, 'publication', 'gen_pub')!.reason).toContain('publish_generated_columns = stored');
  }, 60_000);

  test('an existing pgoutput slot: OK with its wal_status, and failover/synced on 17+', async () => {
    await withSlot('ready_slot', 'pgoutput', async () => {
      const { human, report } = await check(config('ready', { slot: 'ready_slot' }));
      expect(human.code).toBe(0);
      const slot = find(report, 'slot', 'ready_slot')!;
      expect(slot.reason).toStartWith('logical pgoutput, wal_status reserved, ');
      expect(slot.reason).toMatch(/ of WAL before it is lost/);
      if (versionNum >= 170000) expect(slot.reason).toEndWith('failover false, synced false');
      else expect(slot.reason).not.toContain('failover');
    });
  }, 60_000);

  test('a saved position the server does not agree with: FAIL position, with the command that resolves it', async () => {
    const [row] = await sql<{ id: string }[]>`SELECT system_identifier::text AS id FROM pg_control_system()`;
    const save = (name: string, position: bigint) => {
      const store = openSqliteStateStore(join(dir, `${name}.db`));
      store.setServerIdentity('db1', { systemId: row!.id, timeline: 1 });
      return store.setPosition('db1', position).finally(() => store.close());
    };
    // Ahead of the server's WAL end (a restored database, or another cluster's state file).
    await save('ahead', 0xE8_D4A5_0FFFn);
    await withSlot('ahead_slot', 'pgoutput', async () => {
      const { human, report } = await check(config('ahead', { slot: 'ahead_slot' }));
      expect(human.code).toBe(2);
      expect(line(human.stdout, 'FAIL', 'position')).toContain('the source would refuse to start: the saved position of source "db1" (E8/D4A50FFF) is ahead of the server\'s WAL end');
      expect(find(report, 'position')!.remedy).toBe(`psql-streamer reset-position -config ${join(dir, 'ahead.toml')} --source db1`);
    });
    // A saved position but no slot: re-creating it would skip what was committed meanwhile.
    await save('dropped', 0x100n);
    const dropped = await check(config('dropped', { slot: 'dropped_slot' }));
    expect(dropped.human.code).toBe(2);
    expect(find(dropped.report, 'position')).toMatchObject({
      verdict: 'FAIL',
      reason: expect.stringContaining('replication slot "dropped_slot" does not exist, but source "db1" has a saved position 0/100'),
      remedy: `psql-streamer -config ${join(dir, 'dropped.toml')} --accept-gap (once; then re-copy the affected tables)`,
    });
    // The slot check alone would say it is created on first start: only the position shows the gap.
    expect(find(dropped.report, 'slot', 'dropped_slot')!.verdict).toBe('OK');
  }, 60_000);

  test('statusInterval >= wal_sender_timeout: WARN, exit 1', async () => {
    // The source reports every 200 ms (statusInterval); the server's timeout goes below that.
    await sql`ALTER SYSTEM SET wal_sender_timeout = '150ms'`;
    await sql`SELECT pg_reload_conf()`;
    try {
      const { human, report } = await check(config('late'));
      expect(human.code).toBe(1);
      expect(line(human.stdout, 'WARN', 'wal_sender_timeout')).toContain("0.15s is not above the source's statusInterval (0.2s)");
      expect(find(report, 'wal_sender_timeout')!.remedy).toContain('set statusInterval below 0.075s');
      expect(report.summary).toMatchObject({ warn: 1, fail: 0 });
    } finally {
      await sql`ALTER SYSTEM RESET wal_sender_timeout`;
      await sql`SELECT pg_reload_conf()`;
    }
  }, 60_000);

  test('wal_level = replica (after a restart): FAIL wal_level, exit 2', async () => {
    await sql`ALTER SYSTEM SET wal_level = replica`;
    await sql.end({ timeout: 5 });
    await cluster.restart();
    sql = pgClient(cluster.server, { max: 1 });
    const { human, report } = await check(config('replica'));
    expect(human.code).toBe(2);
    expect(line(human.stdout, 'FAIL', 'wal_level')).toContain('wal_level is "replica": logical decoding needs "logical"');
    expect(find(report, 'wal_level')!.remedy).toBe('ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL');
    expect(report.verdict).toBe('FAIL');
  }, 120_000);
});
