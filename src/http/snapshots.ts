/**
 * The snapshot endpoints of the HTTP API (docs/snapshots.md, "Operating snapshots"): start a
 * backfill, list, read and cancel the snapshots of a PostgreSQL source. Unlike the original's text
 * endpoints this API speaks JSON both ways, errors included (`{"error": "..."}`). The token rules
 * (auth.ts) make POST and DELETE need the token whenever one is set; GET is read like `/status`.
 */
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { SnapshotRequestError, type SnapshotControl } from '../sources/postgres/snapshot/types.ts';
import { parseSnapshotRequest } from './snapshot-request.ts';

export interface SnapshotDeps {
  /** The snapshot control of a PostgreSQL source, or undefined when there is no such source. */
  snapshots: (source: string) => SnapshotControl | undefined;
  /** The names of the sources `snapshots` knows, for the message of an unknown one. */
  sourceNames: () => readonly string[];
}

/** A request body larger than this is refused (413) before it is read: a request names tables and a condition. */
const MAX_BODY = 64 * 1024;

type Status = 200 | 202 | 400 | 404 | 405 | 409 | 413 | 500;

/** A JSON answer (pretty, with a final newline: it is read with curl as often as by programs). */
export function json(c: Context, value: unknown, status: Status = 200, headers: Record<string, string> = {}): Response {
  return c.body(`${JSON.stringify(value, null, 2)}\n`, status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
}

const error = (c: Context, message: string, status: Status, headers: Record<string, string> = {}) => json(c, { error: message }, status, headers);

const notAllowed = (c: Context, allow: string) =>
  error(c, `${c.req.method} is not allowed on ${c.req.path}: use ${allow.split(', ').join(' or ')}`, 405, { Allow: allow });

const isRead = (method: string) => method === 'GET' || method === 'HEAD';

/** Adds the snapshot routes to `app`. */
export function addSnapshotRoutes(app: Hono, deps: SnapshotDeps): void {
  /** The source's control, or the 404 answer naming the sources there are. */
  const control = (c: Context): SnapshotControl | Response => {
    const name = c.req.param('source') ?? '';
    const found = deps.snapshots(name);
    if (found) return found;
    const names = deps.sourceNames();
    const known = names.length === 0 ? 'no PostgreSQL source is configured' : `sources: ${names.join(', ')}`;
    return error(c, `no PostgreSQL source named ${name} (${known})`, 404);
  };

  const location = (source: string, id: string) => `/sources/${encodeURIComponent(source)}/snapshots/${encodeURIComponent(id)}`;

  /** An error thrown by the control: its own status when it is a refusal, else 500. */
  const failed = (c: Context, err: unknown) =>
    err instanceof SnapshotRequestError ? error(c, err.message, err.status) : error(c, `snapshot service failed: ${err instanceof Error ? err.message : String(err)}`, 500);

  const limit = bodyLimit({ maxSize: MAX_BODY, onError: (c) => error(c, `the body is larger than ${MAX_BODY} bytes: a request names tables and a condition`, 413) });

  app.all('/sources/:source/snapshots', async (c, next) => (c.req.method === 'POST' ? limit(c, next) : next()), async (c) => {
    const method = c.req.method;
    if (!isRead(method) && method !== 'POST') return notAllowed(c, 'GET, POST');
    const snapshots = control(c);
    if (snapshots instanceof Response) return snapshots;
    if (isRead(method)) return json(c, { snapshots: snapshots.list() });
    const parsed = parseSnapshotRequest(await c.req.text());
    if (!parsed.ok) return error(c, parsed.message, 400);
    try {
      const info = await snapshots.start(parsed.request);
      return json(c, info, 202, { Location: location(c.req.param('source'), info.id) });
    } catch (err) {
      return failed(c, err);
    }
  });

  app.all('/sources/:source/snapshots/:id', async (c) => {
    const method = c.req.method;
    if (!isRead(method) && method !== 'DELETE') return notAllowed(c, 'GET, DELETE');
    const snapshots = control(c);
    if (snapshots instanceof Response) return snapshots;
    const id = c.req.param('id');
    const noSuch = () => error(c, `no snapshot ${id} on source ${c.req.param('source')}`, 404);
    if (isRead(method)) {
      const info = snapshots.get(id);
      return info === undefined ? noSuch() : json(c, info);
    }
    try {
      const info = await snapshots.cancel(id);
      return info === undefined ? noSuch() : json(c, info);
    } catch (err) {
      return failed(c, err);
    }
  });

  // Anything else under /sources/ is a JSON 404 that shows the paths there are.
  app.all('/sources/*', (c) => error(c, `no such path ${c.req.path}: the snapshot API is /sources/{source}/snapshots and /sources/{source}/snapshots/{id}`, 404));
}
