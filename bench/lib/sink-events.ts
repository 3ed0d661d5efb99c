/**
 * What the in-process sink benchmarks (bench/http-sink.ts, bench/nats-sink.ts) feed a sink: N events
 * of 8 mixed columns with their passthrough JSON prebuilt (as the PostgreSQL source builds it, so
 * what is measured is the sink), cut into batches; and a sink's options from its spec's defaults.
 */
import type { SectionSpec } from '../../src/config/fields.ts';
import type { ChangeEvent } from '../../src/event/event.ts';
import { passthroughBytes } from '../../src/event/passthrough.ts';

/** `count` insert events of table `bench`, their JSON in `encoded`. */
export function benchEvents(count: number): ChangeEvent[] {
  const events: ChangeEvent[] = Array.from({ length: count }, (_, i) => ({
    source: 'bench', host: 'localhost', database: 'bench', schema: 'public', table: 'bench', action: 'insert',
    lsn: BigInt(i), commitLsn: BigInt(i), xid: i, timestamp: '2026-12-07T08:00:00.123456789+00:00',
    uuid: `00000000-0000-8000-8000-${i.toString(16).padStart(12, '0')}`,
    columns: { id: i, big: BigInt(i) * 1000n, name: `row ${i} ${'x'.repeat(60)}`, amount: '12345.67', flag: i % 2 === 0, at: '2026-12-07 08:00:00+00', doc: '{"a":1}', ref: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
  }));
  for (const e of events) e.encoded = passthroughBytes(e);
  return events;
}

/** `events` in consecutive batches of `size`. */
export function batchesOf(events: ChangeEvent[], size: number): ChangeEvent[][] {
  const batches: ChangeEvent[][] = [];
  for (let i = 0; i < events.length; i += size) batches.push(events.slice(i, i + size));
  return batches;
}

/** The keys of `spec` that have a default, with it (a copy). */
export function specDefaults(spec: SectionSpec): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) if (field.default !== undefined) defaults[key] = structuredClone(field.default);
  return defaults;
}
