/** Verdicts of check --live for a PostgreSQL source: facts in, OK/WARN/FAIL with reason and remedy out. */
import { describe, expect, test } from 'bun:test';
import type { PublicationFacts, ServerFacts, SessionFacts, TableFacts } from '../../../../src/commands/check/postgres-sql.ts';
import type { SlotInfo } from '../../../../src/replication/commands.ts';
import {
  checkReplicationRole, checkSlotHeadroom, checkSlotWalKeepSize, checkVersion, checkWalLevel, checkWalSenderHeadroom, checkWalSenderTimeout,
} from '../../../../src/commands/check/postgres-server.ts';
import { checkSlot } from '../../../../src/commands/check/postgres-slot.ts';
import { checkPublications, checkTables } from '../../../../src/commands/check/postgres-tables.ts';
import { sqlName } from '../../../../src/commands/check/postgres-sql.ts';

const server = (over: Partial<ServerFacts> = {}): ServerFacts => ({
  version: '15.4', versionNum: 150004, walLevel: 'logical', maxReplicationSlots: 10, maxWalSenders: 10,
  maxSlotWalKeepSizeMb: 10240, walSenderTimeoutMs: 60_000, ...over,
});
const session = (over: Partial<SessionFacts> = {}): SessionFacts => ({
  role: 'app', replication: true, superuser: false, slotsUsed: 2, walSendersUsed: 2, tls: true, database: 'shop', ...over,
});
const pub = (over: Partial<PublicationFacts> = {}): PublicationFacts => ({
  name: 'pub', allTables: false, insert: true, update: true, delete: true, truncate: true, viaRoot: false, generatedColumns: null, ...over,
});
const table = (over: Partial<TableFacts> = {}): TableFacts => ({
  schema: 'public', name: 'users', publications: ['pub'], kind: 'r', identity: 'default', primaryKey: ['id'], identityIndex: null,
  toastable: [], generated: [], partitionOf: null, ...over,
});
const slot = (over: Partial<SlotInfo> = {}): SlotInfo => ({
  plugin: 'pgoutput', slotType: 'logical', database: 'shop', activePid: null, confirmedFlush: 0x1000n, restartLsn: 0x800n, walStatus: 'reserved',
  invalidation: null, failover: null, synced: null, safeWalSize: null, ...over,
});

describe('server', () => {
  test('version and wal_level', () => {
    expect(checkVersion(server()).verdict).toBe('OK');
    expect(checkVersion(server({ version: '9.6.1', versionNum: 90601 })).verdict).toBe('FAIL');
    expect(checkWalLevel(server())).toEqual({ check: 'wal_level', verdict: 'OK', reason: 'logical' });
    const replica = checkWalLevel(server({ walLevel: 'replica' }));
    expect(replica.verdict).toBe('FAIL');
    expect(replica.reason).toContain('"replica"');
    expect(replica.remedy).toBe('ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL');
  });

  test('slot headroom: FAIL when the slot cannot be created, WARN at one free, OK otherwise', () => {
    expect(checkSlotHeadroom(server(), session({ slotsUsed: 10 }), false).verdict).toBe('FAIL');
    // An existing slot needs no free one.
    expect(checkSlotHeadroom(server(), session({ slotsUsed: 10 }), true).verdict).toBe('WARN');
    const nine = checkSlotHeadroom(server(), session({ slotsUsed: 9 }), false);
    expect(nine.verdict).toBe('WARN');
    expect(nine.reason).toStartWith('9 of 10 in use (1 free)');
    expect(nine.remedy).toContain('ALTER SYSTEM SET max_replication_slots = 20');
    expect(checkSlotHeadroom(server(), session({ slotsUsed: 8 }), false)).toMatchObject({ verdict: 'OK', reason: '8 of 10 in use (2 free)' });
  });

  test('walsender headroom', () => {
    expect(checkWalSenderHeadroom(server(), session({ walSendersUsed: 10 })).verdict).toBe('FAIL');
    expect(checkWalSenderHeadroom(server(), session({ walSendersUsed: 9 })).verdict).toBe('WARN');
    expect(checkWalSenderHeadroom(server(), session({ walSendersUsed: 3 })).verdict).toBe('OK');
  });

  test('REPLICATION or superuser', () => {
    expect(checkReplicationRole(session()).verdict).toBe('OK');
    expect(checkReplicationRole(session({ replication: false, superuser: true })).verdict).toBe('OK');
    const none = checkReplicationRole(session({ role: 'App User', replication: false }));
    expect(none.verdict).toBe('FAIL');
    expect(none.remedy).toBe('ALTER ROLE "App User" REPLICATION;');
  });

  test('max_slot_wal_keep_size: unlimited and pre-13 WARN, a cap OK', () => {
    const unlimited = checkSlotWalKeepSize(server({ maxSlotWalKeepSizeMb: -1 }));
    expect(unlimited.verdict).toBe('WARN');
    expect(unlimited.reason).toContain('disk is full');
    expect(unlimited.remedy).toContain("ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf();");
    expect(checkSlotWalKeepSize(server({ maxSlotWalKeepSizeMb: undefined, version: '12.3' })).verdict).toBe('WARN');
    expect(checkSlotWalKeepSize(server())).toMatchObject({ verdict: 'OK', reason: expect.stringMatching(/^10 GB: /) });
  });

  test('wal_sender_timeout against statusInterval', () => {
    expect(checkWalSenderTimeout(server(), 10_000)).toMatchObject({ verdict: 'OK', reason: '60s, above statusInterval (10s)' });
    const late = checkWalSenderTimeout(server({ walSenderTimeoutMs: 5_000 }), 5_000);
    expect(late.verdict).toBe('WARN');
    expect(late.remedy).toContain('statusInterval below 2.5s');
    expect(checkWalSenderTimeout(server({ walSenderTimeoutMs: 0 }), 10_000).verdict).toBe('WARN');
  });
});

describe('publications', () => {
  test('missing: FAIL with CREATE PUBLICATION; a mixed-case name resolves to its lower-case publication', () => {
    const [missing, resolved] = checkPublications(['Nope', 'Pub'], [pub()], [table()], 'shop');
    expect(missing).toMatchObject({ check: 'publication', subject: 'Nope', verdict: 'FAIL', reason: 'does not exist in database shop' });
    expect(missing!.remedy).toStartWith('CREATE PUBLICATION "Nope" FOR ALL TABLES;');
    expect(resolved).toMatchObject({ subject: 'pub', verdict: 'OK', reason: '1 table(s): public.users; publishes insert, update, delete, truncate; publish_via_partition_root = false' });
  });

  test('an action off is a WARN that restores all of them', () => {
    const [result] = checkPublications(['pub'], [pub({ delete: false, allTables: true, viaRoot: null })], [], 'shop');
    expect(result!.verdict).toBe('WARN');
    expect(result!.reason).toBe('FOR ALL TABLES (0 now); publishes insert, update, truncate; delete not published: those changes are never seen');
    expect(result!.remedy).toBe("ALTER PUBLICATION pub SET (publish = 'insert, update, delete, truncate');");
  });

  test('no table: WARN; a long list is cut', () => {
    expect(checkPublications(['pub'], [pub()], [], 'shop')[0]!.verdict).toBe('WARN');
    const many = Array.from({ length: 12 }, (_, i) => table({ name: `t${i}` }));
    expect(checkPublications(['pub'], [pub()], many, 'shop')[0]!.reason).toContain('public.t9, and 2 more');
  });
});

describe('tables', () => {
  const one = (t: Partial<TableFacts>, p: Partial<PublicationFacts> = {}, version = 150000) => checkTables([table(t)], [pub(p)], version)[0]!;

  test('primary key, replica identity default, no TOAST-able column: OK', () => {
    expect(one({})).toEqual({ check: 'table', subject: 'public.users', verdict: 'OK', reason: 'primary key (id); replica identity default' });
  });

  test('no replica identity: FAIL while updates or deletes are published, OK when only inserts are', () => {
    for (const t of [{ primaryKey: [] }, { identity: 'nothing' as const }, { identity: 'index' as const, identityIndex: null }]) {
      const result = one(t);
      expect(result.verdict).toBe('FAIL');
      expect(result.reason).toContain('UPDATE and DELETE on this table fail on the primary');
      expect(result.remedy).toContain('ALTER TABLE public.users REPLICA IDENTITY FULL;');
    }
    expect(one({ primaryKey: [] }, { update: false, delete: false }).verdict).toBe('OK');
    expect(one({ primaryKey: [] }, { update: false }).reason).toContain('DELETE on this table fail');
  });

  test('FULL without a primary key: WARN (no Key); USING INDEX without one: OK', () => {
    const full = one({ identity: 'full', primaryKey: [] });
    expect(full.verdict).toBe('WARN');
    expect(full.reason).toContain('no Key');
    expect(one({ identity: 'index', identityIndex: 'users_email', primaryKey: [] })).toMatchObject({ verdict: 'OK', reason: 'no primary key; replica identity index (users_email)' });
  });

  test('with an initial snapshot: a table without a key to read it in order is a WARN; a key or identity index is fine', () => {
    const snapshot = (t: Partial<TableFacts>, p: Partial<PublicationFacts> = {}) => checkTables([table(t)], [pub(p)], 150000, true)[0]!;
    const insertOnly = snapshot({ primaryKey: [] }, { update: false, delete: false });
    expect(insertOnly.verdict).toBe('WARN');
    expect(insertOnly.reason).toContain('the initial snapshot cannot copy this table');
    expect(insertOnly.remedy).toContain('ADD PRIMARY KEY');
    expect(snapshot({ identity: 'full', primaryKey: [] }).reason).toContain('initial snapshot cannot copy');
    expect(snapshot({}).verdict).toBe('OK');
    expect(snapshot({ identity: 'index', identityIndex: 'users_email', primaryKey: [] }).verdict).toBe('OK');
    expect(one({ primaryKey: [] }, { update: false, delete: false }).verdict).toBe('OK');
  });

  test('TOAST-able columns: WARN unless REPLICA IDENTITY FULL or updates are not published', () => {
    const toast = one({ toastable: ['bio', 'doc'] });
    expect(toast.verdict).toBe('WARN');
    expect(toast.reason).toContain('TOAST-able column(s) bio, doc');
    expect(toast.reason).toContain('Unchanged');
    expect(toast.remedy).toStartWith('ALTER TABLE public.users REPLICA IDENTITY FULL;');
    expect(one({ toastable: ['bio'], identity: 'full' }).verdict).toBe('OK');
    expect(one({ toastable: ['bio'] }, { update: false }).verdict).toBe('OK');
  });

  test('several findings: the worst verdict, every reason and remedy', () => {
    const result = one({ primaryKey: [], toastable: ['b'] });
    expect(result.verdict).toBe('FAIL');
    expect(result.reason).toContain('no replica identity');
    expect(result.reason).toContain('TOAST-able');
    // REPLICA IDENTITY FULL, suggested for the first, covers the second: said once.
    expect(result.remedy).toBe('ALTER TABLE public.users ADD PRIMARY KEY (...); or ALTER TABLE public.users REPLICA IDENTITY FULL;');
  });

  test('partitions: WARN without publish_via_partition_root; the root is described', () => {
    const leaf = one({ name: 'orders_2024', partitionOf: 'public.orders' });
    expect(leaf.verdict).toBe('WARN');
    expect(leaf.reason).toContain('events name public.orders_2024, not public.orders');
    expect(leaf.remedy).toBe('ALTER PUBLICATION pub SET (publish_via_partition_root = true);');
    expect(one({ name: 'orders_2024', partitionOf: 'public.orders' }, { viaRoot: true }).verdict).toBe('OK');
    expect(one({ name: 'orders_2024', partitionOf: 'public.orders' }, { viaRoot: null }, 120000).remedy).toContain('tableTopicMapping');
    expect(one({ kind: 'p' }, { viaRoot: true }).reason).toContain('partitioned');
  });

  test('generated columns: PostgreSQL 18 WARNs unless publish_generated_columns = stored; before 18 a note', () => {
    const pg18 = one({ generated: ['total'] }, { generatedColumns: false }, 180000);
    expect(pg18.verdict).toBe('WARN');
    expect(pg18.remedy).toBe('ALTER PUBLICATION pub SET (publish_generated_columns = stored);');
    expect(one({ generated: ['total'] }, { generatedColumns: true }, 180000)).toMatchObject({ verdict: 'OK', reason: expect.stringContaining('total published') });
    expect(one({ generated: ['total'] }, {}, 170000)).toMatchObject({ verdict: 'OK', reason: expect.stringContaining('PostgreSQL 18+') });
  });

  test('names that need quoting are quoted in remedies', () => {
    expect(sqlName('Users')).toBe('"Users"');
    expect(sqlName('users_1')).toBe('users_1');
    expect(one({ schema: 'App', name: 'my table', primaryKey: [] }).remedy).toContain('ALTER TABLE "App"."my table" REPLICA IDENTITY FULL;');
  });
});

describe('slot', () => {
  test('missing: OK, created on first start', () => {
    expect(checkSlot('s', undefined, 'shop')).toMatchObject({ verdict: 'OK', reason: expect.stringContaining('created on first start') });
  });

  test('wrong plugin or type, other database: FAIL', () => {
    const decoding = checkSlot('s', slot({ plugin: 'test_decoding' }), 'shop');
    expect(decoding.verdict).toBe('FAIL');
    expect(decoding.reason).toContain('plugin test_decoding');
    expect(decoding.remedy).toStartWith("SELECT pg_drop_replication_slot('s');");
    expect(checkSlot('s', slot({ slotType: 'physical', plugin: null }), 'shop').verdict).toBe('FAIL');
    expect(checkSlot('s', slot({ database: 'other' }), 'shop').reason).toBe('belongs to database other, not shop');
  });

  test('wal_status: lost FAIL, unreserved and extended WARN, reserved OK', () => {
    expect(checkSlot('s', slot({ walStatus: 'lost', invalidation: 'wal_removed' }), 'shop')).toMatchObject({ verdict: 'FAIL', reason: expect.stringContaining('(wal_removed)') });
    expect(checkSlot('s', slot({ walStatus: 'reserved', invalidation: 'rows_removed' }), 'shop').reason).toContain('rows_removed');
    expect(checkSlot('s', slot({ walStatus: 'unreserved' }), 'shop').verdict).toBe('WARN');
    expect(checkSlot('s', slot({ walStatus: 'extended' }), 'shop').verdict).toBe('WARN');
    expect(checkSlot('s', slot({ safeWalSize: 3 * 1024 ** 3 }), 'shop')).toMatchObject({ verdict: 'OK', reason: 'logical pgoutput, wal_status reserved, 3.0 GB of WAL before it is lost' });
  });

  test('active: WARN naming the PID; PostgreSQL 17 flags are reported', () => {
    const active = checkSlot('s', slot({ activePid: 4242 }), 'shop');
    expect(active.verdict).toBe('WARN');
    expect(active.remedy).toContain('pg_terminate_backend(4242)');
    expect(checkSlot('s', slot({ failover: true, synced: false }), 'shop').reason).toBe('logical pgoutput, wal_status reserved, failover true, synced false');
  });
});

describe('connect remedies', () => {
  test('by SQLSTATE and by connect failure kind', async () => {
    const { connectRemedy } = await import('../../../../src/commands/check/postgres.ts');
    const { PgConnectError, PgError } = await import('../../../../src/pg/errors.ts');
    const pgError = (code: string) => new PgError({ severity: 'FATAL', severityCode: 'FATAL', code, message: 'x' } as never);
    expect(connectRemedy(pgError('42501'), 'App')).toBe('ALTER ROLE "App" REPLICATION;');
    expect(connectRemedy(pgError('28P01'), 'app')).toContain('password of app');
    expect(connectRemedy(pgError('28000'), 'app')).toContain('pg_hba.conf');
    expect(connectRemedy(new PgConnectError('refused', 'x', { host: 'h', port: 1 }), 'app')).toContain('listening');
    expect(connectRemedy(new PgConnectError('tls', 'x', { host: 'h', port: 1 }), 'app')).toContain('sslmode');
  });
});
