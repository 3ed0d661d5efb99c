#!/usr/bin/env bun
/**
 * Nanoseconds per conversion (text → column value) for the common column types, and per
 * conversion + JSON encoding (goJsonValue), as the streamer does them per column per event.
 *
 *   bun bench/types-convert.ts [--json]
 *
 * Each case converts a rotating set of realistic values (so no single string is optimised for)
 * for ~200 ms after a warm-up, and reports the median of 5 rounds.
 */
import { goJsonValue } from '../src/event/go-json.ts';
import { OID } from '../src/pgtypes/oids.ts';
import { TypeRegistry } from '../src/pgtypes/registry.ts';

interface Case {
  name: string;
  oid: number;
  values: string[];
}

const cases: Case[] = [
  { name: 'int4', oid: OID.int4, values: ['0', '42', '-17', '123456', '2147483647', '-2147483648', '7', '99999'] },
  { name: 'int8 (small)', oid: OID.int8, values: ['1', '4711', '1234567890', '-98765', '1700000000000', '12', '0', '65536'] },
  { name: 'int8 (> 2^53)', oid: OID.int8, values: ['9223372036854775807', '-9223372036854775808', '9007199254740993', '12345678901234567'] },
  { name: 'bool', oid: OID.bool, values: ['t', 'f', 't', 't'] },
  { name: 'text (short)', oid: OID.text, values: ['hello', 'alice@example.com', 'Lorem ipsum dolor', 'x'] },
  { name: 'numeric', oid: OID.numeric, values: ['12.50', '0.000001', '123456789012345678901234567890.123', 'NaN'] },
  { name: 'float8', oid: OID.float8, values: ['3.14', '-0.001', '1e+100', '12345.6789', '0', '2.5'] },
  { name: 'uuid', oid: OID.uuid, values: ['0b9f1f5e-8c1a-4c36-9d2e-6f1f2f3a4b5c', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'] },
  { name: 'timestamptz', oid: OID.timestamptz, values: ['2020-03-07 19:40:31.123456+00', '2024-01-01 00:00:00+00', '2021-06-30 12:34:56.5+00', '1999-12-31 23:59:59.999+00'] },
  { name: 'timestamp', oid: OID.timestamp, values: ['2020-03-07 19:40:31.123456', '2024-01-01 00:00:00', '2021-06-30 12:34:56.5'] },
  { name: 'date', oid: OID.date, values: ['2020-03-07', '1999-12-31', '2024-02-29'] },
  { name: 'jsonb (small object)', oid: OID.jsonb, values: ['{"a": 1, "b": [true, null], "c": "x"}', '{"id": 42, "tags": ["red", "blue"]}', '[1, 2, 3]'] },
  { name: 'bytea (32 bytes hex)', oid: OID.bytea, values: ['\\x' + 'ab'.repeat(32), '\\x' + '0f'.repeat(32)] },
  { name: 'int4[] (5)', oid: OID._int4, values: ['{1,2,3,4,5}', '{10,20,NULL,40,50}', '{-1,0,1,2,3}'] },
  { name: 'text[] (3, one quoted)', oid: OID._text, values: ['{red,"dark blue",green}', '{a,b,c}', '{"x,y",z,NULL}'] },
];

const ROUNDS = 5;
const ROUND_NS = 200_000_000;

function measure(fn: (text: string) => unknown, values: string[]): number {
  let sink = 0;
  const mask = values.length;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const v = fn(values[i % mask] as string);
      if (v === undefined) sink++;
    }
  };
  run(200_000); // warm-up: let the JIT compile the converter
  const results: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = Bun.nanoseconds();
    let elapsed = 0;
    while (elapsed < ROUND_NS / ROUNDS) {
      run(100_000);
      n += 100_000;
      elapsed = Bun.nanoseconds() - start;
    }
    results.push(elapsed / n);
  }
  if (sink === -1) console.log(sink);
  results.sort((a, b) => a - b);
  return results[Math.floor(ROUNDS / 2)] as number;
}

const registry = new TypeRegistry();
const rows: { type: string; convertNs: number; convertEncodeNs: number }[] = [];
for (const c of cases) {
  const convert = registry.converter(c.oid);
  const convertNs = measure(convert, c.values);
  const convertEncodeNs = measure((text) => goJsonValue(convert(text)), c.values);
  rows.push({ type: c.name, convertNs, convertEncodeNs });
}

// A typical 8-column row (int8 id, int4, text, numeric, timestamptz, uuid, jsonb, bool): all columns
// converted and encoded, as one event's Columns costs (without the column names and the envelope).
const rowOids = [OID.int8, OID.int4, OID.text, OID.numeric, OID.timestamptz, OID.uuid, OID.jsonb, OID.bool];
const rowConverters = rowOids.map((oid) => registry.converter(oid));
const rowTexts = rowOids.map((oid) => cases.find((c) => c.oid === oid)!.values);
const rowValues = rowTexts[0]!.map((_, k) => rowTexts.map((values) => values[k % values.length] as string).join('\u0000'));
const convertRow = (joined: string) => {
  const texts = joined.split('\u0000');
  let out = '';
  for (let i = 0; i < rowConverters.length; i++) out += goJsonValue(rowConverters[i]!(texts[i]!));
  return out;
};
const splitOnly = (joined: string) => joined.split('\u0000').length;
const rowNs = measure(convertRow, rowValues) - measure(splitOnly, rowValues);
rows.push({ type: '8-column row (sum)', convertNs: NaN, convertEncodeNs: rowNs });

// The alternative representation of int8 that was measured before choosing "number when exact".
const alwaysBigint = (text: string) => BigInt(text);
rows.push({
  type: 'int8 (small) as always-bigint',
  convertNs: measure(alwaysBigint, cases[1]!.values),
  convertEncodeNs: measure((text) => goJsonValue(alwaysBigint(text)), cases[1]!.values),
});

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(`bun ${Bun.version}, ${ROUNDS} rounds, median ns per value`);
  console.log('type'.padEnd(32) + 'convert'.padStart(10) + 'convert+encode'.padStart(16));
  for (const row of rows) {
    const convert = Number.isNaN(row.convertNs) ? '-' : row.convertNs.toFixed(1);
    console.log(row.type.padEnd(32) + convert.padStart(10) + row.convertEncodeNs.toFixed(1).padStart(16));
  }
}
