/**
 * The structured status (src/http/status-model.ts, status-rates.ts, status-reporter.ts): states,
 * reasons with credentials masked, the numbers read from the real metric catalogue (so a renamed
 * metric fails here), snapshot percentages, events per second.
 */
import { describe, expect, test } from 'bun:test';
import type { Component } from '../../../src/core/component.ts';
import { buildStatus, redact, snapshotStatus, stateOf, STATUS_METRICS, type StatusInput } from '../../../src/http/status-model.ts';
import { RateTracker, RATE_WINDOW_MS } from '../../../src/http/status-rates.ts';
import { StatusReporter } from '../../../src/http/status-reporter.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import type { SnapshotControl, SnapshotInfo } from '../../../src/sources/postgres/snapshot/types.ts';

function component(type: string, name: string, parts: Partial<Component> = {}): Component {
  return { type, name, stats: () => '', status: () => null, setDebug: () => {}, ...parts };
}

function snapshot(parts: Partial<SnapshotInfo> & Pick<SnapshotInfo, 'tables' | 'state'>): SnapshotInfo {
  return { id: 'initial', source: 'db1', kind: 'initial', createdAt: '2026-12-07T07:00:00Z', rowsDone: 0, rowsEstimated: 0, rowsPerSecond: 0, etaSeconds: null, ...parts };
}

const T0 = Date.parse('2026-12-07T07:00:00Z');

async function input(components: Component[], metrics = createMetrics(), extra: Partial<StatusInput> = {}): Promise<StatusInput> {
  return {
    components,
    metrics: await metrics.registry.getMetricsAsJSON(),
    version: 'psql-streamer 9.9.9',
    startedAtMs: T0,
    nowMs: T0 + 3_725_000,
    halted: null,
    rates: new RateTracker(),
    ...extra,
  };
}

describe('stateOf', () => {
  test('status() decides health, warning() degrades a healthy component, "connecting" texts are their own state', () => {
    expect(stateOf(null, null)).toBe('ok');
    expect(stateOf(null, 'WAL budget warning')).toBe('warning');
    expect(stateOf('replication error: connection refused', null)).toBe('failing');
    expect(stateOf('connecting', null)).toBe('connecting');
    expect(stateOf('not yet connected: connection refused', 'x')).toBe('connecting');
    expect(stateOf('standing by: slot in use', null)).toBe('connecting');
  });
});

describe('redact', () => {
  test('masks connection-string and URL passwords, leaves the rest', () => {
    expect(redact("connect to host=db password=hunter2 user=app failed")).toBe('connect to host=db password=*** user=app failed');
    expect(redact("password='a b\\'c' dbname=x")).toBe('password=*** dbname=x');
    expect(redact('postgres://app:s3cret@db:5432/shop refused')).toBe('postgres://app:***@db:5432/shop refused');
    expect(redact('postgres://app@db:5432/shop refused; no password given')).toBe('postgres://app@db:5432/shop refused; no password given');
  });
});

describe('buildStatus', () => {
  test('each kind from its metrics; the source adds endpoint, position and slot; reasons masked', async () => {
    const metrics = createMetrics();
    metrics.sourceEvents.inc({ sourceName: 'db1', sourceType: 'Source-PSQL', table: 'public.a' }, 40);
    metrics.sourceEvents.inc({ sourceName: 'db1', sourceType: 'Source-PSQL', table: 'public.b' }, 2);
    metrics.slotBehindBytes.set({ sourceName: 'db1' }, 4096);
    metrics.slotRetainedBytes.set({ sourceName: 'db1' }, 1 << 20);
    for (const status of ['reserved', 'extended', 'lost']) metrics.slotWalStatus.set({ sourceName: 'db1', status }, status === 'extended' ? 1 : 0);
    metrics.deliveredLagSeconds.set({ sourceName: 'db1' }, 1.5);
    metrics.pipelineBatchEvents.observe({ source: 'db1' }, 30);
    metrics.pipelineBatchEvents.observe({ source: 'db1' }, 12);
    metrics.pipelineBufferedEvents.set({ source: 'db1' }, 7);
    metrics.pipelineBufferedBytes.set({ source: 'db1' }, 700);
    metrics.pipelineRetries.inc({ source: 'db1', sink: 'out' }, 3);
    metrics.sinkEvents.inc({ sinkName: 'out', sinkType: 'Sink-File', table: 'public.a' }, 42);
    const source = component('Source-PSQL', 'db1', {
      warning: () => 'WAL budget warning',
      statusDetails: () => 'slot: behind 4.0 KiB',
      details: () => ({ endpoint: 'app@db:5432/shop, slot s1', delivered: '0/16B3748' }),
    });
    const sink = component('Sink-File', 'out', { status: () => 'write to postgres://u:pw@x/y: ENOSPC' });
    const doc = buildStatus(await input([source, component('Pipeline', 'db1'), sink], metrics));

    expect(doc).toMatchObject({ format: 1, version: 'psql-streamer 9.9.9', uptimeSeconds: 3725, healthy: false, halted: null, startedAt: '2026-12-07T07:00:00.000Z' });
    const [s, p, k] = doc.components;
    expect(s).toMatchObject({
      kind: 'source', state: 'warning', reason: 'WAL budget warning', detail: 'slot: behind 4.0 KiB', endpoint: 'app@db:5432/shop, slot s1',
      delivered: '0/16B3748', events: 42, lagBytes: 4096, lagSeconds: 1.5, lagMessages: null,
      slot: { retainedBytes: 1 << 20, walStatus: 'extended', safeWalSizeBytes: null }, buffered: null,
    });
    expect(p).toMatchObject({ kind: 'pipeline', state: 'ok', reason: null, events: 42, buffered: { events: 7, bytes: 700 }, retries: 3, slot: null });
    expect(k).toMatchObject({ kind: 'sink', state: 'failing', reason: 'write to postgres://u:***@x/y: ENOSPC', events: 42, endpoint: null });
    // One sample: no rate yet.
    expect(s!.eventsPerSecond).toBeNull();
  });

  test('a Kafka source: lag in messages and committed offsets from its gauges; nothing counted yet is 0', async () => {
    const metrics = createMetrics();
    metrics.kafkaSourceLag.set({ sourceName: 'relay', topic: 't', partition: '0' }, 5);
    metrics.kafkaSourceLag.set({ sourceName: 'relay', topic: 't', partition: '1' }, 2);
    metrics.kafkaSourceCommittedOffset.set({ sourceName: 'relay', topic: 't', partition: '0' }, 100);
    const doc = buildStatus(await input([component('Source-Kafka', 'relay')], metrics));
    expect(doc.components[0]).toMatchObject({ events: 0, lagMessages: 7, lagBytes: null, delivered: 't/0@100', slot: null });
    expect(doc.healthy).toBe(true);
  });

  test('a halted process is unhealthy whatever its components say', async () => {
    const doc = buildStatus(await input([component('Sink-Stub', 'x')], createMetrics(), { halted: 'slot missing; password=abc' }));
    expect(doc.healthy).toBe(false);
    expect(doc.halted).toBe('slot missing; password=***');
  });

  test('snapshots: every active one and the newest finished one', async () => {
    const table = { table: 'public.a', state: 'done' as const, rowsDone: 10, rowsEstimated: 9, chunks: 1 };
    const list = [
      snapshot({ id: 'old', state: 'done', tables: [table] }),
      snapshot({ id: 'failed', state: 'failed', tables: [{ ...table, state: 'failed' }], error: 'password=x rejected' }),
      snapshot({ id: 'now', state: 'running', tables: [{ ...table, state: 'running', rowsDone: 25, rowsEstimated: 100 }] }),
    ];
    const control = { list: () => list } as unknown as SnapshotControl;
    const doc = buildStatus(await input([component('Source-PSQL', 'db1')], createMetrics(), { snapshots: (name) => (name === 'db1' ? control : undefined) }));
    expect(doc.components[0]!.snapshots.map((s) => `${s.id}:${s.state}:${s.percent}`)).toEqual(['failed:failed:99', 'now:running:25']);
    expect(doc.components[0]!.snapshots[0]!.error).toBe('password=*** rejected');
  });
});

describe('snapshotStatus', () => {
  const t = (state: 'pending' | 'running' | 'done', rowsDone: number, rowsEstimated: number) => ({ table: 'x', state, rowsDone, rowsEstimated, chunks: 0 });
  test('percent: done tables count their rows, running ones their estimate (never below their rows), 100 only when done', () => {
    expect(snapshotStatus(snapshot({ state: 'running', tables: [t('done', 50, 40), t('running', 30, 150)] }))).toMatchObject({ rowsDone: 80, rowsExpected: 200, percent: 40, tablesDone: 1, tables: 2 });
    expect(snapshotStatus(snapshot({ state: 'running', tables: [t('running', 500, 100)] })).percent).toBe(99);
    expect(snapshotStatus(snapshot({ state: 'done', tables: [t('done', 0, 100)] })).percent).toBe(100);
  });
  test('a table never analyzed (estimate 0) makes the total unknown until it is done', () => {
    expect(snapshotStatus(snapshot({ state: 'running', tables: [t('running', 30, 0), t('pending', 0, 10)] }))).toMatchObject({ rowsExpected: null, percent: null });
    expect(snapshotStatus(snapshot({ state: 'pending', tables: [t('pending', 0, 10)] }))).toMatchObject({ rowsExpected: 10, percent: 0 });
  });
});

describe('RateTracker', () => {
  test('per second over the samples of the last window; none from one sample or a span under half a second', () => {
    const rates = new RateTracker();
    rates.record('a', 100, 0);
    expect(rates.rate('a')).toBeNull();
    rates.record('a', 150, 400);
    expect(rates.rate('a')).toBeNull();
    rates.record('a', 300, 2_000);
    expect(rates.rate('a')).toBe(100);
    // Old samples go; one at or before the window's start stays.
    for (let t = 4_000; t <= 30_000; t += 2_000) rates.record('a', 300 + (t - 2_000) / 10, t);
    expect(rates.rate('a')).toBeCloseTo(100, 6);
    rates.record('a', 10_000, 32_000);
    expect(rates.rate('a')).toBeGreaterThan(100);
  });

  test('a counter that went down (a restart) starts over; retain() forgets the others', () => {
    const rates = new RateTracker();
    rates.record('a', 500, 0);
    rates.record('a', 600, 1_000);
    rates.record('a', 10, 2_000);
    expect(rates.rate('a')).toBeNull();
    rates.record('a', 20, 3_000);
    expect(rates.rate('a')).toBe(10);
    rates.record('b', 1, 0);
    rates.record('b', 2, RATE_WINDOW_MS);
    rates.retain(new Set(['a']));
    expect(rates.rate('b')).toBeNull();
    expect(rates.rate('a')).toBe(10);
  });
});

describe('StatusReporter', () => {
  test('every metric the document reads is in the catalogue', async () => {
    const names = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    expect(STATUS_METRICS.filter((name) => !names.has(name))).toEqual([]);
  });

  test('samples between documents give events per second; only the metrics it reads are asked for', async () => {
    const metrics = createMetrics();
    let now = T0;
    const asked = new Set<string>();
    const reporter = new StatusReporter({
      components: () => [component('Sink-File', 'out')],
      metrics: async (names) => {
        for (const name of names) asked.add(name);
        return (await metrics.registry.getMetricsAsJSON()).filter((m) => names.includes(m.name));
      },
      version: 'v',
      startedAtMs: T0,
      now: () => now,
    });
    await reporter.sample();
    metrics.sinkEvents.inc({ sinkName: 'out', sinkType: 'Sink-File', table: 't' }, 500);
    now += 2_000;
    const doc = await reporter.document();
    expect(doc.components[0]!.eventsPerSecond).toBe(250);
    expect([...asked]).toEqual([...STATUS_METRICS]);
  });
});
