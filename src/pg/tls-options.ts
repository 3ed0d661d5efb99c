/**
 * libpq's sslmode semantics as node:tls options
 * (https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-SSLMODE-STATEMENTS):
 * - disable/allow/prefer/require: encryption without verification, unless a root certificate is
 *   given, in which case the chain is verified (libpq does this whenever a root certificate exists);
 * - verify-ca: the chain must lead to sslrootcert, any host name;
 * - verify-full: the chain, and the certificate must name the host.
 * `sslrootcert=system` uses the system CA store. Reads the certificate files (an I/O edge), opens no socket.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { checkServerIdentity } from 'node:tls';
import { PgConnectError } from './errors.ts';
import type { ConnectOptions } from './options.ts';

/** Where the connection goes, for messages: `127.0.0.1:5432` or `socket /run/pg/.s.PGSQL.5432`. */
export interface Target {
  host: string;
  port: number;
  label: string;
}

function readPem(key: string, path: string, target: Target): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new PgConnectError('config', `cannot read ${key} "${path}": ${reason}`, target, err);
  }
}

/** Whether the server certificate's chain is checked in this mode. */
export function verifiesChain(options: ConnectOptions): boolean {
  return options.sslmode === 'verify-ca' || options.sslmode === 'verify-full' || options.sslrootcert !== undefined;
}

/** TLS options for upgrading `socket` after the server accepted the SSLRequest. */
export function tlsConnectionOptions(options: ConnectOptions, target: Target, socket: ConnectionOptions['socket']): ConnectionOptions {
  const verify = verifiesChain(options);
  const tlsOptions: ConnectionOptions = { socket, rejectUnauthorized: verify };
  // SNI needs a name, never an address (libpq's sslsni does the same).
  if (isIP(options.host) === 0) tlsOptions.servername = options.host;
  if (verify) {
    if (options.sslrootcert === undefined) {
      throw new PgConnectError('config', `sslmode=${options.sslmode} needs a root certificate: set sslrootcert (a CA file, or "system" for the system store)`, target);
    }
    if (options.sslrootcert !== 'system') tlsOptions.ca = readPem('sslrootcert', options.sslrootcert, target);
    const host = options.host;
    tlsOptions.checkServerIdentity = options.sslmode === 'verify-full'
      ? (_servername: string, cert: PeerCertificate) => checkServerIdentity(host, cert)
      : () => undefined;
  }
  if (options.sslcert !== undefined) tlsOptions.cert = readPem('sslcert', options.sslcert, target);
  if (options.sslkey !== undefined) tlsOptions.key = readPem('sslkey', options.sslkey, target);
  if (options.sslpassword !== undefined) tlsOptions.passphrase = options.sslpassword;
  if (options.sslMinProtocolVersion !== undefined) tlsOptions.minVersion = options.sslMinProtocolVersion;
  if (options.sslMaxProtocolVersion !== undefined) tlsOptions.maxVersion = options.sslMaxProtocolVersion;
  return tlsOptions;
}

/** Errno codes of a refused or unreachable peer, by PgConnectError kind. */
const SOCKET_ERRORS: Record<string, { kind: PgConnectError['kind']; text: string }> = {
  ECONNREFUSED: { kind: 'refused', text: 'refused (is the server running and accepting connections there?)' },
  ENOENT: { kind: 'unreachable', text: 'failed: no such socket (is the server running, with its socket in that directory?)' },
  ENOTFOUND: { kind: 'dns', text: 'failed: could not resolve the host name' },
  EAI_AGAIN: { kind: 'dns', text: 'failed: temporary failure resolving the host name' },
  EHOSTUNREACH: { kind: 'unreachable', text: 'failed: no route to host' },
  ENETUNREACH: { kind: 'unreachable', text: 'failed: network is unreachable' },
  ECONNRESET: { kind: 'closed', text: 'failed: the server reset the connection' },
  EPIPE: { kind: 'closed', text: 'failed: the server closed the connection' },
  ETIMEDOUT: { kind: 'timeout', text: 'timed out (TCP)' },
  EACCES: { kind: 'unreachable', text: 'failed: permission denied' },
};

/** A socket or TLS error during connect as a PgConnectError naming the target. */
export function connectErrorFrom(err: unknown, target: Target): Error {
  if (err instanceof PgConnectError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const known = SOCKET_ERRORS[code];
  if (known) return new PgConnectError(known.kind, `connection to ${target.label} ${known.text}`, target, err, { explainsCause: true });
  const message = err instanceof Error ? err.message : String(err);
  // node:tls codes: ERR_TLS_*, ERR_SSL_*, and OpenSSL verification codes (CERT_*, *_SELF_SIGNED_*, UNABLE_TO_*).
  if (/^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|HOSTNAME)/.test(code) || /certificate|ssl|tls/i.test(message)) {
    return new PgConnectError('tls', `connection to ${target.label} failed: TLS: ${message}`, target, err);
  }
  return new PgConnectError('unreachable', `connection to ${target.label} failed: ${message}${code ? ` (${code})` : ''}`, target, err);
}
