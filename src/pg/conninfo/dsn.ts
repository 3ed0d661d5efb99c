/**
 * From the `dsn` option to ConnectOptions, with libpq's rules: keywords from the connection string,
 * then `PG*` environment variables, then defaults, and the password file when no password is given
 * (https://www.postgresql.org/docs/current/libpq-envars.html). `resolveDsn` is pure over a
 * DsnEnvironment; `loadDsn` is the I/O edge that reads the real one.
 *
 * Decisions:
 * - No host anywhere: the unix socket in /var/run/postgresql when its socket file exists (libpq's
 *   default), else TCP to localhost (what the original psql-streamer did).
 * - Keywords libpq knows are honoured, or accepted and ignored when they cannot matter here
 *   (keepalives, GSS names), or refused when ignoring them would weaken something the user asked for
 *   (sslcrl, requirepeer, require_auth, channel_binding=require, service).
 * - Any other key that looks like a server setting (`statement_timeout`, `DateStyle`, `a.b`) is sent
 *   as a startup parameter, as the original did; a key one typo away from a libpq keyword, or not a
 *   setting name at all, is an error naming it.
 * - Several hosts (`host=a,b`) are refused: one source follows one server.
 * - Event fields, as the original: Host is the connection string's host text or "unknown",
 *   Database its dbname or "" (environment variables never change Kafka keys).
 */
import { closest } from '../../core/suggest.ts';
import { DsnError, parseConnectionString } from './parse.ts';
import type { ConnectOptions, SslMode, TargetSessionAttrs, TlsVersion } from '../options.ts';
import { SSL_MODES } from '../options.ts';
import { lookupPgpass, parsePgpass } from './pgpass.ts';
import { dsnSystemEnvironment } from './environment.ts';

export { DsnError } from './parse.ts';

/** What resolveDsn reads besides the string; loadDsn passes the real process's. */
export interface DsnEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  /** Login name of the OS user (libpq's default user). */
  osUser: string;
  homeDir: string;
  /** File contents, or undefined when missing or unreadable. */
  readFile(path: string): string | undefined;
  /** Permission bits and kind, or undefined when missing. */
  stat(path: string): { mode: number; isFile: boolean } | undefined;
  warn(message: string): void;
}

/** ConnectOptions as far as a connection string decides them. */
export type DsnConnectOptions = Omit<ConnectOptions, 'connectTimeoutMs' | 'applicationName'>;

/** A resolved connection string. */
export interface ResolvedDsn {
  options: DsnConnectOptions;
  /** connect_timeout / PGCONNECT_TIMEOUT in ms (0 = none), when given; the source's `timeout` usually wins. */
  connectTimeoutMs: number | undefined;
  /** application_name / PGAPPNAME / fallback_application_name, when given. */
  applicationName: string | undefined;
  /** The event's Host: the connection string's host text, or "unknown". */
  eventHost: string;
  /** The event's Database: the connection string's dbname, or "". */
  eventDatabase: string;
}

/** Keywords with their environment variable (libpq-envars), '' where libpq has none. */
const KEYWORDS: Record<string, string> = {
  host: 'PGHOST', hostaddr: 'PGHOSTADDR', port: 'PGPORT', dbname: 'PGDATABASE', user: 'PGUSER',
  password: 'PGPASSWORD', passfile: 'PGPASSFILE', connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME', fallback_application_name: '', options: 'PGOPTIONS',
  client_encoding: 'PGCLIENTENCODING', sslmode: 'PGSSLMODE', sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT', sslkey: 'PGSSLKEY', sslpassword: '', ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
  ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION', target_session_attrs: 'PGTARGETSESSIONATTRS',
  channel_binding: 'PGCHANNELBINDING', gssencmode: 'PGGSSENCMODE', sslnegotiation: 'PGSSLNEGOTIATION',
  sslcertmode: 'PGSSLCERTMODE', replication: '',
  // Accepted and ignored: they tune things this client does its own way (keepalive is fixed at 30 s).
  keepalives: '', keepalives_idle: '', keepalives_interval: '', keepalives_count: '', tcp_user_timeout: '',
  sslcompression: '', sslsni: '', krbsrvname: '', gsslib: '', gssdelegation: '', load_balance_hosts: '',
};
/** libpq keywords that would change security or routing if honoured, which this client cannot do. */
const UNSUPPORTED = new Set(['service', 'sslcrl', 'sslcrldir', 'requirepeer', 'require_auth', 'min_protocol_version', 'max_protocol_version']);
/** A server setting name: an identifier, optionally qualified (`plugin.setting`). */
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

const TARGET_SESSION_ATTRS: readonly TargetSessionAttrs[] = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'];
const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** Allowed values of keys that only constrain what we already do. */
const ALLOWED_VALUES: Record<string, readonly string[]> = {
  channel_binding: ['disable', 'prefer'],
  gssencmode: ['disable', 'prefer', 'allow'],
  sslnegotiation: ['postgres'],
  sslcertmode: ['disable', 'allow'],
  replication: ['database', 'true', 'on', 'yes', '1', 'false', 'off', 'no', '0'],
};
const UTF8_NAMES = new Set(['utf8', 'utf-8', 'unicode', 'auto']);
const DEFAULT_SOCKET_DIR = '/var/run/postgresql';

function oneOf<T extends string>(key: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new DsnError(`connection string: ${key} must be one of ${allowed.join(', ')}, not "${value}"`, key);
}

function integer(key: string, value: string, min: number, max: number): number {
  const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new DsnError(`connection string: ${key} must be an integer from ${min} to ${max}, not "${value}"`, key);
  }
  return n;
}

/** Checks every key of the string and splits off the unknown ones (runtime parameters). */
function classifyKeys(keywords: Map<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of keywords) {
    if (key in KEYWORDS) {
      const allowed = ALLOWED_VALUES[key];
      if (allowed && value !== '' && !allowed.includes(value)) {
        throw new DsnError(`connection string: ${key}=${value} is not supported (supported: ${allowed.join(', ')})`, key);
      }
      continue;
    }
    if (UNSUPPORTED.has(key)) throw new DsnError(`connection string: "${key}" is not supported by psql-streamer`, key);
    const typo = closest(key, [...Object.keys(KEYWORDS), ...UNSUPPORTED]);
    if (typo !== undefined) throw new DsnError(`connection string: unknown key "${key}" (did you mean "${typo}"?)`, key);
    if (!SETTING_NAME.test(key)) throw new DsnError(`connection string: "${key}" is neither a connection keyword nor a setting name`, key);
    params[key] = value;
  }
  return params;
}

/** Resolves a connection string with libpq's precedence: string > environment > defaults (+ password file). */
export function resolveDsn(text: string, environment: DsnEnvironment): ResolvedDsn {
  const keywords = parseConnectionString(text);
  const params = classifyKeys(keywords);
  // An empty value means "not set" in libpq, for the string and the environment alike.
  const get = (key: string): string | undefined => {
    const fromString = keywords.get(key);
    if (fromString !== undefined && fromString !== '') return fromString;
    const variable = KEYWORDS[key];
    const fromEnv = variable ? environment.env[variable] : undefined;
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };

  const portText = get('port');
  if (portText?.includes(',') || get('host')?.includes(',') || get('hostaddr')?.includes(',')) {
    throw new DsnError('connection string: several hosts (host=a,b) are not supported; give one host', 'host');
  }
  const port = portText === undefined ? 5432 : integer('port', portText, 1, 65535);
  const socketFile = (dir: string) => `${dir}/.s.PGSQL.${port}`;
  const host = get('host') ?? (get('hostaddr') === undefined && environment.stat(socketFile(DEFAULT_SOCKET_DIR)) ? DEFAULT_SOCKET_DIR : 'localhost');
  const user = get('user') ?? environment.osUser;
  const database = get('dbname') ?? user;
  const sslmode = oneOf<SslMode>('sslmode', get('sslmode') ?? 'prefer', SSL_MODES);

  const options: DsnConnectOptions = { host, port, user, database, sslmode };
  const hostaddr = get('hostaddr');
  if (hostaddr !== undefined) options.hostaddr = hostaddr;

  // TLS files: libpq's defaults in ~/.postgresql apply only when the files exist.
  const tlsFile = (key: 'sslrootcert' | 'sslcert' | 'sslkey', defaultName: string) => {
    const explicit = get(key);
    if (explicit !== undefined) return explicit;
    const fallback = `${environment.homeDir}/.postgresql/${defaultName}`;
    return environment.stat(fallback)?.isFile ? fallback : undefined;
  };
  const sslrootcert = tlsFile('sslrootcert', 'root.crt');
  const sslcert = tlsFile('sslcert', 'postgresql.crt');
  const sslkey = tlsFile('sslkey', 'postgresql.key');
  if (sslrootcert !== undefined) options.sslrootcert = sslrootcert;
  if (sslcert !== undefined) options.sslcert = sslcert;
  if (sslkey !== undefined) options.sslkey = sslkey;
  const sslpassword = get('sslpassword');
  if (sslpassword !== undefined) options.sslpassword = sslpassword;
  const minTls = get('ssl_min_protocol_version');
  const maxTls = get('ssl_max_protocol_version');
  if (minTls !== undefined) options.sslMinProtocolVersion = oneOf('ssl_min_protocol_version', minTls, TLS_VERSIONS);
  if (maxTls !== undefined) options.sslMaxProtocolVersion = oneOf('ssl_max_protocol_version', maxTls, TLS_VERSIONS);
  const target = get('target_session_attrs');
  if (target !== undefined) options.targetSessionAttrs = oneOf('target_session_attrs', target, TARGET_SESSION_ATTRS);

  const encoding = get('client_encoding');
  if (encoding !== undefined && !UTF8_NAMES.has(encoding.toLowerCase())) {
    throw new DsnError(`connection string: client_encoding must be UTF8 (psql-streamer decodes UTF-8), not "${encoding}"`, 'client_encoding');
  }
  const startupOptions = get('options');
  if (startupOptions !== undefined) params.options = startupOptions;
  if (Object.keys(params).length > 0) options.params = params;

  const password = get('password') ?? passwordFromFile(get('passfile') ?? `${environment.homeDir}/.pgpass`, {
    host: pgpassHost(options.host, hostaddr),
    port: String(port),
    database,
    user,
  }, environment);
  if (password !== undefined) options.password = password;

  const timeoutText = get('connect_timeout');
  // libpq: 0 or negative means no limit, and anything below 2 s is raised to 2 s.
  const timeoutSeconds = timeoutText === undefined ? undefined : integer('connect_timeout', timeoutText, -2147483648, 2147483647);
  const connectTimeoutMs = timeoutSeconds === undefined ? undefined : timeoutSeconds <= 0 ? 0 : Math.max(2, timeoutSeconds) * 1000;

  const hostText = keywords.get('host');
  return {
    options,
    connectTimeoutMs,
    applicationName: get('application_name') ?? get('fallback_application_name'),
    eventHost: hostText === undefined || hostText === '' ? 'unknown' : hostText,
    eventDatabase: keywords.get('dbname') ?? '',
  };
}

/** libpq looks a socket connection up as `localhost` when it uses the default socket directory. */
function pgpassHost(host: string, hostaddr: string | undefined): string {
  if (host === DEFAULT_SOCKET_DIR) return 'localhost';
  return host !== '' ? host : hostaddr ?? 'localhost';
}

function passwordFromFile(path: string, query: Parameters<typeof lookupPgpass>[1], environment: DsnEnvironment): string | undefined {
  const stat = environment.stat(path);
  if (stat === undefined) return undefined;
  if (!stat.isFile) {
    environment.warn(`password file "${path}" is not a plain file; ignored`);
    return undefined;
  }
  // As libpq: a password file others can read is ignored, loudly.
  if ((stat.mode & 0o077) !== 0) {
    environment.warn(`password file "${path}" has group or world access; permissions should be u=rw (0600) or less; ignored`);
    return undefined;
  }
  const text = environment.readFile(path);
  return text === undefined ? undefined : lookupPgpass(parsePgpass(text), query);
}

/** resolveDsn over the real process: environment variables, OS user, home directory, files. */
export function loadDsn(text: string, warn: (message: string) => void = () => {}): ResolvedDsn {
  return resolveDsn(text, dsnSystemEnvironment(warn));
}
