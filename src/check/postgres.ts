/**
 * `check --live` for one PostgreSQL source: the I/O. It resolves the DSN exactly as the source does,
 * reads the catalog over one ordinary connection, then opens a replication connection (the proof
 * that REPLICATION works) and runs IDENTIFY_SYSTEM. The verdicts come from the pure checks in
 * postgres-server.ts, postgres-tables.ts and postgres-slot.ts; docs/operations.md, "Readiness:
 * check --live", lists them.
 */
import { describeError } from '../core/errors.ts';
import { PgConnection, type ConnectOptions } from '../pg/connection.ts';
import { loadDsn } from '../pg/dsn.ts';
import { PgConnectError, PgError } from '../pg/errors.ts';
import { sourceConnectOptions } from '../postgres/create.ts';
import type { PostgresSourceOptions } from '../postgres/source-spec.ts';
import { publicationNames } from '../replication/commands.ts';
import {
  parseIdentifySystem, parsePublications, sqlName, parsePublishedTables, parseSession, parseSettings, parseSlot,
  publicationsSql, publishedTablesSql, sessionSql, settingsSql, slotSql,
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

export async function checkPostgresSource(name: string, options: PostgresSourceOptions): Promise<CheckGroup> {
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
  group.results.push(...catalog);
  // When even the ordinary connection failed, a replication one would only repeat why.
  if (!catalog.some((r) => r.check === 'connect' && r.verdict === 'FAIL')) group.results.push(await checkReplicationConnection(connection));
  return group;
}

/** Everything read over the ordinary connection; a failed connect is the only result then. */
async function checkCatalog(options: PostgresSourceOptions, connection: ConnectOptions): Promise<CheckResult[]> {
  let conn: PgConnection;
  try {
    conn = await PgConnection.connect({ ...connection, replication: undefined });
  } catch (err) {
    return [fail('connect', describeError(err), connectRemedy(err, connection.user))];
  }
  conn.onNotice(() => {});
  const results: CheckResult[] = [];
  try {
    const query = async (sql: string) => (await conn.simpleQuery(sql))[0]?.rows ?? [];
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
    results.push(...checkTables(tables, publications, server.versionNum));

    const slot = parseSlot(await query(slotSql(options.replicationSlot, server.versionNum)));
    results.push(checkSlot(options.replicationSlot, slot, session.database));
    results.push(checkSlotHeadroom(server, session, slot !== undefined), checkWalSenderHeadroom(server, session));
    results.push(checkSlotWalKeepSize(server), checkWalSenderTimeout(server, options.statusInterval));
  } catch (err) {
    results.push(fail('catalog', `reading the catalog failed: ${describeError(err)}`, 'see the server\'s message (does the role have USAGE on pg_catalog?)'));
  } finally {
    await conn.close().catch(() => {});
  }
  return results;
}

/** Opens the source's replication connection (replication=database) and runs IDENTIFY_SYSTEM. */
async function checkReplicationConnection(connection: ConnectOptions): Promise<CheckResult> {
  let conn: PgConnection;
  try {
    conn = await PgConnection.connect(connection);
  } catch (err) {
    return fail('replication_connection', describeError(err), connectRemedy(err, connection.user));
  }
  conn.onNotice(() => {});
  try {
    const [result] = await conn.simpleQuery('IDENTIFY_SYSTEM');
    const identity = parseIdentifySystem(result?.rows ?? []);
    if (!identity) return fail('replication_connection', 'IDENTIFY_SYSTEM returned no row', 'check that this is a PostgreSQL server (not a pooler) and replication is allowed');
    return ok('replication_connection', `IDENTIFY_SYSTEM: system ${identity.systemId}, timeline ${identity.timeline}, WAL at ${identity.xlogpos}`);
  } catch (err) {
    return fail('replication_connection', `IDENTIFY_SYSTEM failed: ${describeError(err)}`, 'check that this is a PostgreSQL server (not a pooler in transaction mode)');
  } finally {
    await conn.close().catch(() => {});
  }
}
