import { describe, expect, test } from 'bun:test';
import { createHttpApp } from '../../../src/http/app.ts';
import type { Component } from '../../../src/core/component.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';

/** This file's metrics, with the process metrics the program serves. */
const metrics = createMetrics({ processMetrics: true });

function fakeComponent(type: string, name: string, problem: string | null = null): Component & { debug: boolean } {
  return {
    type,
    name,
    debug: false,
    stats: () => `events: 3`,
    status: () => problem,
    setDebug(on: boolean) {
      this.debug = on;
    },
  };
}

function appWith(components: Component[]) {
  return createHttpApp({
    components: () => components,
    metrics: () => metrics.scrape(),
  });
}

const POST = { method: 'POST' } as const;

describe('HTTP API', () => {
  test('GET /health answers the original body', async () => {
    const res = await appWith([]).request('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('Alive and well\n');
  });

  test('any method is accepted on the read-only paths, as Go ServeMux did', async () => {
    const res = await appWith([]).request('/health', { method: 'POST' });
    expect(res.status).toBe(200);
  });

  test('/status is 200 with one OK line per healthy component', async () => {
    const res = await appWith([fakeComponent('Source-PSQL', 'db1'), fakeComponent('Sink-Stub', 'Out')]).request('/status');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Source-PSQL (db1): OK\nSink-Stub (Out): OK\n');
  });

  test('/status: a warning prints WARNING and keeps 200; details follow the state; a failure hides the warning', async () => {
    const degraded = { ...fakeComponent('Source-PSQL', 'db1'), warning: () => 'WAL budget warning: 6.0 MiB retained', statusDetails: () => 'slot: behind 1.0 MiB' };
    const calm = { ...fakeComponent('Source-PSQL', 'db2'), warning: () => null, statusDetails: () => null };
    const res = await appWith([degraded, calm]).request('/status');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Source-PSQL (db1): WARNING: WAL budget warning: 6.0 MiB retained; slot: behind 1.0 MiB\nSource-PSQL (db2): OK\n');
    const failing = { ...fakeComponent('Source-PSQL', 'db1', 'stopped: over budget'), warning: () => 'hidden', statusDetails: () => 'slot: x' };
    const bad = await appWith([failing]).request('/status');
    expect(bad.status).toBe(500);
    expect(await bad.text()).toBe('Source-PSQL (db1): stopped: over budget; slot: x\n');
  });

  test('/status is 500 and says why when a component is unhealthy', async () => {
    const res = await appWith([
      fakeComponent('Source-PSQL', 'db1', 'replication error: connection refused'),
      fakeComponent('Sink-Stub', 'out'),
    ]).request('/status');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('Source-PSQL (db1): replication error: connection refused\nSink-Stub (out): OK\n');
  });

  test('/stats lists every component with the (Ticker) prefix', async () => {
    const res = await appWith([fakeComponent('Source-PSQL', 'db1'), fakeComponent('Sink-Stub', 'out')]).request('/stats');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('(Ticker) Source-PSQL (db1): events: 3\n(Ticker) Sink-Stub (out): events: 3\n');
  });

  test('/debug/on and /debug/off toggle every component, stub sinks included', async () => {
    const a = fakeComponent('Source-PSQL', 'db1');
    const b = fakeComponent('Sink-Stub', 'out');
    const app = appWith([a, b]);
    let res = await app.request('/debug/on', POST);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Debug is now true\n');
    expect(a.debug && b.debug).toBe(true);
    res = await app.request('/debug/off', POST);
    expect(await res.text()).toBe('Debug is now false\n');
    expect(a.debug || b.debug).toBe(false);
  });

  test('/debug errors match the original', async () => {
    const app = appWith([]);
    let res = await app.request('/debug/maybe', POST);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Debug can be [on] or [off]\n');
    res = await app.request('/debug/', POST);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Debug can be [on] or [off]\n');
    res = await app.request('/debug/on/now', POST);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Request should be in form /debug/[off|on]\n');
    res = await app.request('/debug');
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/debug/');
  });

  test('/metrics serves the Prometheus registry with the original metric names', async () => {
    metrics.sourceEvents.inc({ sourceName: 'db1', sourceType: 'Source-PSQL', table: 'orders' });
    const res = await appWith([]).request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await res.text();
    expect(body).toContain('source_events{sourceName="db1",sourceType="Source-PSQL",table="orders"}');
    for (const name of ['source_event_processing_time_sec', 'sink_event_processing_time_sec', 'sink_events', 'pipeline_batch_events']) {
      expect(body).toContain(`# TYPE ${name}`);
    }
    expect(body).toContain('process_cpu_seconds_total');
  });

  test('unknown paths are 404 with Go\'s body', async () => {
    const res = await appWith([]).request('/nope');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('404 page not found\n');
  });
});
