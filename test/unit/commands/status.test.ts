/**
 * `psql-streamer status` (src/commands/status.ts, status-text.ts): the table and lines it prints,
 * its exit codes, --url checks, and the answers it cannot use; the streamer is the HTTP app in
 * process (a real running one: test/integration/http/status-page.test.ts).
 */
import { describe, expect, test } from 'bun:test';
import type { Component } from '../../../src/core/component.ts';
import { ApiClient, type Fetch } from '../../../src/commands/snapshot-client.ts';
import { endpointOfUrl, runStatus } from '../../../src/commands/status.ts';
import { asStatusDocument, formatUptime, renderStatusText, statusExitCode } from '../../../src/commands/status-text.ts';
import { createHttpApp } from '../../../src/http/app.ts';
import type { ComponentStatus, StatusDocument } from '../../../src/http/status-model.ts';
import { buildStatus } from '../../../src/http/status-model.ts';
import { RateTracker } from '../../../src/http/status-rates.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';

const base: Omit<ComponentStatus, 'kind' | 'type' | 'name' | 'state'> = {
  reason: null, detail: null, endpoint: null, events: null, eventsPerSecond: null, lagBytes: null, lagSeconds: null,
  lagMessages: null, slot: null, delivered: null, buffered: null, retries: null, snapshots: [],
};

function doc(components: ComponentStatus[], parts: Partial<StatusDocument> = {}): StatusDocument {
  return {
    format: 1, version: 'psql-streamer 9.9.9', startedAt: '', generatedAt: '', uptimeSeconds: 7_500, halted: null,
    healthy: components.every((c) => c.state === 'ok' || c.state === 'warning'), components, ...parts,
  };
}

const source: ComponentStatus = {
  ...base, kind: 'source', type: 'Source-PSQL', name: 'db1', state: 'ok', eventsPerSecond: 1234.4, lagBytes: 1_258_291, lagSeconds: 0.34,
  slot: { retainedBytes: 16 * 2 ** 20, walStatus: 'reserved', safeWalSizeBytes: null }, delivered: '0/16B3748',
  snapshots: [{ id: 'initial', kind: 'initial', state: 'running', tables: 5, tablesDone: 3, rowsDone: 412_000, rowsExpected: 1_000_000, percent: 41, rowsPerSecond: 52_100, etaSeconds: 11 }],
};
const pipeline: ComponentStatus = { ...base, kind: 'pipeline', type: 'Pipeline', name: 'db1', state: 'ok', eventsPerSecond: 3.25, buffered: { events: 12, bytes: 900 }, retries: 0 };
const sink: ComponentStatus = { ...base, kind: 'sink', type: 'Sink-File', name: 'out', state: 'ok', eventsPerSecond: 0 };

describe('renderStatusText', () => {
  test('a headline, one aligned row per component, then the snapshot lines', () => {
    expect(renderStatusText(doc([source, pipeline, sink]))).toBe(
      'psql-streamer 9.9.9, up 2h05m: all OK\n' +
      'COMPONENT        STATE  EVENTS/S  LAG      BEHIND  SLOT               DELIVERED\n' +
      'Source-PSQL db1  OK     1,234     1.2 MiB  0.3s    16.0 MiB reserved  0/16B3748\n' +
      'Pipeline db1     OK     3.3       -        -       -                  buffered 12\n' +
      'Sink-File out    OK     0.0       -        -       -                  -\n' +
      'snapshot db1/initial running 41%: 3/5 tables, 412,000/1,000,000 rows, 52,100 rows/s, ETA 11s\n',
    );
  });

  test('reasons under the table; a warning is not unhealthy but says so; a halted process says why', () => {
    const failing = { ...sink, state: 'failing' as const, reason: 'No space left on device' };
    const warned = { ...source, snapshots: [], state: 'warning' as const, reason: 'WAL budget warning' };
    const text = renderStatusText(doc([warned, failing]));
    expect(text.split('\n')[0]).toBe('psql-streamer 9.9.9, up 2h05m: UNHEALTHY');
    expect(text).toContain('Source-PSQL db1  WARNING');
    expect(text).toContain('Sink-File out    FAILING');
    expect(text).toContain('Source-PSQL db1: WAL budget warning\nSink-File out: No space left on device\n');
    expect(renderStatusText(doc([warned])).split('\n')[0]).toBe('psql-streamer 9.9.9, up 2h05m: 1 warning(s)');
    expect(renderStatusText(doc([sink], { halted: 'slot missing', healthy: false }))).toContain('\nstopping: slot missing\n');
  });

  test('a Kafka source shows its lag in messages', () => {
    const kafka = { ...base, kind: 'source' as const, type: 'Source-Kafka', name: 'relay', state: 'connecting' as const, lagMessages: 1500, reason: 'connecting' };
    expect(renderStatusText(doc([kafka]))).toContain('Source-Kafka relay  CONNECTING  -         1,500 msgs');
  });
});

describe('exit code and uptime', () => {
  test('0 only when every component is OK and nothing halts', () => {
    expect(statusExitCode(doc([source, sink]))).toBe(0);
    expect(statusExitCode(doc([{ ...source, state: 'warning' }]))).toBe(1);
    expect(statusExitCode(doc([{ ...sink, state: 'connecting' }]))).toBe(1);
    expect(statusExitCode(doc([source], { halted: 'x' }))).toBe(1);
  });
  test('uptime', () => {
    expect(formatUptime(42)).toBe('42s');
    expect(formatUptime(3 * 86_400 + 4 * 3600 + 59)).toBe('3d04h');
  });
});

describe('--url', () => {
  test('an http(s) address with an optional path prefix; the token comes separately', () => {
    expect(endpointOfUrl('http://127.0.0.1:8080/')).toEqual({ origin: 'http://127.0.0.1:8080' });
    expect(endpointOfUrl('https://ops.example/streamer/', 'tok')).toEqual({ origin: 'https://ops.example/streamer', token: 'tok' });
    expect(() => endpointOfUrl('ftp://127.0.0.1:8080')).toThrow('use http:// or https://');
    expect(() => endpointOfUrl('127.0.0.1:8080')).toThrow('not a URL (e.g. http://127.0.0.1:8080)');
    expect(() => endpointOfUrl('http://u:secret@h:1')).toThrow('the token goes in $PSQL_STREAMER_HTTP_TOKEN');
  });
});

describe('runStatus against the HTTP app', () => {
  const components: Component[] = [{ type: 'Sink-Stub', name: 'out', stats: () => '', status: () => null, setDebug: () => {} }];
  const metrics = createMetrics();
  const status = async () => buildStatus({ components, metrics: await metrics.registry.getMetricsAsJSON(), version: 'v1', startedAtMs: 0, nowMs: 5_000, halted: null, rates: new RateTracker() });
  const app = createHttpApp({ components: () => components, metrics: () => metrics.scrape(), status, security: { token: 'tok', auth: 'all' } });
  const fetcher: Fetch = (url, init) => Promise.resolve(app.request(url, init));
  const run = async (token: string | undefined, json = false, fetch = fetcher) => {
    let out = '';
    let err = '';
    const client = new ApiClient({ origin: 'http://streamer', ...(token === undefined ? {} : { token }) }, fetch);
    const code = await runStatus({ url: 'http://streamer' }, json, { out: { write: (t) => { out += t; } }, err: { write: (t) => { err += t; } }, client });
    return { code, out, err };
  };

  test('prints the table (or --json the document) and exits 0 when all is OK', async () => {
    const table = await run('tok');
    expect(table).toMatchObject({ code: 0, err: '' });
    expect(table.out).toStartWith('v1, up 5s: all OK\nCOMPONENT');
    const json = await run('tok', true);
    expect(asStatusDocument(JSON.parse(json.out))?.components[0]?.name).toBe('out');
  });

  test('exit 2 with a clear message: no token, an old streamer, something else answering, nobody answering', async () => {
    expect(await run(undefined)).toMatchObject({ code: 2, out: '', err: 'the streamer at http://streamer asks for a token: set httpToken in the config to the one it runs with\n' });
    const old: Fetch = async () => new Response('404 page not found\n', { status: 404 });
    expect((await run('tok', false, old)).err).toBe('the streamer at http://streamer has no /status.json: is it an older version?\n');
    const other: Fetch = async () => Response.json({ hello: 'world' });
    expect(await run('tok', false, other)).toMatchObject({ code: 2, err: 'the streamer at http://streamer answered something that is not a status document; is it the same version?\n' });
    const refused: Fetch = async () => { throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }); };
    expect(await run('tok', false, refused)).toMatchObject({ code: 2, err: 'cannot reach the streamer at http://streamer: is it running?\n' });
  });
});
