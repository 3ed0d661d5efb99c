/** Deterministic change events for the contract suites and the unit tests of sinks and the pipeline. */
import type { ChangeEvent } from '../../src/event/event.ts';
import { RawJson } from '../../src/event/event.ts';

/** A deterministic change event numbered `i`; its UUID encodes source and number so order can be checked. */
export function makeTestEvent(i: number, source = 'db1', table = 'items'): ChangeEvent {
  const hex = i.toString(16).padStart(12, '0');
  let tag = 0;
  for (const ch of source) tag = (tag * 31 + ch.charCodeAt(0)) >>> 0;
  return {
    source,
    host: 'localhost',
    database: 'app',
    schema: 'public',
    table,
    action: 'insert',
    lsn: 0x1000000n + BigInt(i),
    commitLsn: 0x1000000n + BigInt(i),
    xid: 1000 + i,
    timestamp: '2026-01-02T03:04:05.123456789+00:00',
    uuid: `${tag.toString(16).padStart(8, '0')}-0000-4000-8000-${hex}`,
    columns: { id: i, name: `row ${i}`, big: 9007199254740993n, doc: new RawJson('{"a":[1,2]}'), note: 'quote " and \n newline' },
  };
}

/** UUID of ORIGINAL_ORDER_JSON. */
export const ORDER_UUID = '0b9f1f5e-8c1a-4c36-9d2e-6f1f2f3a4b5c';

/** An update of `orders` row 42 as the original psql-streamer v1.1.0 wrote it, byte for byte. */
export const ORIGINAL_ORDER_JSON =
  '{"Host":"db1","Database":"shop","Table":"orders","Action":"update","WALPosition":23861144,' +
  '"Timestamp":"2020-03-07T20:40:31.1234567+01:00","UUID":"' + ORDER_UUID + '",' +
  '"Columns":{"amount":"12.50","id":42,"note":null,"paid_at":"2020-03-07T19:40:31.5Z"}}';

/** The event of ORIGINAL_ORDER_JSON, from source `db1` unless overridden. */
export function originalOrderEvent(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    source: 'db1',
    host: 'db1',
    database: 'shop',
    schema: '',
    table: 'orders',
    action: 'update',
    lsn: 23861144n,
    timestamp: '2020-03-07T20:40:31.1234567+01:00',
    uuid: ORDER_UUID,
    columns: { note: null, id: 42, amount: '12.50', paid_at: '2020-03-07T19:40:31.5Z' },
    ...overrides,
  };
}
