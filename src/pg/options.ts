/** What PgConnection.connect needs: the resolved target, credentials, TLS and startup parameters. */

/** libpq's sslmode values (https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION). */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/** All sslmode values, in order of strictness. */
export const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** libpq's target_session_attrs values. */
export type TargetSessionAttrs = 'any' | 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby';

/** TLS protocol versions accepted by ssl_min_protocol_version / ssl_max_protocol_version. */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Options of one connection; dsn.ts builds them from a connection string. */
export interface ConnectOptions {
  /** Host name or IP address, or a directory (starting with '/') => unix socket `${dir}/.s.PGSQL.${port}`. */
  host: string;
  /** Numeric address to connect to instead of resolving `host` (libpq hostaddr); `host` still names the server for TLS. */
  hostaddr?: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  sslmode: SslMode;
  /** CA certificate file (PEM); `system` for the system's CA store. */
  sslrootcert?: string;
  /** Client certificate and key files (PEM). */
  sslcert?: string;
  sslkey?: string;
  /** Passphrase of an encrypted sslkey. */
  sslpassword?: string;
  sslMinProtocolVersion?: TlsVersion;
  sslMaxProtocolVersion?: TlsVersion;
  /** Covers TCP connect, TLS handshake and authentication; 0 = no limit. */
  connectTimeoutMs: number;
  applicationName?: string;
  /** Startup parameter `replication=database`: a walsender for logical replication that also runs SQL. */
  replication?: 'database';
  /** Other startup parameters (runtime settings such as DateStyle, TimeZone, options). */
  params?: Record<string, string>;
  /** Checked after connecting, as libpq does; default `any`. */
  targetSessionAttrs?: TargetSessionAttrs;
}
