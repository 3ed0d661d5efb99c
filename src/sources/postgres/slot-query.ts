/**
 * The slot monitor's SQL (run on an ordinary connection, see docs/operations.md "WAL retention, lag
 * and budget") as pure builders and row parsers. One query reads the server's WAL end and the
 * slot's row; PostgreSQL 13+ columns (`wal_status`, `safe_wal_size`) are read through
 * `to_jsonb(row)`, so an older server without them answers NULL instead of an error.
 */
import { quoteLiteral } from '../../replication/commands.ts';
import { parseLsn, type Lsn } from '../../replication/lsn.ts';

/** What one poll learnt about the server and the slot. */
export interface SlotSample {
  /** The server is a standby (`pg_is_in_recovery()`). */
  inRecovery: boolean;
  /**
   * The server's WAL end: `pg_current_wal_lsn()` on a primary; on a standby
   * `pg_last_wal_replay_lsn()` (what logical decoding there can read), else the receive LSN.
   */
  walEnd: Lsn;
  /** False when no slot of that name exists. */
  slotExists: boolean;
  confirmedFlush: Lsn | null;
  restart: Lsn | null;
  /** `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+); null before 13 or when unknown. */
  walStatus: string | null;
  /** Bytes that can still be written before the slot is in danger of being lost; null when unlimited or before 13. */
  safeWalSize: number | null;
}

/** The slot monitor's query: one row, slot columns NULL when the slot does not exist. */
export function slotSampleSql(slot: string): string {
  return 'SELECT pg_catalog.pg_is_in_recovery()::text, ' +
    'CASE WHEN pg_catalog.pg_is_in_recovery() ' +
    'THEN coalesce(pg_catalog.pg_last_wal_replay_lsn(), pg_catalog.pg_last_wal_receive_lsn()) ' +
    'ELSE pg_catalog.pg_current_wal_lsn() END::text, ' +
    "s.j IS NOT NULL, s.j ->> 'confirmed_flush_lsn', s.j ->> 'restart_lsn', s.j ->> 'wal_status', s.j ->> 'safe_wal_size' " +
    'FROM (SELECT 1) AS one LEFT JOIN (SELECT to_jsonb(r) AS j FROM pg_catalog.pg_replication_slots AS r ' +
    `WHERE r.slot_name = ${quoteLiteral(slot)}) AS s ON true`;
}

/** Parses the row of `slotSampleSql`; throws with what is wrong on anything unexpected. */
export function parseSlotSample(rows: readonly (readonly (string | null)[])[]): SlotSample {
  const row = rows[0];
  if (row === undefined || row.length < 7) throw new Error(`the slot query returned ${rows.length} row(s) of ${row?.length ?? 0} column(s), expected 1 of 7`);
  const [recovery, walEnd, exists, confirmed, restart, walStatus, safe] = row;
  if (walEnd === null || walEnd === undefined) throw new Error('the server reported no WAL position (a standby that has not received WAL yet?)');
  let safeWalSize: number | null = null;
  if (safe !== null && safe !== undefined) {
    safeWalSize = Number(safe);
    if (!Number.isFinite(safeWalSize)) throw new Error(`safe_wal_size is not a number: ${JSON.stringify(safe)}`);
  }
  return {
    inRecovery: recovery === 'true' || recovery === 't',
    walEnd: parseLsn(walEnd),
    slotExists: exists === 't' || exists === 'true',
    confirmedFlush: confirmed ? parseLsn(confirmed) : null,
    restart: restart ? parseLsn(restart) : null,
    walStatus: walStatus ?? null,
    safeWalSize,
  };
}

/** Writes one non-transactional logical decoding message with `prefix`: the heartbeat. Returns its LSN. */
export function heartbeatSql(prefix: string, nowIso: string): string {
  return `SELECT pg_catalog.pg_logical_emit_message(false, ${quoteLiteral(prefix)}, ${quoteLiteral(nowIso)})::text`;
}

/** The LSN `heartbeatSql` returned. */
export function parseHeartbeat(rows: readonly (readonly (string | null)[])[]): Lsn {
  const text = rows[0]?.[0];
  if (typeof text !== 'string') throw new Error('pg_logical_emit_message returned no position');
  return parseLsn(text);
}
