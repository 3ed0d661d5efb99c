/**
 * The `http = "host:port"` key read both ways: where the streamer listens (Bun.serve), and where a
 * command on the same host reaches it (the `snapshot` command: a wildcard address is reached on
 * loopback). Pure.
 */
import { StreamerError } from '../core/errors.ts';

/** Splits `host:port` (IPv6 in brackets) for Bun.serve; an empty host means loopback. */
export function parseListenAddress(address: string): { hostname: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!match) throw new StreamerError('CONFIG', `http = "${address}": expected host:port, e.g. "127.0.0.1:12080"`, { retryable: false });
  const hostname = match[1] ?? match[2] ?? '';
  return { hostname: hostname === '' ? '127.0.0.1' : hostname, port: Number(match[3]) };
}

/**
 * The origin a client on this host uses to reach the API listening on `address`: `0.0.0.0` and `::`
 * (every address) are reached on loopback; an IPv6 host is bracketed.
 */
export function clientOrigin(address: string, tls: boolean): string {
  const { hostname, port } = parseListenAddress(address);
  const host = hostname === '0.0.0.0' ? '127.0.0.1' : hostname === '::' ? '::1' : hostname;
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
