/**
 * The catalog queries of `check --live` for a PostgreSQL source, as pure builders (columns that a
 * server version lacks are selected as NULL) and parsers of their text rows into facts. Names reach
 * the server only through quoteLiteral. docs/operations.md, "Readiness: check --live", lists what is
 * checked with them.
 */
import { quoteIdent, quoteLiteral } from '../../replication/commands.ts';

type Row = readonly (string | null)[];

/** An identifier as a remedy's SQL needs it: bare when it is a plain lower-case name, else quoted. */
export function sqlName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}

const list = (names: readonly string[]): string => names.map(quoteLiteral).join(', ');
const bool = (text: string | null | undefined): boolean | null => (text === 't' || text === 'true' ? true : text === 'f' || text === 'false' ? false : null);
const int = (text: string | null | undefined): number | null => (text === null || text === undefined || text === '' ? null : Number(text));
const names = (text: string | null | undefined): string[] => (text ? text.split('\u0001') : []);

/** Server settings the checks read (pg_settings: units are the settings' own, MB and ms here). */
export const SETTING_NAMES = [
  'server_version', 'server_version_num', 'wal_level', 'max_replication_slots', 'max_wal_senders',
  'max_slot_wal_keep_size', 'wal_sender_timeout',
] as const;

export interface ServerFacts {
  version: string;
  versionNum: number;
  walLevel: string;
  maxReplicationSlots: number;
  maxWalSenders: number;
  /** MB; -1 unlimited; undefined before PostgreSQL 13 (no such setting). */
  maxSlotWalKeepSizeMb: number | undefined;
  /** ms; 0 disabled. */
  walSenderTimeoutMs: number;
}

export function settingsSql(): string {
  return `SELECT name, setting FROM pg_catalog.pg_settings WHERE name IN (${list(SETTING_NAMES)})`;
}

export function parseSettings(rows: readonly Row[]): ServerFacts {
  const settings = new Map(rows.map((row) => [row[0] ?? '', row[1] ?? '']));
  const number = (name: string): number => Number(settings.get(name) ?? NaN);
  return {
    version: settings.get('server_version') ?? '',
    versionNum: number('server_version_num'),
    walLevel: settings.get('wal_level') ?? '',
    maxReplicationSlots: number('max_replication_slots'),
    maxWalSenders: number('max_wal_senders'),
    maxSlotWalKeepSizeMb: settings.has('max_slot_wal_keep_size') ? number('max_slot_wal_keep_size') : undefined,
    walSenderTimeoutMs: number('wal_sender_timeout'),
  };
}

/** The connecting role, how busy the replication resources are, and whether this connection uses TLS. */
export interface SessionFacts {
  role: string;
  replication: boolean;
  superuser: boolean;
  slotsUsed: number;
  walSendersUsed: number;
  tls: boolean;
  database: string;
}

export function sessionSql(): string {
  return 'SELECT r.rolname, r.rolreplication, r.rolsuper, ' +
    '(SELECT count(*) FROM pg_catalog.pg_replication_slots), ' +
    '(SELECT count(*) FROM pg_catalog.pg_stat_replication), ' +
    '(SELECT s.ssl FROM pg_catalog.pg_stat_ssl s WHERE s.pid = pg_catalog.pg_backend_pid()), ' +
    'pg_catalog.current_database() ' +
    'FROM pg_catalog.pg_roles r WHERE r.rolname = current_user';
}

export function parseSession(rows: readonly Row[]): SessionFacts {
  const row = rows[0] ?? [];
  return {
    role: row[0] ?? '',
    replication: bool(row[1]) === true,
    superuser: bool(row[2]) === true,
    slotsUsed: int(row[3]) ?? 0,
    walSendersUsed: int(row[4]) ?? 0,
    tls: bool(row[5]) === true,
    database: row[6] ?? '',
  };
}

export interface PublicationFacts {
  name: string;
  allTables: boolean;
  insert: boolean;
  update: boolean;
  delete: boolean;
  /** null before PostgreSQL 11. */
  truncate: boolean | null;
  /** publish_via_partition_root; null before PostgreSQL 13. */
  viaRoot: boolean | null;
  /** publish_generated_columns = stored; null before PostgreSQL 18. */
  generatedColumns: boolean | null;
}

/** Candidate names (each configured name and its lower-cased form, as the source resolves them). */
export function publicationsSql(candidates: readonly string[], versionNum: number): string {
  const truncate = versionNum >= 110000 ? 'pubtruncate' : 'NULL';
  const viaRoot = versionNum >= 130000 ? 'pubviaroot' : 'NULL';
  // PostgreSQL 18: "char" 'n' (none) or 's' (stored).
  const generated = versionNum >= 180000 ? 'pubgencols::text' : 'NULL';
  return `SELECT pubname, puballtables, pubinsert, pubupdate, pubdelete, ${truncate}, ${viaRoot}, ${generated} ` +
    `FROM pg_catalog.pg_publication WHERE pubname IN (${list(candidates)}) ORDER BY pubname`;
}

export function parsePublications(rows: readonly Row[]): PublicationFacts[] {
  return rows.map((row) => ({
    name: row[0] ?? '',
    allTables: bool(row[1]) === true,
    insert: bool(row[2]) === true,
    update: bool(row[3]) === true,
    delete: bool(row[4]) === true,
    truncate: bool(row[5]),
    viaRoot: bool(row[6]),
    generatedColumns: row[7] === null || row[7] === undefined ? null : row[7] === 's' || row[7] === 'true' || row[7] === 't',
  }));
}

export type ReplicaIdentity = 'default' | 'full' | 'index' | 'nothing';
const IDENTITIES: Record<string, ReplicaIdentity> = { d: 'default', f: 'full', i: 'index', n: 'nothing' };

export interface TableFacts {
  schema: string;
  name: string;
  /** The configured publications that publish it. */
  publications: string[];
  /** pg_class.relkind: r table, p partitioned table. */
  kind: string;
  identity: ReplicaIdentity;
  primaryKey: string[];
  /** The REPLICA IDENTITY USING INDEX index, when set and present. */
  identityIndex: string | null;
  /** Columns whose values can be TOASTed (storage extended or external). */
  toastable: string[];
  /** Stored generated columns (PostgreSQL 12+). */
  generated: string[];
  /** `schema.table` of the parent when it is a partition. */
  partitionOf: string | null;
}

/**
 * The published tables of the (existing) publications with what decides how their changes decode.
 * Column names are joined with U+0001, which no name contains.
 */
export function publishedTablesSql(publications: readonly string[], versionNum: number): string {
  const columns = (condition: string) =>
    `(SELECT string_agg(a.attname::text, E'\\x01' ORDER BY a.attnum) FROM pg_catalog.pg_attribute a ` +
    `WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND ${condition})`;
  const generated = versionNum >= 120000 ? columns("a.attgenerated = 's'") : 'NULL';
  return 'WITH published AS (' +
    "SELECT schemaname, tablename, string_agg(pubname::text, E'\\x01' ORDER BY pubname) AS pubs " +
    `FROM pg_catalog.pg_publication_tables WHERE pubname IN (${list(publications)}) GROUP BY schemaname, tablename) ` +
    'SELECT p.schemaname, p.tablename, p.pubs, c.relkind, c.relreplident, ' +
    "(SELECT string_agg(a.attname::text, E'\\x01' ORDER BY array_position(i.indkey::int2[], a.attnum)) " +
    'FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) ' +
    'WHERE i.indrelid = c.oid AND i.indisprimary), ' +
    '(SELECT ic.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid ' +
    'WHERE i.indrelid = c.oid AND i.indisreplident LIMIT 1), ' +
    `${columns("a.attstorage IN ('x', 'e')")}, ${generated}, ` +
    "(SELECT pn.nspname || '.' || pc.relname FROM pg_catalog.pg_inherits h JOIN pg_catalog.pg_class pc ON pc.oid = h.inhparent " +
    'JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace WHERE h.inhrelid = c.oid AND c.relispartition LIMIT 1) ' +
    'FROM published p JOIN pg_catalog.pg_namespace n ON n.nspname = p.schemaname ' +
    'JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename ' +
    'ORDER BY p.schemaname, p.tablename';
}

export function parsePublishedTables(rows: readonly Row[]): TableFacts[] {
  return rows.map((row) => ({
    schema: row[0] ?? '',
    name: row[1] ?? '',
    publications: names(row[2]),
    kind: row[3] ?? 'r',
    identity: IDENTITIES[row[4] ?? 'd'] ?? 'default',
    primaryKey: names(row[5]),
    identityIndex: row[6] ?? null,
    toastable: names(row[7]),
    generated: names(row[8]),
    partitionOf: row[9] ?? null,
  }));
}
