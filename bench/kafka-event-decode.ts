/**
 * Benchmark of the Kafka source's event decoder (src/event/decode.ts): message values → ChangeEvent.
 * Three kinds of 8-column events, as psql-streamer writes them (encodePassthrough):
 *   original — the original's eight keys, every number safe: the JSON.parse fast path;
 *   ours     — with Schema, XID, CommitLSN, CommitTime, Key: still the fast path;
 *   bigint   — one int8 column beyond 2^53: the exact parser (EventDecoder goes there first once it
 *              has seen such a value).
 * Prints ns per event (wall and CPU), against JSON.parse of the same bytes as a floor.
 *
 *   bun bench/kafka-event-decode.ts [events]
 */
import type { ChangeEvent } from '../src/event/event.ts';
import { encodePassthrough } from '../src/event/passthrough.ts';
import { EventDecoder } from '../src/event/decode.ts';

const total = Number(process.argv[2] ?? 500_000);
const DISTINCT = 1024;

function event(i: number, kind: 'original' | 'ours' | 'bigint'): ChangeEvent {
  const base: ChangeEvent = {
    source: 'db1', host: 'db1.example', database: 'shop', schema: '', table: 'orders', action: 'update',
    lsn: 23_861_144n + BigInt(i) * 120n,
    timestamp: `2024-05-06T07:08:${String(i % 60).padStart(2, '0')}.${String(i % 1_000_000_000).padStart(9, '0')}+02:00`,
    uuid: `${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}-9c0b-4ef8-bb6d-6bb9bd380a11`,
    columns: {
      id: i + 1,
      customer_id: kind === 'bigint' ? 9_223_372_036_854_775_000n + BigInt(i) : 9_000_000_000_000 + i * 7919,
      name: `customer ${i} name`,
      amount: `${(i * 37) % 100000}.${String(i % 100).padStart(2, '0')}`,
      paid: i % 2 === 0,
      created_at: '2024-05-06T07:08:09.123456Z',
      ref: 'c0a80101-9c0b-4ef8-bb6d-6bb9bd380a11',
      note: i % 4 === 0 ? null : i % 4 === 1 ? 'déjà vu <b>' : `note ${i}`,
    },
  };
  if (kind === 'original') return base;
  return { ...base, schema: 'public', xid: 1000 + i, commitLsn: base.lsn + 64n, commitTime: '2024-05-06T05:08:09.123456Z', key: ['id'] };
}

function measure(label: string, values: Buffer[], decode: (value: Buffer) => unknown): void {
  for (let i = 0; i < 50_000; i++) decode(values[i % DISTINCT] as Buffer); // warm up
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < total; i++) decode(values[i % DISTINCT] as Buffer);
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const bytes = values.reduce((sum, v) => sum + v.length, 0) / values.length;
  console.log(`${label.padEnd(22)} ${((wall * 1e6) / total).toFixed(0).padStart(5)} ns/event wall, ` +
    `${(((used.user + used.system) * 1e3) / total).toFixed(0).padStart(5)} ns/event CPU (${bytes.toFixed(0)} bytes)`);
}

console.log(`${total} events per run, Bun ${Bun.version}`);
const text = new TextDecoder();
for (const kind of ['original', 'ours', 'bigint'] as const) {
  const values = Array.from({ length: DISTINCT }, (_, i) => Buffer.from(encodePassthrough(event(i, kind))));
  measure(`JSON.parse (${kind})`, values, (v) => JSON.parse(text.decode(v)));
  const decoder = new EventDecoder('relay');
  measure(`EventDecoder (${kind})`, values, (v) => decoder.decode(v));
}
