/**
 * Bearer-token access to the HTTP API (docs/operations.md, "HTTP API security"): which paths a
 * configured token guards, and a constant-time check of the `Authorization` header. The token is
 * compared as SHA-256 digests with timingSafeEqual, so neither its bytes nor its length leak
 * through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { HttpSecurity } from '../config/schema.ts';

/** Paths that change something; only POST reaches them (docs/operations.md). */
export const CONTROL_PREFIX = '/debug/';

/** The snapshot API (snapshots.ts): its POST and DELETE change something, its GET reads like /status. */
const SNAPSHOTS = /^\/sources\/[^/]+\/snapshots(?:\/|$)/;

/** Paths probes and scrapers read without a token even with `httpAuth = "all"`. */
const ALWAYS_OPEN = new Set(['/health', '/metrics']);

/**
 * The status page: served to anyone, since a browser cannot send a bearer header when it
 * navigates; it shows the status only when the request may read `/status.json` (app.ts), else its
 * script asks for the token (status-script.ts).
 */
export const PAGE_PATHS: ReadonlySet<string> = new Set(['/', '/ui']);

/**
 * Whether a request must carry the token under `auth`: with "control", the control endpoints (any
 * method) and every snapshot request but a read (GET, HEAD); with "all", everything but
 * ALWAYS_OPEN and PAGE_PATHS.
 */
export function guarded(path: string, auth: HttpSecurity['auth'], method = 'GET'): boolean {
  if (PAGE_PATHS.has(path)) return false;
  if (auth === 'all') return !ALWAYS_OPEN.has(path);
  return path.startsWith(CONTROL_PREFIX) || (SNAPSHOTS.test(path) && method !== 'GET' && method !== 'HEAD');
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Checks `Authorization: Bearer TOKEN` headers against one token. */
export class TokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** 'ok', 'missing' (no bearer credentials) or 'invalid' (a token that is not this one). */
  check(authorization: string | undefined): 'ok' | 'missing' | 'invalid' {
    const match = authorization === undefined ? null : /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) return 'missing';
    return timingSafeEqual(digest(match[1]!), this.expected) ? 'ok' : 'invalid';
  }
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** Middleware answering 401 with `WWW-Authenticate: Bearer` on guarded paths without the token. */
export function requireToken(security: HttpSecurity): MiddlewareHandler {
  const tokens = security.token === undefined ? undefined : new TokenCheck(security.token);
  return async (c, next) => {
    if (tokens === undefined || !guarded(c.req.path, security.auth, c.req.method)) return next();
    const result = tokens.check(c.req.header('Authorization'));
    if (result === 'ok') return next();
    // RFC 6750 §3: no error code when credentials were missing, invalid_token when they were wrong.
    const challenge = result === 'missing' ? 'Bearer realm="psql-streamer"' : 'Bearer realm="psql-streamer", error="invalid_token"';
    const message = 'Unauthorized: send "Authorization: Bearer <httpToken>"';
    // The snapshot API speaks JSON, its errors included.
    if (SNAPSHOTS.test(c.req.path)) return c.body(`${JSON.stringify({ error: message })}\n`, 401, { 'Content-Type': JSON_TYPE, 'WWW-Authenticate': challenge });
    return c.body(`${message}\n`, 401, { 'Content-Type': TEXT, 'WWW-Authenticate': challenge });
  };
}
