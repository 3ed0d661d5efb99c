/**
 * The status page and the JSON status over HTTP (src/http/status-page.ts, status-view.ts, app.ts):
 * the routes, the token (the page is served to anyone, its data only with the token), escaping,
 * the Content-Security-Policy, and `/status` text unchanged for the original's users. The page in
 * a real browser: test/integration/http/status-page.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import type { HttpSecurity } from '../../../src/config/schema.ts';
import type { Component } from '../../../src/core/component.ts';
import { guarded } from '../../../src/http/auth.ts';
import { createHttpApp } from '../../../src/http/app.ts';
import { buildStatus, type StatusDocument } from '../../../src/http/status-model.ts';
import { RateTracker } from '../../../src/http/status-rates.ts';
import { renderStatusView } from '../../../src/http/status-view.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';

const TOKEN = 'b7e1c94d2a6f08e35c1d';

function component(type: string, name: string, parts: Partial<Component> = {}): Component {
  return { type, name, stats: () => 'events: 0', status: () => null, setDebug: () => {}, ...parts };
}

const source = component('Source-PSQL', 'db1', { details: () => ({ endpoint: 'app@db:5432/shop, slot s1', delivered: '0/16B3748' }) });
const sink = component('Sink-File', 'out<script>', { status: () => 'cannot write "/x": <b>ENOSPC</b>' });

async function documentOf(components: Component[]): Promise<StatusDocument> {
  return buildStatus({
    components,
    metrics: await createMetrics().registry.getMetricsAsJSON(),
    version: 'psql-streamer 9.9.9',
    startedAtMs: 0,
    nowMs: 90_000,
    halted: null,
    rates: new RateTracker(),
  });
}

function appWith(security?: HttpSecurity, components = [source, component('Pipeline', 'db1'), sink]) {
  return createHttpApp({
    components: () => components,
    metrics: async () => ({ body: '', contentType: 'text/plain' }),
    security,
    status: () => documentOf(components),
  });
}

const bearer = { Authorization: `Bearer ${TOKEN}` };
const initialJson = (html: string) => JSON.parse(/<script type="application\/json" id="initial">(.*?)<\/script>/s.exec(html)![1]!);

describe('renderStatusView', () => {
  test('one card per component keyed kind:name, every text escaped, the state shown', async () => {
    const view = renderStatusView(await documentOf([source, sink]));
    expect(view.cards.map((c) => c.key)).toEqual(['source:db1', 'sink:out<script>']);
    const [s, k] = view.cards;
    expect(s!.html).toContain('data-state="ok"');
    expect(s!.html).toContain('app@db:5432/shop, slot s1');
    expect(s!.html).toContain('0/16B3748');
    expect(k!.html).toContain('FAILING');
    expect(k!.html).toContain('cannot write &quot;/x&quot;: &lt;b&gt;ENOSPC&lt;/b&gt;');
    expect(k!.html).not.toContain('<script>');
    expect(k!.html).not.toContain('<b>ENOSPC');
    expect(view.summary).toContain('unhealthy (1 not OK)');
    expect(view.summary).toContain('up <b data-field="uptime">1m 30s</b>');
  });

  test('a snapshot gets a progress bar at its percent', async () => {
    const doc = await documentOf([source]);
    doc.components[0]!.snapshots = [{ id: 'initial', kind: 'initial', state: 'running', tables: 5, tablesDone: 3, rowsDone: 412_000, rowsExpected: 1_000_000, percent: 41, rowsPerSecond: 52_100, etaSeconds: 11, }];
    const html = renderStatusView(doc).cards[0]!.html;
    expect(html).toContain('aria-valuenow="41"');
    expect(html).toContain('style="width:41%"');
    expect(html).toContain('3/5 tables, 412,000/1,000,000 rows, 52,100 rows/s, ETA 11 s');
  });

  test('runs from its own source text, as the page embeds it', async () => {
    const doc = await documentOf([source, sink]);
    const copy = new Function(`return (${renderStatusView.toString()})`)() as typeof renderStatusView;
    expect(copy(doc)).toEqual(renderStatusView(doc));
  });
});

describe('GET / and /ui', () => {
  test('without a token configured: the page with the status painted, a CSP with a fresh nonce, no caching', async () => {
    const app = appWith();
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy')!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("script-src 'unsafe-inline'");
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain('data-key="source:db1"');
    expect(initialJson(html).components).toHaveLength(3);
    // The embedded JSON cannot close its script element.
    expect(html).not.toContain('out<script>');
    const again = await app.request('/ui');
    expect(again.status).toBe(200);
    expect(again.headers.get('content-security-policy')).not.toBe(csp);
  });

  test('httpAuth = "all": the page loads without the token but shows nothing of the status; with it, everything', async () => {
    const app = appWith({ token: TOKEN, auth: 'all' });
    const res = await app.request('/');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(initialJson(html)).toBeNull();
    expect(html).not.toContain('db1');
    expect(html).not.toContain('app@db');
    expect(html).toContain('data-needs-token="yes"');
    const wrong = await (await app.request('/', { headers: { Authorization: 'Bearer nope' } })).text();
    expect(wrong).not.toContain('db1');
    const right = await (await app.request('/', { headers: bearer })).text();
    expect(right).toContain('data-key="source:db1"');
  });

  test('the status itself keeps the token: /status.json and /status answer 401 without it under "all", not under "control"', async () => {
    const all = appWith({ token: TOKEN, auth: 'all' });
    expect((await all.request('/status.json')).status).toBe(401);
    expect((await all.request('/status.json', { headers: bearer })).status).toBe(200);
    const control = appWith({ token: TOKEN, auth: 'control' });
    expect((await control.request('/status.json')).status).toBe(200);
    expect(guarded('/', 'all')).toBe(false);
    expect(guarded('/ui', 'all')).toBe(false);
    expect(guarded('/status.json', 'all')).toBe(true);
  });
});

describe('JSON status', () => {
  test('/status.json is always 200 and says whether all is healthy', async () => {
    const res = await appWith().request('/status.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const doc = (await res.json()) as StatusDocument;
    expect(doc.healthy).toBe(false);
    expect(doc.components.map((c) => `${c.kind}:${c.name}:${c.state}`)).toEqual(['source:db1:ok', 'pipeline:db1:ok', 'sink:out<script>:failing']);
  });

  test('/status asked for JSON gives the document with the text answer\'s status code; otherwise the original text, byte for byte', async () => {
    const app = appWith();
    const json = await app.request('/status', { headers: { Accept: 'application/json' } });
    expect(json.status).toBe(500);
    expect(((await json.json()) as StatusDocument).format).toBe(1);
    const text = await app.request('/status', { headers: { Accept: 'text/html,*/*' } });
    expect(text.status).toBe(500);
    expect(await text.text()).toBe('Source-PSQL (db1): OK\nPipeline (db1): OK\nSink-File (out<script>): cannot write "/x": <b>ENOSPC</b>\n');
    const healthy = await appWith(undefined, [source]).request('/status', { headers: { Accept: 'application/json' } });
    expect(healthy.status).toBe(200);
  });

  test('without a status reporter there is no page and no /status.json (404), as before', async () => {
    const app = createHttpApp({ components: () => [source], metrics: async () => ({ body: '', contentType: 'text/plain' }) });
    expect((await app.request('/')).status).toBe(404);
    expect((await app.request('/status.json')).status).toBe(404);
  });
});
