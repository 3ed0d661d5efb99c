/**
 * `check --live` for one PostgreSQL source: the I/O. It resolves the DSN exactly as the source does,
 * reads the catalog over one ordinary connection (pg/sql-client.ts), then opens a replication connection (the proof
 * that REPLICATION works) and runs IDENTIFY_SYSTEM, and reads the source's saved position from the
 * state file when it exists. The verdicts come from the pure checks in postgres-server.ts,
 * postgres-tables.ts, postgres-slot.ts and position.ts; docs/operations.md, "Readiness: check
 * --live", lists them.
 */
import { existsSync } from 'node:fs';
import { describeError } from '../../core/errors.ts';
import { PgConnection, type ConnectOptions } from '../../pg/connection.ts';
import { SqlClient } from '../../pg/sql-client.ts';
import { loadDsn } from '../../pg/conninfo/dsn.ts';
import { PgConnectError, PgError } from '../../pg/errors.ts';
import { sourceConnectOptions } from '../../sources/postgres/create.ts';
import type { PostgresSourceOptions } from '../../sources/postgres/spec.ts';
import { IDENTIFY_SYSTEM, parseIdentifySystem, parseSlotInfo, publicationNames, slotInfoSql, type SlotInfo, type SystemIdentity } from '../../replication/commands.ts';
import { formatLsn, parseLsn } from '../../replication/lsn.ts';
import { openSqliteStateStore } from '../../state/sqlite-store.ts';
import type { ServerIdentity } from '../../state/store.ts';
import { checkPosition } from './position.ts';
import {
  parsePublications, parsePublishedTables, parseSession, parseSettings, publicationsSql, publishedTablesSql,
  sessionSql, settingsSql, sqlName,
} from './postgres-sql.ts';
import {
  checkReplicationRole, checkSlotHeadroom, checkSlotWalKeepSize, checkVersion, checkWalLevel, checkWalSenderHeadroom, checkWalSenderTimeout,
} from './postgres-server.ts';
import { checkSlot } from './postgres-slot.ts';
import { checkPublications, checkTables, resolvePublications } from './postgres-tables.ts';
import { fail, ok, warn, type CheckGroup, type CheckResult } from './result.ts';

/** What to do about a failed connection, by its kind or SQLSTATE (pure). */
export function connectRemedy(err: unknown, login: string): string {
  const user = sqlName(login);
  if (err instanceof PgError) {
    if (err.code === '28P01') return `check the password of ${user} (dsn, PGPASSWORD or ~/.pgpass)`;
    if (err.code === '28000') return `allow ${user} in pg_hba.conf for this host and database (and sslmode), then SELECT pg_reload_conf();`;
    if (err.code === '3D000') return 'fix dbname in the dsn, or CREATE DATABASE';
    if (err.code === '42501') return `ALTER ROLE ${user} REPLICATION;`;
    if (err.code === '53300') return 'raise max_connections / max_wal_senders, or end idle sessions';
    return 'see the server\'s message; the server log has details';
  }
  if (err instanceof PgConnectError) {
    if (err.kind === 'refused' || err.kind === 'unreachable') return 'check host and port in the dsn, and that PostgreSQL is running and listening there (listen_addresses)';
    if (err.kind === 'dns') return 'check the host name in the dsn';
    if (err.kind === 'timeout') return 'check the network path and firewall, or raise the source\'s timeout';
    if (err.kind === 'tls') return 'check sslmode, sslrootcert and the server\'s certificate (ssl = on)';
    return 'check the dsn';
  }
  return 'check the dsn';
}

function targetOf(connection: ConnectOptions): string {
  const at = connection.host.startsWith('/') ? `socket ${connection.host}` : `${connection.hostaddr ?? connection.host}:${connection.port}`;
  return `${at} dbname=${connection.database} user=${connection.user}`;
}

/** Where the check runs: the config file (named in remedies) and its state file. */
export interface CheckContext {
  configFile: string;
  stateFile: string | undefined;
}

export async function checkPostgresSource(name: string, options: PostgresSourceOptions, context: CheckContext): Promise<CheckGroup> {
  const group: CheckGroup = { kind: 'source', name, type: 'postgres', results: [] };
  const dsnWarnings: string[] = [];
  let connection: ConnectOptions;
  try {
    connection = sourceConnectOptions(options, loadDsn(options.dsn, (message) => dsnWarnings.push(message)));
  } catch (err) {
    group.results.push(fail('dsn', describeError(err), `fix source.${name}.dsn`));
    return group;
  }
  group.target = targetOf(connection);
  for (const message of dsnWarnings) group.results.push(warn('dsn', message, 'see the message'));
  const catalog = await checkCatalog(options, connection);
  group.results.push(...catalog.results);
  // When even the ordinary connection failed, a replication one would only repeat why.
  if (!catalog.connected) return group;
  const replication = await checkReplicationConnection(connection);
  group.results.push(replication.result);
  if (replication.identity && catalog.slot) group.results.push(checkSavedPosition(name, options, context, replication.identity, catalog.slot.info));
  return group;
}

interface CatalogOutcome {
  results: CheckResult[];
  connected: boolean;
  /** The slot's row as the source reads it (info undefined: no such slot); undefined when it could not be read. */
  slot?: { info: SlotInfo | undefined };
}

/** Everything read over the ordinary connection; a failed connect is the only result then. */
async function checkCatalog(options: PostgresSourceOptions, connection: ConnectOptions): Promise<CatalogOutcome> {
  let conn: SqlClient;
  try {
    conn = await SqlClient.connect(connection);
  } catch (err) {
    return { results: [fail('connect', describeError(err), connectRemedy(err, connection.user))], connected: false };
  }
  const outcome: CatalogOutcome = { results: [], connected: true };
  const results = outcome.results;
  try {
    const query = (sql: string) => conn.query(sql);
    const server = parseSettings(await query(settingsSql()));
    const session = parseSession(await query(sessionSql()));
    results.push(ok('connect', `as ${session.role} to ${session.database}, ${session.tls ? 'TLS' : 'no TLS'} (sslmode ${connection.sslmode})`));
    results.push(checkVersion(server), checkWalLevel(server), checkReplicationRole(session));

    const configured = publicationNames(options.publication);
    const candidates = [...new Set(configured.flatMap((n) => [n, n.toLowerCase()]))];
    const publications = parsePublications(await query(publicationsSql(candidates, server.versionNum)));
    const existing = resolvePublications(configured, publications).flatMap(({ facts }) => (facts ? [facts.name] : []));
    const tables = existing.length > 0 ? parsePublishedTables(await query(publishedTablesSql(existing, server.versionNum))) : [];
    results.push(...checkPublications(configured, publications, tables, session.database));
    results.push(...checkTables(tables, publications, server.versionNum, options.snapshot !== 'never'));

    const slot = options.replicationSlot;
    const info = parseSlotInfo(await query(slotInfoSql(slot, server.versionNum)), parseLsn);
    outcome.slot = { info };
    results.push(checkSlot(slot, info, session.database));
    results.push(checkSlotHeadroom(server, session, info !== undefined), checkWalSenderHeadroom(server, session));
    results.push(checkSlotWalKeepSize(server), checkWalSenderTimeout(server, options.statusInterval));
  } catch (err) {
    results.push(fail('catalog', `reading the catalog failed: ${describeError(err)}`, 'see the server\'s message (does the role have USAGE on pg_catalog?)'));
  } finally {
    await conn.close().catch(() => {});
  }
  return outcome;
}

/** Opens the source's replication connection (replication=database) and runs IDENTIFY_SYSTEM. */
async function checkReplicationConnection(connection: ConnectOptions): Promise<{ result: CheckResult; identity?: SystemIdentity }> {
  let conn: PgConnection;
  try {
    conn = await PgConnection.connect(connection);
  } catch (err) {
    return { result: fail('replication_connection', describeError(err), connectRemedy(err, connection.user)) };
  }
  conn.onNotice(() => {});
  try {
    const [result] = await conn.simpleQuery(IDENTIFY_SYSTEM);
    const identity = parseIdentifySystem(result?.rows ?? [], parseLsn);
    const reason = `IDENTIFY_SYSTEM: system ${identity.systemId}, timeline ${identity.timeline}, WAL at ${formatLsn(identity.xlogpos)}`;
    return { result: ok('replication_connection', reason), identity };
  } catch (err) {
    return { result: fail('replication_connection', `IDENTIFY_SYSTEM failed: ${describeError(err)}`, 'check that this is a PostgreSQL server (not a pooler in transaction mode)') };
  } finally {
    await conn.close().catch(() => {});
  }
}

/**
 * The source's saved position and cluster from the state file, when the file exists (it is never
 * created here), judged as the source would judge them at its next start.
 */
function checkSavedPosition(name: string, options: PostgresSourceOptions, context: CheckContext, server: SystemIdentity, slotInfo: SlotInfo | undefined): CheckResult {
  let saved: bigint | undefined;
  let savedIdentity: ServerIdentity | undefined;
  if (context.stateFile !== undefined && existsSync(context.stateFile)) {
    try {
      const store = openSqliteStateStore(context.stateFile);
      try {
        saved = store.getPosition(name);
        savedIdentity = store.getServerIdentity(name);
      } finally {
        store.close();
      }
    } catch (err) {
      return fail('position', describeError(err), `fix or move away the state file ${context.stateFile}`);
    }
  }
  const override = options.walPositionOverride;
  return checkPosition({
    source: name,
    slot: options.replicationSlot,
    resumeFrom: override > 0n ? override : saved ?? 0n,
    fromOverride: override > 0n,
    savedIdentity,
    server,
    slotInfo,
    configFile: context.configFile,
  });
}
