/**
 * The snapshot endpoints (src/http/snapshots.ts) against an in-memory SnapshotControl: statuses,
 * JSON bodies and errors, Location, 405s, and the token rules (docs/operations.md, "HTTP API
 * security").
 */
import { describe, expect, test } from 'bun:test';
import type { HttpSecurity } from '../../../src/config/schema.ts';
import { createHttpApp } from '../../../src/http/app.ts';
import { MemorySnapshotControl } from '../../helpers/snapshot-fakes.ts';

const TOKEN = 'k9c2f6d1e8a4b7c3d5e0f1a2';

function appWith(security?: HttpSecurity) {
  const controls = new Map([['db1', new MemorySnapshotControl('db1')], ['db2', new MemorySnapshotControl('db2')]]);
  const app = createHttpApp({
    components: () => [],
    metrics: async () => ({ body: '', contentType: 'text/plain' }),
    security,
    snapshots: (name) => controls.get(name),
    snapshotSources: () => [...controls.keys()],
  });
  return { app, db1: controls.get('db1')! };
}

const post = (body: string, headers: Record<string, string> = {}) => ({ method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

async function expectError(res: Response, status: number, error: string | RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = await res.json() as { error: string };
  if (typeof error === 'string') expect(body).toEqual({ error });
  else expect(body.error).toMatch(error);
}

describe('snapshot API', () => {
  test('POST starts a backfill: 202, the info as JSON and a Location that reads it back', async () => {
    const { app, db1 } = appWith();
    const res = await app.request('/sources/db1/snapshots', post('{"tables": ["orders"], "where": "id > 5"}'));
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const info = await res.json() as { id: string; state: string; where: string; tables: { table: string }[] };
    expect(info).toMatchObject({ id: 's-1', source: 'db1', kind: 'backfill', state: 'pending', where: 'id > 5' });
    expect(info.tables.map((t) => t.table)).toEqual(['public.orders']);
    expect(db1.requests).toEqual([{ tables: ['orders'], where: 'id > 5' }]);
    expect(res.headers.get('location')).toBe('/sources/db1/snapshots/s-1');
    const again = await app.request(res.headers.get('location')!);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(info);
  });

  test('GET lists every snapshot of the source, newest last; another source has its own', async () => {
    const { app } = appWith();
    expect(await (await app.request('/sources/db1/snapshots')).json()).toEqual({ snapshots: [] });
    await app.request('/sources/db1/snapshots', post('{"tables": ["orders"]}'));
    await app.request('/sources/db1/snapshots', post('{"tables": ["items"]}'));
    const res = await app.request('/sources/db1/snapshots');
    expect(res.status).toBe(200);
    const body = await res.json() as { snapshots: { id: string }[] };
    expect(body.snapshots.map((s) => s.id)).toEqual(['s-1', 's-2']);
    expect(await (await app.request('/sources/db2/snapshots')).json()).toEqual({ snapshots: [] });
  });

  test('DELETE cancels: 200 with the cancelled info; an unknown id is 404', async () => {
    const { app } = appWith();
    await app.request('/sources/db1/snapshots', post('{"tables": ["orders"]}'));
    const res = await app.request('/sources/db1/snapshots/s-1', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 's-1', state: 'cancelled' });
    expect(await (await app.request('/sources/db1/snapshots/s-1')).json()).toMatchObject({ state: 'cancelled' });
    await expectError(await app.request('/sources/db1/snapshots/s-9', { method: 'DELETE' }), 404, 'no snapshot s-9 on source db1');
    await expectError(await app.request('/sources/db1/snapshots/s-9'), 404, 'no snapshot s-9 on source db1');
  });

  test('an unknown source is 404 naming the PostgreSQL sources there are', async () => {
    const { app } = appWith();
    await expectError(await app.request('/sources/nope/snapshots'), 404, 'no PostgreSQL source named nope (sources: db1, db2)');
    await expectError(await app.request('/sources/nope/snapshots', post('{"tables": ["a"]}')), 404, 'no PostgreSQL source named nope (sources: db1, db2)');
    await expectError(await app.request('/sources/nope/snapshots/s-1', { method: 'DELETE' }), 404, 'no PostgreSQL source named nope (sources: db1, db2)');
    const none = createHttpApp({ components: () => [], metrics: async () => ({ body: '', contentType: '' }), snapshots: () => undefined });
    await expectError(await none.request('/sources/db1/snapshots'), 404, 'no PostgreSQL source named db1 (no PostgreSQL source is configured)');
  });

  test('a bad body is 400 with what was expected, and the service never sees it', async () => {
    const { app, db1 } = appWith();
    await expectError(await app.request('/sources/db1/snapshots', post('orders')), 400, /^the body is not JSON/);
    await expectError(await app.request('/sources/db1/snapshots', post('{"tables": []}')), 400, '"tables" is empty: name at least one table ("schema.table" or "table")');
    await expectError(await app.request('/sources/db1/snapshots', post('{"tables": ["a"], "wehre": "x"}')), 400, /^unknown field "wehre".*did you mean "where"\?$/);
    await expectError(await app.request('/sources/db1/snapshots', { method: 'POST' }), 400, /^the body is empty/);
    expect(db1.requests).toEqual([]);
  });

  test('a body over 64 KiB is 413 before it is read', async () => {
    const { app, db1 } = appWith();
    const body = JSON.stringify({ tables: ['a'], where: 'x'.repeat(70_000) });
    await expectError(await app.request('/sources/db1/snapshots', post(body)), 413, /^the body is larger than 65536 bytes/);
    expect(db1.requests).toEqual([]);
  });

  test('refusals of the service keep their status and message: 400 bad name, 404 not published, 409', async () => {
    const { app, db1 } = appWith();
    await expectError(await app.request('/sources/db1/snapshots', post('{"tables": ["public.no such"]}')), 400, '"public.no such" is not a table name (schema.table)');
    await expectError(await app.request('/sources/db1/snapshots', post('{"tables": ["public.secret"]}')), 404, 'table public.secret is not in the publication');
    db1.busy = 'the initial snapshot is still running';
    await expectError(await app.request('/sources/db1/snapshots', post('{"tables": ["orders"]}')), 409, 'the initial snapshot is still running');
  });

  test('any other failure of the service is a JSON 500', async () => {
    const { app, db1 } = appWith();
    db1.start = async () => { throw new Error('connection refused'); };
    await expectError(await app.request('/sources/db1/snapshots', post('{"tables": ["orders"]}')), 500, 'snapshot service failed: connection refused');
  });

  test.each([
    ['/sources/db1/snapshots', 'PUT', 'GET, POST'],
    ['/sources/db1/snapshots', 'DELETE', 'GET, POST'],
    ['/sources/db1/snapshots/s-1', 'POST', 'GET, DELETE'],
    ['/sources/db1/snapshots/s-1', 'PATCH', 'GET, DELETE'],
  ])('%s answers %s with 405 and Allow', async (path, method, allow) => {
    const { app, db1 } = appWith();
    const res = await app.request(path, { method });
    await expectError(res, 405, `${method} is not allowed on ${path}: use ${allow.replace(', ', ' or ')}`);
    expect(res.headers.get('allow')).toBe(allow);
    expect(db1.requests).toEqual([]);
  });

  test('other paths under /sources/ are a JSON 404 showing the API', async () => {
    const { app } = appWith();
    await expectError(await app.request('/sources/db1/snapshots/s-1/x'), 404, /^no such path \/sources\/db1\/snapshots\/s-1\/x: the snapshot API is/);
    await expectError(await app.request('/sources/db1'), 404, /^no such path/);
  });

  test('without the snapshot dependency there is no snapshot API (plain 404)', async () => {
    const app = createHttpApp({ components: () => [], metrics: async () => ({ body: '', contentType: '' }) });
    const res = await app.request('/sources/db1/snapshots');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('404 page not found\n');
  });
});

describe('snapshot API security', () => {
  const bearer = { Authorization: `Bearer ${TOKEN}` };

  test('scope control: POST and DELETE need the token; GET does not (like /status)', async () => {
    const { app, db1 } = appWith({ token: TOKEN, auth: 'control' });
    let res = await app.request('/sources/db1/snapshots', post('{"tables": ["orders"]}'));
    await expectError(res, 401, 'Unauthorized: send "Authorization: Bearer <httpToken>"');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="psql-streamer"');
    expect(db1.requests).toEqual([]);
    res = await app.request('/sources/db1/snapshots', post('{"tables": ["orders"]}', { Authorization: `Bearer ${TOKEN}x` }));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await app.request('/sources/db1/snapshots', post('{"tables": ["orders"]}', bearer))).status).toBe(202);
    expect((await app.request('/sources/db1/snapshots/s-1', { method: 'DELETE' })).status).toBe(401);
    expect(db1.get('s-1')?.state).toBe('pending');
    expect((await app.request('/sources/db1/snapshots/s-1', { method: 'DELETE', headers: bearer })).status).toBe(200);
    expect((await app.request('/sources/db1/snapshots')).status).toBe(200);
    expect((await app.request('/sources/db1/snapshots/s-1')).status).toBe(200);
    // Authentication comes before the method check, as for /debug.
    expect((await app.request('/sources/db1/snapshots', { method: 'PUT' })).status).toBe(401);
  });

  test('scope all: reads need the token too', async () => {
    const { app } = appWith({ token: TOKEN, auth: 'all' });
    expect((await app.request('/sources/db1/snapshots')).status).toBe(401);
    expect((await app.request('/sources/db1/snapshots', { headers: bearer })).status).toBe(200);
  });

  test('no token configured: everything is open, as /debug is', async () => {
    const { app } = appWith(undefined);
    expect((await app.request('/sources/db1/snapshots', post('{"tables": ["orders"]}'))).status).toBe(202);
  });
});
