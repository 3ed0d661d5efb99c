/**
 * The HTTP API as a function of its dependencies (no server here; `src/app.ts` serves it).
 * Paths and bodies are the original's; `/status` works (the original panicked). Unlike the
 * original, the control endpoints (`/debug/on|off`) answer only POST, and an optional bearer
 * token guards them (or everything but `/health` and `/metrics`): docs/operations.md, "HTTP API
 * security". The snapshot API (JSON, snapshots.ts) is new, and so are the status page (`/`, `/ui`)
 * and the structured status (`/status.json`, or `/status` asked for JSON) that it and the `status`
 * command read: docs/operations.md, "Status page and `status` command".
 */
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { HttpSecurity } from '../config/schema.ts';
import type { Component } from '../core/component.ts';
import type { SnapshotControl } from '../sources/postgres/snapshot/types.ts';
import { guarded, requireToken, TokenCheck } from './auth.ts';
import { addSnapshotRoutes } from './snapshots.ts';
import type { StatusDocument } from './status-model.ts';
import { pagePolicy, renderPage } from './status-page.ts';

export interface HttpDeps {
  /** Every component in display order: sources, pipelines, then sinks. */
  components: () => readonly Component[];
  /** Prometheus exposition text and its content type. */
  metrics: () => Promise<{ body: string; contentType: string }>;
  /** Why the process is stopping for an operator (a source refused to stream), or null. */
  halted?: () => string | null;
  /** Token and its scope; none by default. */
  security?: HttpSecurity;
  /** The snapshot control of a PostgreSQL source by name (undefined: no such source); no snapshot API without it. */
  snapshots?: (source: string) => SnapshotControl | undefined;
  /** The names `snapshots` knows, listed when a request names another. */
  snapshotSources?: () => readonly string[];
  /** The structured status (status-reporter.ts); no page and no `/status.json` without it. */
  status?: () => Promise<StatusDocument>;
  /** How often the page refreshes; default 2 s. */
  pageRefreshMs?: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const NO_STORE = { 'Cache-Control': 'no-store' };

/** True when the request asks for JSON (`Accept: application/json`) rather than the original's text. */
const wantsJson = (c: Context): boolean => /\bapplication\/json\b/i.test(c.req.header('Accept') ?? '');

const TEXT = 'text/plain; charset=utf-8';

function text(c: Context, body: string, status: 200 | 400 | 404 | 405 | 500 | 503 = 200, headers: Record<string, string> = {}): Response {
  return c.body(body, status, { 'Content-Type': TEXT, ...headers });
}

/**
 * One `<Type> (<name>): <reason, WARNING: text, or OK>[; details]` line per component; 500 when
 * any is unhealthy (a warning alone keeps 200: degraded but working).
 */
export function renderStatus(components: readonly Component[]): { body: string; healthy: boolean } {
  let body = '';
  let healthy = true;
  for (const component of components) {
    const problem = component.status();
    if (problem !== null) healthy = false;
    const warning = problem === null ? component.warning?.() ?? null : null;
    const details = component.statusDetails?.() ?? null;
    const state = problem ?? (warning === null ? 'OK' : `WARNING: ${warning}`);
    body += `${component.type} (${component.name}): ${state}${details === null ? '' : `; ${details}`}\n`;
  }
  return { body, healthy };
}

/** One `(Ticker) <Type> (<name>): <stats>` line per component, as the original's `/stats` and ticker. */
export function renderStats(components: readonly Component[]): string {
  let body = '';
  for (const component of components) body += `(Ticker) ${component.type} (${component.name}): ${component.stats()}\n`;
  return body;
}

export function createHttpApp(deps: HttpDeps): Hono {
  // strict routing: `/debug` and `/debug/` are different paths, as in Go's ServeMux.
  const app = new Hono({ strict: true });

  const security = deps.security ?? { auth: 'control' };
  app.use('*', requireToken(security));
  const tokens = security.token === undefined ? undefined : new TokenCheck(security.token);
  /** Whether this request may read the status (the page is served to anyone, its data is not). */
  const mayReadStatus = (c: Context): boolean =>
    tokens === undefined || !guarded('/status.json', security.auth) || tokens.check(c.req.header('Authorization')) === 'ok';

  // Alive unless a source refused to go on (docs/operations.md): then the process is on its way out.
  app.all('/health', (c) => {
    const halted = deps.halted?.() ?? null;
    return halted === null ? text(c, 'Alive and well\n') : text(c, `Refused: ${halted}\n`, 503);
  });

  app.all('/status', async (c) => {
    if (deps.status && wantsJson(c)) {
      const doc = await deps.status();
      return c.body(`${JSON.stringify(doc)}\n`, doc.healthy ? 200 : 500, { 'Content-Type': JSON_TYPE, ...NO_STORE });
    }
    const { body, healthy } = renderStatus(deps.components());
    return text(c, body, healthy ? 200 : 500);
  });

  const status = deps.status;
  if (status) {
    // Always 200: the document says whether all is healthy (`/status` keeps 500 for probes), and a
    // browser logs every non-2xx answer of a fetch as an error.
    app.all('/status.json', async (c) => c.body(`${JSON.stringify(await status())}\n`, 200, { 'Content-Type': JSON_TYPE, ...NO_STORE }));
    const page = async (c: Context) => {
      const nonce = randomBytes(16).toString('base64');
      const doc = mayReadStatus(c) ? await status() : null;
      return c.body(renderPage({ doc, nonce, refreshMs: deps.pageRefreshMs ?? 2_000 }), 200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': pagePolicy(nonce),
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        ...NO_STORE,
      });
    };
    app.get('/', page);
    app.get('/ui', page);
  }

  app.all('/stats', (c) => text(c, renderStats(deps.components())));

  app.all('/debug', (c) => c.redirect('/debug/', 301));

  app.all('/debug/*', (c) => {
    // A GET from a browser, a crawler or a link preview must not change anything.
    if (c.req.method !== 'POST') return text(c, 'Method Not Allowed: use POST\n', 405, { Allow: 'POST' });
    const rest = c.req.path.slice('/debug/'.length);
    if (rest.includes('/')) return text(c, 'Request should be in form /debug/[off|on]\n', 400);
    if (rest !== 'on' && rest !== 'off') return text(c, 'Debug can be [on] or [off]\n', 400);
    const on = rest === 'on';
    for (const component of deps.components()) component.setDebug(on);
    return text(c, `Debug is now ${on}\n`);
  });

  app.all('/metrics', async (c) => {
    const { body, contentType } = await deps.metrics();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  if (deps.snapshots) addSnapshotRoutes(app, { snapshots: deps.snapshots, sourceNames: deps.snapshotSources ?? (() => []) });

  app.notFound((c) => text(c, '404 page not found\n', 404));

  app.onError((err, c) => text(c, `Internal error: ${err.message}\n`, 500));

  return app;
}
