/**
 * Server-wide checks of a PostgreSQL source (pure: facts in, results out): version, wal_level,
 * replication slot and walsender headroom, the role's REPLICATION attribute, max_slot_wal_keep_size
 * and wal_sender_timeout against the source's statusInterval. Each verdict and remedy is explained in
 * docs/operations.md, "Readiness: check --live".
 */
import { fail, ok, warn, type CheckResult } from './result.ts';
import { sqlName, type ServerFacts, type SessionFacts } from './postgres-sql.ts';

const RELOAD = 'SELECT pg_reload_conf();';

export function checkVersion(server: ServerFacts): CheckResult {
  if (!(server.versionNum >= 100000)) {
    return fail('server_version', `PostgreSQL ${server.version} has no logical replication (pgoutput)`, 'use PostgreSQL 10 or later (13+ recommended)');
  }
  return ok('server_version', `PostgreSQL ${server.version}`);
}

export function checkWalLevel(server: ServerFacts): CheckResult {
  if (server.walLevel === 'logical') return ok('wal_level', 'logical');
  return fail('wal_level', `wal_level is "${server.walLevel}": logical decoding needs "logical"`,
    'ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL');
}

/** Used vs max: FAIL when none is free for us, WARN when at most one is. */
function headroom(check: string, setting: string, used: number, max: number, needed: number, what: string): CheckResult {
  const free = max - used;
  const reason = `${used} of ${max} in use (${Math.max(0, free)} free)`;
  const remedy = `ALTER SYSTEM SET ${setting} = ${Math.max(max * 2, used + 4)}; then restart PostgreSQL`;
  if (free < needed) return fail(check, `${reason}: ${what}`, remedy);
  if (free <= 1) return warn(check, `${reason}: one more consumer and none is left`, remedy);
  return ok(check, reason);
}

/** `slotExists`: whether the source's slot already exists (else it needs a free one). */
export function checkSlotHeadroom(server: ServerFacts, session: SessionFacts, slotExists: boolean): CheckResult {
  return headroom('max_replication_slots', 'max_replication_slots', session.slotsUsed, server.maxReplicationSlots, slotExists ? 0 : 1,
    'the source cannot create its slot');
}

export function checkWalSenderHeadroom(server: ServerFacts, session: SessionFacts): CheckResult {
  return headroom('max_wal_senders', 'max_wal_senders', session.walSendersUsed, server.maxWalSenders, 1,
    'the source cannot open its replication connection');
}

export function checkReplicationRole(session: SessionFacts): CheckResult {
  if (session.superuser) return ok('replication_role', `role ${session.role} is a superuser`);
  if (session.replication) return ok('replication_role', `role ${session.role} has REPLICATION`);
  return fail('replication_role', `role ${session.role} has neither REPLICATION nor SUPERUSER: it cannot start logical replication`,
    `ALTER ROLE ${sqlName(session.role)} REPLICATION;`);
}

export function checkSlotWalKeepSize(server: ServerFacts): CheckResult {
  const size = server.maxSlotWalKeepSizeMb;
  if (size === undefined) {
    return warn('max_slot_wal_keep_size', `PostgreSQL ${server.version} cannot cap the WAL a slot keeps: a stopped or stuck streamer makes the primary keep WAL until its disk is full`,
      'watch the slot\'s retained WAL (pg_current_wal_lsn() - restart_lsn in pg_replication_slots); PostgreSQL 13+ can cap it with max_slot_wal_keep_size');
  }
  if (size < 0) {
    return warn('max_slot_wal_keep_size', 'unlimited (-1): a stopped or stuck streamer makes the primary keep WAL until its disk is full and PostgreSQL stops',
      `ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; ${RELOAD} (size it below the free disk; a slot further behind is invalidated, wal_status = lost, and must be re-created)`);
  }
  return ok('max_slot_wal_keep_size', `${formatMb(size)}: a slot further behind is invalidated (wal_status = lost) instead of filling the disk`);
}

function formatMb(mb: number): string {
  return mb >= 1024 && mb % 1024 === 0 ? `${mb / 1024} GB` : `${mb} MB`;
}

const seconds = (ms: number): string => `${ms / 1000}s`;

/** The walsender ends a connection silent for wal_sender_timeout; the source reports every statusInterval. */
export function checkWalSenderTimeout(server: ServerFacts, statusIntervalMs: number): CheckResult {
  const timeout = server.walSenderTimeoutMs;
  if (timeout === 0) {
    return warn('wal_sender_timeout', '0 (disabled): a streamer whose connection died unseen keeps the slot active until TCP gives up, and a restarted one waits for it',
      `ALTER SYSTEM SET wal_sender_timeout = '60s'; ${RELOAD}`);
  }
  if (statusIntervalMs >= timeout) {
    return warn('wal_sender_timeout', `${seconds(timeout)} is not above the source's statusInterval (${seconds(statusIntervalMs)}): the walsender times out connections that report less often, e.g. while the source's reading is paused by back-pressure`,
      `set statusInterval below ${seconds(Math.floor(timeout / 2))} in the source's config, or raise wal_sender_timeout (ALTER SYSTEM SET wal_sender_timeout = '${Math.ceil((statusIntervalMs * 3) / 1000)}s'; ${RELOAD})`);
  }
  return ok('wal_sender_timeout', `${seconds(timeout)}, above statusInterval (${seconds(statusIntervalMs)})`);
}
