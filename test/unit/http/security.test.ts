/**
 * The control endpoints answer only POST, and the optional bearer token guards them (or, with
 * httpAuth = "all", everything but /health and /metrics): docs/operations.md, "HTTP API security".
 */
import { describe, expect, test } from 'bun:test';
import { guarded, TokenCheck } from '../../../src/http/auth.ts';
import { createHttpApp } from '../../../src/http/app.ts';
import type { HttpSecurity } from '../../../src/config/schema.ts';
import type { Component } from '../../../src/core/component.ts';

const TOKEN = 'k9c2f6d1e8a4b7c3d5e0f1a2';

function appWith(security: HttpSecurity | undefined) {
  const component = { type: 'Sink-Stub', name: 'out', debug: false, stats: () => 'events: 0', status: () => null, setDebug(on: boolean) { this.debug = on; } };
  const app = createHttpApp({ components: () => [component as Component], metrics: async () => ({ body: 'm 1\n', contentType: 'text/plain' }), security });
  return { app, component };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('HTTP API security', () => {
  test.each(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])('regression: /debug/on answered %s; now 405 with Allow: POST and changes nothing', async (method) => {
    const { app, component } = appWith(undefined);
    const res = await app.request('/debug/on', { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(component.debug).toBe(false);
  });

  test('without a token configured, POST /debug/on works as before', async () => {
    const { app, component } = appWith(undefined);
    const res = await app.request('/debug/on', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(component.debug).toBe(true);
  });

  test('with a token (scope control): POST without or with a wrong token is 401 with WWW-Authenticate: Bearer; the right one works', async () => {
    const { app, component } = appWith({ token: TOKEN, auth: 'control' });
    let res = await app.request('/debug/on', { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="psql-streamer"');
    res = await app.request('/debug/on', { method: 'POST', headers: bearer(`${TOKEN}x`) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="psql-streamer", error="invalid_token"');
    res = await app.request('/debug/on', { method: 'POST', headers: { Authorization: `Basic ${btoa(`u:${TOKEN}`)}` } });
    expect(res.status).toBe(401);
    expect(component.debug).toBe(false);
    res = await app.request('/debug/on', { method: 'POST', headers: bearer(TOKEN) });
    expect(res.status).toBe(200);
    expect(component.debug).toBe(true);
    // The read-only paths stay open in scope "control".
    for (const path of ['/health', '/status', '/stats', '/metrics']) expect((await app.request(path)).status).toBe(200);
  });

  test('an unauthenticated GET of a control endpoint is 401 (authentication comes before the method check)', async () => {
    const { app } = appWith({ token: TOKEN, auth: 'control' });
    expect((await app.request('/debug/on')).status).toBe(401);
    expect((await app.request('/debug/on', { headers: bearer(TOKEN) })).status).toBe(405);
  });

  test('scope all: everything but /health and /metrics needs the token, unknown paths included', async () => {
    const { app } = appWith({ token: TOKEN, auth: 'all' });
    for (const path of ['/status', '/stats', '/debug', '/nothing-here']) {
      const res = await app.request(path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toStartWith('Bearer');
    }
    expect((await app.request('/status', { headers: bearer(TOKEN) })).status).toBe(200);
    expect((await app.request('/nothing-here', { headers: bearer(TOKEN) })).status).toBe(404);
    expect((await app.request('/health')).status).toBe(200);
    expect((await app.request('/metrics')).status).toBe(200);
  });

  test('guarded paths by scope', () => {
    expect(guarded('/debug/on', 'control')).toBe(true);
    expect(guarded('/status', 'control')).toBe(false);
    expect(guarded('/status', 'all')).toBe(true);
    expect(guarded('/health', 'all')).toBe(false);
    expect(guarded('/metrics', 'all')).toBe(false);
    // The snapshot API: what changes something needs the token in scope control, reads do not.
    expect(guarded('/sources/db1/snapshots', 'control', 'POST')).toBe(true);
    expect(guarded('/sources/db1/snapshots/s-1', 'control', 'DELETE')).toBe(true);
    expect(guarded('/sources/db1/snapshots', 'control', 'GET')).toBe(false);
    expect(guarded('/sources/db1/snapshots/s-1', 'control', 'HEAD')).toBe(false);
    expect(guarded('/sources/db1/snapshots', 'all', 'GET')).toBe(true);
    expect(guarded('/sources/db1/other', 'control', 'POST')).toBe(false);
  });

  test('TokenCheck: scheme case-insensitive, token exact, other lengths and empty values refused', () => {
    const check = new TokenCheck(TOKEN);
    expect(check.check(`bearer ${TOKEN}`)).toBe('ok');
    expect(check.check(`Bearer ${TOKEN.toUpperCase()}`)).toBe('invalid');
    expect(check.check(`Bearer ${TOKEN.slice(1)}`)).toBe('invalid');
    expect(check.check('Bearer ')).toBe('missing');
    expect(check.check(undefined)).toBe('missing');
    expect(check.check(TOKEN)).toBe('missing');
  });
});
