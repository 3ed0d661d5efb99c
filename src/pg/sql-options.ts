/**
 * The one mapping from our parsed connection settings (ConnectOptions, built by conninfo/dsn.ts
 * with libpq's rules: string, PG* environment, password file) to postgres.js options, and
 * postgres.js errors back to ours (PgError with its SQLSTATE, PgConnectError with its kind), so
 * callers of sql-client.ts see what callers of connection.ts see. Pure: no I/O, no import of
 * postgres.js at run time.
 *
 * The transport is ours (transport.ts, handed to postgres.js as its `socket`), so sslmode,
 * sslrootcert/sslcert/sslkey, hostaddr, unix sockets, keepalive and the connect timeout behave
 * exactly as on the replication connection; postgres.js runs the startup, authentication and
 * queries. Every option is set explicitly: postgres.js falls back to PG* variables for options
 * left out, and those were already resolved (or deliberately overridden) by dsn.ts.
 */
import type net from 'node:net';
import { PgConnectError, PgError, type PgErrorFields, type PgNotice, ProtocolError } from './errors.ts';
import type { ConnectOptions } from './options.ts';
import type { Target } from './tls-options.ts';

/** The postgres.js options we set (its `socket` and `sslnegotiation` are missing from its typings). */
export interface SqlClientOptions {
  host: string;
  port: number;
  path: undefined;
  database: string;
  user: string;
  password: () => string;
  ssl: false;
  sslnegotiation: null;
  max: 1;
  idle_timeout: null;
  connect_timeout: null;
  max_lifetime: null;
  max_pipeline: number;
  backoff: () => number;
  keep_alive: null;
  prepare: false;
  debug: false;
  fetch_types: false;
  publications: string;
  target_session_attrs: 'read-write' | 'read-only' | 'primary' | 'standby' | undefined;
  connection: Record<string, string | undefined>;
  types: Record<string, never>;
  socket: () => Promise<net.Socket>;
  onnotice: (notice: Record<string, unknown>) => void;
  onparameter: (key: string, value: string) => void;
  onclose: () => void;
}

export interface SqlClientHooks {
  /** Opens the transport of the one connection (transport.ts); postgres.js calls it per connect. */
  socket(): Promise<net.Socket>;
  notice(notice: PgNotice): void;
  parameter(key: string, value: string): void;
  closed(): void;
}

/** postgres.js options for an ordinary (non-replication) session with `options`. */
export function sqlClientOptions(options: ConnectOptions, hooks: SqlClientHooks): SqlClientOptions {
  const attrs = options.targetSessionAttrs;
  return {
    host: options.hostaddr ?? options.host,
    port: options.port,
    path: undefined,
    database: options.database,
    user: options.user,
    // A missing password is sent empty: the server refuses it, and sqlError says where one could come from.
    password: () => options.password ?? '',
    // TLS is negotiated by transport.ts before postgres.js sees the socket.
    ssl: false,
    sslnegotiation: null,
    max: 1,
    idle_timeout: null,
    connect_timeout: null,
    max_lifetime: null,
    max_pipeline: 100,
    backoff: () => 0,
    // transport.ts sets TCP keepalive (30 s).
    keep_alive: null,
    // Unnamed statements only: nothing is left prepared on the server (and poolers cope).
    prepare: false,
    debug: false,
    fetch_types: false,
    publications: 'alltables',
    // "any" is postgres.js's default; "prefer-standby" with one host connects to it whatever it is (libpq).
    target_session_attrs: attrs === undefined || attrs === 'any' || attrs === 'prefer-standby' ? undefined : attrs,
    connection: {
      // Set even when undefined: postgres.js would otherwise send PGAPPNAME or "postgres.js".
      application_name: options.applicationName,
      ...options.params,
      client_encoding: 'UTF8',
    },
    types: {},
    socket: hooks.socket,
    onnotice: (notice) => hooks.notice(errorFields(notice)),
    onparameter: hooks.parameter,
    onclose: hooks.closed,
  };
}

/** postgres.js's field names (protocol-error-fields.html) to ours. */
function errorFields(raw: Record<string, unknown>): PgErrorFields {
  const text = (key: string): string | undefined => (typeof raw[key] === 'string' && raw[key] !== '' ? (raw[key] as string) : undefined);
  const number = (key: string): number | undefined => (text(key) === undefined ? undefined : Number(text(key)));
  const severity = text('severity_local') ?? text('severity') ?? 'ERROR';
  return {
    severity,
    severityCode: text('severity') ?? severity,
    code: text('code') ?? '',
    message: text('message') ?? '',
    detail: text('detail'),
    hint: text('hint'),
    position: number('position'),
    internalPosition: number('internal_position'),
    internalQuery: text('internal_query'),
    where: text('where'),
    schema: text('schema_name'),
    table: text('table_name'),
    column: text('column_name'),
    dataType: text('data type_name'),
    constraint: text('constraint_name'),
    file: text('file'),
    line: number('line'),
    routine: text('routine'),
  };
}

/** Where the error happened, for its message. */
export interface SqlErrorContext {
  target: Target;
  /** While connecting (startup, authentication) rather than running a query. */
  connecting: boolean;
  options: Pick<ConnectOptions, 'password' | 'targetSessionAttrs'>;
}

/** postgres.js's own error codes (its errors.js), by what they mean to us. */
const CLOSED_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED']);
const AUTH_CODES: Record<string, string> = {
  SASL_SIGNATURE_MISMATCH: 'SCRAM server signature is wrong: the server does not know the password (possible impostor)',
  AUTH_TYPE_NOT_IMPLEMENTED: 'the server asks for an authentication method psql-streamer does not support',
};

/** Any error out of postgres.js as a PgError, PgConnectError or ProtocolError naming the target. */
export function sqlError(err: unknown, context: SqlErrorContext): Error {
  if (err instanceof PgError || err instanceof PgConnectError || err instanceof ProtocolError) return err;
  const { target, connecting, options } = context;
  const raw = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const code = typeof raw.code === 'string' ? raw.code : '';
  if (err instanceof Error && err.name === 'PostgresError') {
    const fields = errorFields(raw);
    if (connecting && fields.code === '28P01' && options.password === undefined) {
      return new PgConnectError('auth', `connection to ${target.label} failed: the server asks for a password but none is set: give password in the connection string, PGPASSWORD or ~/.pgpass`, target, err);
    }
    return new PgError(fields, connecting ? `connection to ${target.label} failed` : undefined);
  }
  if (CLOSED_CODES.has(code)) {
    const wanted = options.targetSessionAttrs;
    if (connecting && code === 'CONNECTION_DESTROYED' && wanted !== undefined && wanted !== 'any' && wanted !== 'prefer-standby') {
      return new PgConnectError('unreachable', `connection to ${target.label} failed: the server is not ${wanted} (target_session_attrs)`, target, err);
    }
    const what = connecting ? 'closed while connecting' : 'is closed';
    return new PgConnectError('closed', `connection to ${target.label} ${what}`, target, err);
  }
  const auth = AUTH_CODES[code];
  if (auth !== undefined) return new PgConnectError('auth', `connection to ${target.label} failed: ${auth}`, target, err);
  if (code === 'MESSAGE_NOT_SUPPORTED') return new ProtocolError(err instanceof Error ? err.message : String(err));
  return err instanceof Error ? err : new Error(String(err));
}
