/**
 * Replication-protocol commands and the catalog queries run before streaming, as pure builders
 * and parsers of their results. Identifiers and literals always go through `quoteIdent` /
 * `quoteLiteral`: a slot or publication name never reaches the server unquoted.
 * https://www.postgresql.org/docs/current/protocol-replication.html
 */
import { formatLsn, type Lsn } from './lsn.ts';

/** `"name"` with embedded double quotes doubled. */
export function quoteIdent(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

/** `'text'` with embedded single quotes doubled; backslashes stay literal (standard strings). */
export function quoteLiteral(text: string): string {
  if (text.includes('\0')) throw new Error('a NUL character cannot be sent in a literal');
  return "'" + text.replaceAll("'", "''") + "'";
}

/** The publication names of the config's comma list (`"a, b"` → `["a", "b"]`). */
export function publicationNames(list: string): string[] {
  return list.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
}

/** pgoutput protocol version to request: the highest the server speaks (we enable no streaming). */
export function protoVersionFor(serverVersionNum: number): number {
  if (serverVersionNum >= 160000) return 4;
  if (serverVersionNum >= 150000) return 3;
  if (serverVersionNum >= 140000) return 2;
  return 1;
}

/** Whether pgoutput accepts the `messages` option (logical decoding messages; PostgreSQL 14+). */
export function supportsMessages(serverVersionNum: number): boolean {
  return serverVersionNum >= 140000;
}

export const SHOW_WAL_LEVEL = 'SHOW wal_level';

/** The publications of `names` that exist. */
export function existingPublicationsSql(names: readonly string[]): string {
  return `SELECT pubname FROM pg_catalog.pg_publication WHERE pubname IN (${names.map(quoteLiteral).join(', ')})`;
}

/** What IDENTIFY_SYSTEM answers: which cluster, which timeline, and how far its WAL goes. */
export interface SystemIdentity {
  /** The cluster's system identifier (decimal text of a 64-bit number): shared by a primary and its physical standbys. */
  systemId: string;
  timeline: number;
  /** The current WAL flush position (on a standby: what it has replayed or received). */
  xlogpos: Lsn;
  /** The database of a `replication=database` connection. */
  database: string | null;
}

export const IDENTIFY_SYSTEM = 'IDENTIFY_SYSTEM';

/** Parses the single row of IDENTIFY_SYSTEM (systemid, timeline, xlogpos, dbname). */
export function parseIdentifySystem(rows: readonly (readonly (string | null)[])[], parseLsn: (text: string) => Lsn): SystemIdentity {
  const row = rows[0];
  const [systemId, timeline, xlogpos, database] = row ?? [];
  if (!systemId || !/^\d+$/.test(systemId) || !timeline || !/^\d+$/.test(timeline) || !xlogpos) {
    throw new Error(`unexpected IDENTIFY_SYSTEM result ${JSON.stringify(row ?? null)}`);
  }
  return { systemId, timeline: Number(timeline), xlogpos: parseLsn(xlogpos), database: database ?? null };
}

export interface SlotInfo {
  plugin: string | null;
  slotType: string;
  database: string | null;
  activePid: number | null;
  confirmedFlush: Lsn | null;
  /** Oldest WAL the slot keeps (null when it reserves none). */
  restartLsn: Lsn | null;
  /** PG 13+: reserved | extended | unreserved | lost; null on older servers. */
  walStatus: string | null;
  /**
   * Why PostgreSQL invalidated the slot, when it did: PG 17+ `invalidation_reason`; on 16 a
   * standby's `conflicting`; on 13–16 `wal_status = lost` (reason "wal_removed"). Null when usable.
   */
  invalidation: string | null;
  /** PG 17+: the slot is synchronised to standbys (`failover`); null on older servers. */
  failover: boolean | null;
  /** PG 17+: this is a standby's copy synchronised from the primary (`synced`); null on older servers. */
  synced: boolean | null;
  /** PG 13+: bytes of WAL that can still be written before the slot is lost (`safe_wal_size`); null when unlimited or older. */
  safeWalSize: number | null;
}

/** The slot's row of pg_replication_slots (zero rows when it does not exist), with the columns the server has. */
export function slotInfoSql(slot: string, serverVersionNum = 0): string {
  const v13 = serverVersionNum >= 130000;
  const columns = [
    'plugin', 'slot_type', 'database', 'active_pid', 'confirmed_flush_lsn', 'restart_lsn',
    v13 ? 'wal_status' : 'NULL',
    serverVersionNum >= 170000 ? 'invalidation_reason' : serverVersionNum >= 160000 ? "CASE WHEN conflicting THEN 'conflict' END" : 'NULL',
    serverVersionNum >= 170000 ? 'failover' : 'NULL',
    serverVersionNum >= 170000 ? 'synced' : 'NULL',
    v13 ? 'safe_wal_size' : 'NULL',
  ];
  return `SELECT ${columns.join(', ')} FROM pg_catalog.pg_replication_slots WHERE slot_name = ${quoteLiteral(slot)}`;
}

/** Parses the row of `slotInfoSql`; undefined when the slot does not exist. */
export function parseSlotInfo(rows: readonly (readonly (string | null)[])[], parseLsn: (text: string) => Lsn): SlotInfo | undefined {
  const row = rows[0];
  if (!row) return undefined;
  const [plugin, slotType, database, activePid, confirmedFlush, restartLsn, walStatus, invalidationReason, failover, synced, safeWalSize] = row;
  const bool = (text: string | null | undefined) => (text === 't' ? true : text === 'f' ? false : null);
  return {
    plugin: plugin ?? null,
    slotType: slotType ?? '',
    database: database ?? null,
    activePid: activePid ? Number(activePid) : null,
    confirmedFlush: confirmedFlush ? parseLsn(confirmedFlush) : null,
    restartLsn: restartLsn ? parseLsn(restartLsn) : null,
    walStatus: walStatus ?? null,
    invalidation: invalidationReason ?? (walStatus === 'lost' ? 'wal_removed' : null),
    failover: bool(failover),
    synced: bool(synced),
    safeWalSize: safeWalSize ? Number(safeWalSize) : null,
  };
}

/**
 * A permanent pgoutput slot without an exported snapshot. Without failover the pre-15 syntax is
 * used on purpose: it is accepted by every version from 10 on. With failover (PostgreSQL 17+:
 * the slot is synchronised to standbys that have sync_replication_slots on, docs/operations.md)
 * the option-list syntax of 15+ is needed: `(SNAPSHOT 'nothing', FAILOVER true)`.
 */
export function createSlotCommand(slot: string, options: { failover?: boolean } = {}): string {
  if (options.failover) return `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput (SNAPSHOT 'nothing', FAILOVER true)`;
  return `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput NOEXPORT_SNAPSHOT`;
}

/** Whether the server has failover slots (CREATE_REPLICATION_SLOT ... FAILOVER; PostgreSQL 17+). */
export function supportsFailoverSlots(serverVersionNum: number): boolean {
  return serverVersionNum >= 170000;
}

/** True on a standby (hot standby decoding, PostgreSQL 16+): its slots cannot be failover slots. */
export const IN_RECOVERY_SQL = 'SELECT pg_catalog.pg_is_in_recovery()';

export interface StartReplicationOptions {
  slot: string;
  start: Lsn;
  protoVersion: number;
  publications: readonly string[];
  messages: boolean;
}

/** `START_REPLICATION SLOT "s" LOGICAL X/Y ("proto_version" '1', "publication_names" '"a","b"', ...)`. */
export function startReplicationCommand(options: StartReplicationOptions): string {
  // publication_names is itself a list of identifiers parsed by the server (SplitIdentifierString),
  // so each name is quoted as an identifier inside the literal.
  const publications = options.publications.map(quoteIdent).join(',');
  const args = [`"proto_version" ${quoteLiteral(String(options.protoVersion))}`, `"publication_names" ${quoteLiteral(publications)}`];
  if (options.messages) args.push(`"messages" 'true'`);
  return `START_REPLICATION SLOT ${quoteIdent(options.slot)} LOGICAL ${formatLsn(options.start)} (${args.join(', ')})`;
}
