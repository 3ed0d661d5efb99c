/**
 * The transport under a PostgreSQL session, shared by our wire client (connection.ts) and the
 * postgres.js one for ordinary SQL (sql-client.ts), so both connect the same way: TCP with keepalive
 * or a unix socket, TLS negotiated per libpq's sslmode (tls-options.ts), the allow/prefer fallback
 * plan and one connect timeout over every attempt
 * (https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-SSLMODE-STATEMENTS).
 */
import net from 'node:net';
import tls from 'node:tls';
import { PgConnectError, PgError } from './errors.ts';
import { encodeSSLRequest } from './frontend.ts';
import type { ConnectOptions } from './options.ts';
import { connectErrorFrom, type Target, tlsConnectionOptions, verifiesChain } from './tls-options.ts';

/** TCP keepalive, as the original (30 s). */
const KEEPALIVE_MS = 30_000;

/** Connect progress, shared with the timeout so it can say where it stopped and cut the socket. */
export interface ConnectState {
  socket: net.Socket | undefined;
  stage: string;
  timedOut: boolean;
  tlsUsed: boolean;
}

/** One attempt's TLS: none, TLS when the server offers it, or TLS required. */
export type TlsPolicy = 'off' | 'try' | 'must';

export function newConnectState(): ConnectState {
  return { socket: undefined, stage: 'connecting', timedOut: false, tlsUsed: false };
}

export const isUnixSocket = (options: ConnectOptions): boolean => options.host.startsWith('/') && options.hostaddr === undefined;

/** Where `options` connect to, with the label messages use. */
export function targetOf(options: ConnectOptions): Target {
  if (isUnixSocket(options)) {
    return { host: options.host, port: options.port, label: `socket ${options.host}/.s.PGSQL.${options.port}` };
  }
  const address = options.hostaddr ?? options.host;
  return { host: address, port: options.port, label: `${address.includes(':') ? `[${address}]` : address}:${options.port}` };
}

/**
 * Runs `run` within `connectTimeoutMs` (0: no limit). On timeout the socket in progress is cut and
 * the promise rejects with a PgConnectError saying at which stage; a session completing after the
 * timeout is handed to `discard`, not leaked.
 */
export async function withConnectTimeout<T>(options: ConnectOptions, target: Target, state: ConnectState, run: Promise<T>, discard: (late: T) => void): Promise<T> {
  const ms = options.connectTimeoutMs;
  if (!(ms > 0)) return run;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      state.timedOut = true;
      state.socket?.destroy();
      reject(new PgConnectError('timeout', `connection to ${target.label} timed out after ${ms} ms (${state.stage})`, target));
    }, ms);
  });
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
    run.then((late) => state.timedOut && discard(late), () => {});
  }
}

/** libpq's sslmode plan: which attempts to make, and when to fall back to the other kind. */
export async function sslPlan<T>(options: ConnectOptions, state: ConnectState, attempt: (policy: TlsPolicy) => Promise<T>): Promise<T> {
  // libpq never uses TLS on unix sockets, whatever sslmode says.
  const mode = isUnixSocket(options) ? 'disable' : options.sslmode;
  if (mode === 'disable') return attempt('off');
  if (mode === 'allow') {
    try {
      return await attempt('off');
    } catch (err) {
      if (!(err instanceof PgError) || state.timedOut) throw err;
      return attempt('must');
    }
  }
  if (mode === 'prefer') {
    try {
      return await attempt('try');
    } catch (err) {
      const retry = state.tlsUsed && !state.timedOut && (err instanceof PgError || (err instanceof PgConnectError && err.kind === 'tls'));
      if (!retry) throw err;
      try {
        return await attempt('off');
      } catch (plainErr) {
        // "no pg_hba.conf entry ... no encryption" hides the real reason, which the TLS attempt had.
        throw plainErr instanceof PgError && plainErr.code === '28000' ? err : plainErr;
      }
    }
  }
  return attempt('must');
}

/** The socket of one attempt, TLS negotiated per `policy`; destroyed again when TLS fails. */
export async function openTransport(options: ConnectOptions, target: Target, state: ConnectState, policy: TlsPolicy): Promise<net.Socket> {
  state.stage = 'connecting';
  state.tlsUsed = false;
  const socket = await openSocket(options, target, state);
  if (policy === 'off') return socket;
  try {
    return await negotiateTls(socket, options, target, state, policy === 'must');
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function openSocket(options: ConnectOptions, target: Target, state: ConnectState): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const unix = isUnixSocket(options);
    const socket = unix
      ? net.connect({ path: `${options.host}/.s.PGSQL.${options.port}` })
      : net.connect({ host: options.hostaddr ?? options.host, port: options.port });
    state.socket = socket;
    const onError = (err: Error) => reject(connectErrorFrom(err, target));
    socket.once('error', onError);
    socket.once('close', () => reject(new PgConnectError('closed', `connection to ${target.label} closed while connecting`, target)));
    socket.once('connect', () => {
      socket.off('error', onError);
      socket.removeAllListeners('close');
      if (!unix) {
        socket.setKeepAlive(true, KEEPALIVE_MS);
        socket.setNoDelay(true);
      }
      resolve(socket);
    });
  });
}

/**
 * SSLRequest, then the server's one-byte answer: 'S' → TLS handshake, 'N' → stay plain (unless
 * required). Bytes after the answer are refused: they were sent before encryption and could have
 * been injected by a man in the middle (CVE-2021-23222).
 */
function negotiateTls(socket: net.Socket, options: ConnectOptions, target: Target, state: ConnectState, required: boolean): Promise<net.Socket> {
  state.stage = 'SSL negotiation';
  return new Promise((resolve, reject) => {
    const failed = (text: string) => reject(new PgConnectError('tls', `connection to ${target.label} failed: ${text}`, target));
    const onError = (err: Error) => reject(connectErrorFrom(err, target));
    const onClose = () => reject(new PgConnectError('closed', `connection to ${target.label} closed by the server during SSL negotiation`, target));
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('data', (chunk: Uint8Array) => {
      socket.off('error', onError);
      socket.off('close', onClose);
      const answer = String.fromCharCode(chunk[0]!);
      if (chunk.length !== 1 || (answer !== 'S' && answer !== 'N')) {
        return failed(`unexpected answer to SSLRequest (${chunk.length} bytes starting with '${answer}')`);
      }
      if (answer === 'N') {
        if (required) return failed(`the server does not support SSL, but sslmode=${options.sslmode} requires it`);
        return resolve(socket);
      }
      state.stage = 'TLS handshake';
      state.tlsUsed = true;
      let secure: tls.TLSSocket;
      try {
        secure = tls.connect(tlsConnectionOptions(options, target, socket));
      } catch (err) {
        return reject(connectErrorFrom(err, target));
      }
      state.socket = secure;
      // Errors of the raw socket surface on the TLS socket; an unheard 'error' event would crash the process.
      socket.on('error', () => {});
      secure.once('error', (err) => reject(connectErrorFrom(err, target)));
      secure.once('close', onClose);
      secure.once('secureConnect', () => {
        secure.removeAllListeners('error');
        secure.off('close', onClose);
        // node:tls already refused an unverified peer (rejectUnauthorized); this guards against a runtime that did not.
        if (verifiesChain(options) && !secure.authorized) return failed(`TLS: ${String(secure.authorizationError)}`);
        resolve(secure);
      });
    });
    socket.write(encodeSSLRequest());
  });
}
