/**
 * The replication slot check of a PostgreSQL source (pure): missing (created on first start), or
 * usable by this source (logical, pgoutput, this database, free, not invalidated), with its
 * wal_status and, on PostgreSQL 17+, its failover and synced flags. docs/operations.md, "Readiness:
 * check --live", explains each verdict.
 */
import { quoteLiteral } from '../../replication/commands.ts';
import { fail, ok, warn, type CheckResult } from './result.ts';
import type { SlotInfo } from '../../replication/commands.ts';

export function checkSlot(slot: string, facts: SlotInfo | undefined, database: string): CheckResult {
  const dropSql = `SELECT pg_drop_replication_slot(${quoteLiteral(slot)});`;
  const drop = `${dropSql} if nothing else uses it, or choose another replicationSlot`;
  if (!facts) return ok('slot', 'does not exist yet: created on first start (logical, pgoutput)', slot);
  if (facts.slotType !== 'logical' || facts.plugin !== 'pgoutput') {
    return fail('slot', `is a ${facts.slotType} slot with plugin ${facts.plugin ?? 'none'}, not a logical pgoutput slot: the source refuses it`, drop, slot);
  }
  if (facts.database !== null && facts.database !== database) {
    return fail('slot', `belongs to database ${facts.database}, not ${database}`, 'choose another replicationSlot (slots are per database)', slot);
  }
  if (facts.walStatus === 'lost' || facts.invalidation !== null) {
    const why = facts.invalidation ?? 'wal_status = lost';
    return fail('slot', `is invalidated (${why}): the WAL it needed is gone, changes since its position cannot be streamed`,
      `${dropSql} then start the streamer to create it anew (changes in between are lost: re-snapshot the tables)`, slot);
  }
  const parts = ['logical pgoutput'];
  if (facts.walStatus !== null) parts.push(`wal_status ${facts.walStatus}`);
  if (facts.safeWalSize !== null) parts.push(`${formatBytes(facts.safeWalSize)} of WAL before it is lost`);
  if (facts.failover !== null) parts.push(`failover ${facts.failover}`);
  if (facts.synced !== null) parts.push(`synced ${facts.synced}`);
  const reason = parts.join(', ');
  if (facts.walStatus === 'unreserved') {
    return warn('slot', `${reason}: its WAL is past max_slot_wal_keep_size and will be removed at the next checkpoint (the slot is then lost)`,
      'start the streamer now so it catches up, or raise max_slot_wal_keep_size (ALTER SYSTEM SET ...; SELECT pg_reload_conf();)', slot);
  }
  if (facts.walStatus === 'extended') {
    return warn('slot', `${reason}: it keeps more WAL than max_wal_size (the consumer is far behind)`,
      'let the streamer catch up; check its sinks and source_wal_lag_bytes', slot);
  }
  if (facts.activePid !== null) {
    return warn('slot', `${reason}; in use by PID ${facts.activePid}: the source stands by until it is free`,
      `stop the other consumer (another psql-streamer on this config?), or SELECT pg_terminate_backend(${facts.activePid});`, slot);
  }
  return ok('slot', reason, slot);
}

function formatBytes(bytes: number): string {
  if (bytes < 0) return `${bytes} bytes`;
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
