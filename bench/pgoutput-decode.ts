/**
 * Benchmark of the pgoutput decoder: 1M synthetic Insert messages of 8 mixed columns (int4, int8,
 * text, numeric, bool, timestamptz, uuid, nullable non-ASCII text), decoded with decodePgoutput,
 * then also named with rowChange (identity conversion). Prints ns per message (wall and CPU).
 *
 *   bun bench/pgoutput-decode.ts [messages]
 */
import { decodePgoutput } from '../src/pgoutput/decode.ts';
import type { Insert, Relation, RowMessage, TupleValue } from '../src/pgoutput/messages.ts';
import { RelationCache } from '../src/pgoutput/relations.ts';
import { rowChange } from '../src/pgoutput/rows.ts';
import { encodePgoutput } from '../test/helpers/pgoutput-frames.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const DISTINCT = 1024;

const relation: Relation = {
  tag: 'relation', xid: undefined, relationId: 16_400, namespace: 'public', name: 'orders', replicaIdentity: 'd',
  columns: [
    ['id', 23, true], ['customer_id', 20, false], ['name', 25, false], ['amount', 1700, false],
    ['paid', 16, false], ['created_at', 1184, false], ['ref', 2950, false], ['note', 25, false],
  ].map(([name, typeOid, isKey]) => ({ flags: isKey ? 1 : 0, isKey: isKey as boolean, name: name as string, typeOid: typeOid as number, typeModifier: -1 })),
};

function tupleFor(i: number): TupleValue[] {
  const hex = (i * 2654435761 >>> 0).toString(16).padStart(8, '0');
  return [
    String(i + 1),
    String(9_000_000_000_000 + i * 7919),
    `customer ${i} name`,
    `${(i * 37) % 100000}.${String(i % 100).padStart(2, '0')}`,
    i % 2 === 0 ? 't' : 'f',
    `2024-05-06 07:08:${String(i % 60).padStart(2, '0')}.${String(i % 1_000_000).padStart(6, '0')}+00`,
    `${hex}-9c0b-4ef8-bb6d-6bb9bd380a11`,
    i % 4 === 0 ? null : i % 4 === 1 ? 'déjà vu' : `note ${i}`,
  ];
}

// Frames sit in one big buffer, as payloads arrive inside socket reads.
const frames = Array.from({ length: DISTINCT }, (_, i) =>
  encodePgoutput({ tag: 'insert', xid: undefined, relationId: relation.relationId, newTuple: tupleFor(i) } satisfies Insert),
);
const arena = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
const views: Uint8Array[] = [];
let offset = 0;
for (const frame of frames) {
  arena.set(frame, offset);
  views.push(arena.subarray(offset, offset + frame.length));
  offset += frame.length;
}
const averageBytes = Math.round(arena.length / DISTINCT);

const cache = new RelationCache();
const info = cache.setRelation(relation);
const options = { protoVersion: 1 };
const identity = (_oid: number, raw: string | Uint8Array) => raw;

function run(name: string, body: (frame: Uint8Array) => unknown): void {
  for (let i = 0; i < 200_000; i++) body(views[i % DISTINCT] as Uint8Array); // warm-up (JIT tiers)
  let sink = 0;
  Bun.gc(true);
  const cpu0 = process.cpuUsage();
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < total; i++) if (body(views[i % DISTINCT] as Uint8Array)) sink++;
  const wall = Bun.nanoseconds() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuNs = (cpu.user + cpu.system) * 1000;
  console.log(
    `${name.padEnd(34)} ${(wall / total).toFixed(0).padStart(5)} ns/msg wall  ${(cpuNs / total).toFixed(0).padStart(5)} ns/msg CPU` +
      `  ${((total / wall) * 1e9 / 1e6).toFixed(2)} M msg/s  (${sink === total ? 'ok' : 'check'})`,
  );
}

console.log(`${total.toLocaleString('en')} Insert messages, 8 columns, ~${averageBytes} bytes each, Bun ${Bun.version}`);
for (let round = 1; round <= 3; round++) {
  console.log(`round ${round}`);
  run('decodePgoutput', (frame) => decodePgoutput(frame, options));
  run('decodePgoutput + rowChange', (frame) => rowChange(decodePgoutput(frame, options) as RowMessage, info, identity));
}
