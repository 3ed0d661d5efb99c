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
