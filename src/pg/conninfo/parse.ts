/**
 * The syntax of connection strings, as libpq reads them
 * (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING): keyword/value
 * strings (`host=db1 port=5432 password='it\'s quoted'`) and URIs
 * (`postgresql://user:secret@[::1]:5433/app?sslmode=require`). Pure: text in, keywords out.
 * What the keywords mean, defaults and the environment are dsn.ts's business.
 */
import { StreamerError } from '../../core/errors.ts';

/** A connection string that cannot be used; the message names the key, never a password. */
export class DsnError extends StreamerError {
  constructor(message: string, readonly key?: string) {
    super('CONFIG', message, { retryable: false });
    this.name = 'DsnError';
  }
}

const URI_PREFIX = /^postgres(?:ql)?:\/\//;

/** Whether `text` is a URI (`postgres://` or `postgresql://`) rather than keyword/value pairs. */
export function isConnectionUri(text: string): boolean {
  return URI_PREFIX.test(text.trimStart());
}

/** Keywords and values of a connection string in either form; a later duplicate wins, as in libpq. */
export function parseConnectionString(text: string): Map<string, string> {
  return isConnectionUri(text) ? parseUri(text.trim()) : parseKeywordValue(text);
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

/**
 * `key = value` pairs separated by whitespace. A value is either single-quoted (backslash escapes
 * any character, so `\'` and `\\`) or runs to the next whitespace (backslash escapes there too).
 * `key=` alone gives the empty value.
 */
export function parseKeywordValue(text: string): Map<string, string> {
  const result = new Map<string, string>();
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && isSpace(text[i])) i++;
    if (i >= n) return result;
    const keyStart = i;
    while (i < n && text[i] !== '=' && !isSpace(text[i])) i++;
    const key = text.slice(keyStart, i);
    while (i < n && isSpace(text[i])) i++;
    if (text[i] !== '=') throw new DsnError(`connection string: missing "=" after "${key}"`, key);
    if (key === '') throw new DsnError('connection string: "=" without a key before it');
    i++;
    while (i < n && isSpace(text[i])) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= n) throw new DsnError(`connection string: unterminated quoted value of "${key}"`, key);
        const c = text[i]!;
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
    } else {
      while (i < n && !isSpace(text[i])) {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i];
        i++;
      }
    }
    result.set(key, value);
  }
}

function percentDecode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new DsnError(`connection URI: invalid percent-encoding in the ${what}`);
  }
}

/**
 * `postgres[ql]://[user[:password]@][host][:port][/dbname][?key=value&...]`, percent-decoded.
 * An IPv6 host is written in brackets; a unix socket directory is percent-encoded
 * (`%2Fvar%2Frun%2Fpostgresql`) or given as `?host=/path`. Query keys are keywords as above, and
 * libpq's `ssl=true` means `sslmode=require`.
 */
export function parseUri(uri: string): Map<string, string> {
  const result = new Map<string, string>();
  let rest = uri.replace(URI_PREFIX, '');
  const queryAt = rest.indexOf('?');
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : '';
  if (queryAt >= 0) rest = rest.slice(0, queryAt);
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  if (slash >= 0 && rest.length > slash + 1) result.set('dbname', percentDecode(rest.slice(slash + 1), 'database name'));

  // The last '@' ends the user part, so an unencoded '@' in a password still works.
  const at = authority.lastIndexOf('@');
  const hostPart = at >= 0 ? authority.slice(at + 1) : authority;
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    const colon = userInfo.indexOf(':');
    const user = colon >= 0 ? userInfo.slice(0, colon) : userInfo;
    if (user !== '') result.set('user', percentDecode(user, 'user name'));
    if (colon >= 0) result.set('password', percentDecode(userInfo.slice(colon + 1), 'password'));
  }
  parseUriHosts(hostPart, result);

  if (query !== '') {
    for (const pair of query.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new DsnError(`connection URI: query parameter without "key=": "${pair.slice(0, 40)}"`);
      const key = percentDecode(pair.slice(0, eq), 'query');
      const value = percentDecode(pair.slice(eq + 1), `value of "${key}"`);
      if (key === 'ssl') {
        if (value !== 'true') throw new DsnError(`connection URI: ssl must be "true" (or use sslmode), not "${value}"`, 'ssl');
        result.set('sslmode', 'require');
      } else {
        result.set(key, value);
      }
    }
  }
  return result;
}

/** `host[:port]` or `[v6addr][:port]`, comma-separated; hosts and ports joined with ',' as libpq keeps them. */
function parseUriHosts(text: string, result: Map<string, string>): void {
  if (text === '') return;
  const hosts: string[] = [];
  const ports: string[] = [];
  for (const spec of text.split(',')) {
    let host: string;
    let port = '';
    if (spec.startsWith('[')) {
      const close = spec.indexOf(']');
      if (close < 0) throw new DsnError('connection URI: IPv6 host without a closing "]"', 'host');
      host = spec.slice(1, close);
      const after = spec.slice(close + 1);
      if (after !== '' && !after.startsWith(':')) throw new DsnError('connection URI: unexpected text after the IPv6 host', 'host');
      port = after.slice(1);
    } else {
      const colon = spec.lastIndexOf(':');
      host = colon >= 0 ? spec.slice(0, colon) : spec;
      port = colon >= 0 ? spec.slice(colon + 1) : '';
    }
    hosts.push(percentDecode(host, 'host'));
    ports.push(percentDecode(port, 'port'));
  }
  if (hosts.some((h) => h !== '')) result.set('host', hosts.join(','));
  if (ports.some((p) => p !== '')) result.set('port', ports.join(','));
}
