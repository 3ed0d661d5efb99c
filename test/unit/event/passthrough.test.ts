import { describe, expect, test } from 'bun:test';
import { encodePassthrough } from '../../../src/event/passthrough.ts';
import { RawJson } from '../../../src/event/event.ts';
import { ORIGINAL_ORDER_JSON, originalOrderEvent } from '../../contract/events.ts';

const event = originalOrderEvent;

describe('encodePassthrough', () => {
  test('matches the original byte for byte: key order, decimal WALPosition, sorted columns', () => {
    expect(encodePassthrough(event())).toBe(ORIGINAL_ORDER_JSON);
  });

  test('is valid JSON whose first keys are the original eight, in order', () => {
    const parsed = JSON.parse(encodePassthrough(event({ schema: 'public', xid: 7, commitLsn: 99n })));
    expect(Object.keys(parsed).slice(0, 8)).toEqual(['Host', 'Database', 'Table', 'Action', 'WALPosition', 'Timestamp', 'UUID', 'Columns']);
    expect(Object.keys(parsed).slice(8)).toEqual(['Schema', 'XID', 'CommitLSN']);
  });

  test('appends the new fields after the original ones and omits unknown ones', () => {
    const json = encodePassthrough(
      event({
        schema: 'public',
        xid: 731,
        commitLsn: 23861200n,
        commitTime: '2020-03-07T19:40:31.000123Z',
        old: { id: 41 },
        key: ['id'],
        unchanged: ['blob'],
      }),
    );
    expect(json.endsWith(
      ',"Schema":"public","XID":731,"CommitLSN":23861200,"CommitTime":"2020-03-07T19:40:31.000123Z",' +
        '"Old":{"id":41},"Key":["id"],"Unchanged":["blob"]}',
    )).toBe(true);
    expect(encodePassthrough(event())).not.toContain('Schema');
  });

  test('keeps 64-bit integers and raw JSON exact', () => {
    const json = encodePassthrough(
      event({ lsn: 18446744073709551615n, columns: { big: 9223372036854775807n, num: new RawJson('123456789012345678901234.5'), doc: new RawJson('{"a":[1,2]}') } }),
    );
    expect(json).toContain('"WALPosition":18446744073709551615');
    expect(json).toContain('"Columns":{"big":9223372036854775807,"doc":{"a":[1,2]},"num":123456789012345678901234.5}');
  });

  test('truncate events carry an empty Columns object', () => {
    expect(encodePassthrough(event({ action: 'truncate', columns: {} }))).toContain('"Action":"truncate","WALPosition"');
    expect(encodePassthrough(event({ action: 'truncate', columns: {} }))).toContain('"Columns":{}');
  });
});
