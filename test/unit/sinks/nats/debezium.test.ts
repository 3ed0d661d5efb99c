import { describe, expect, test } from 'bun:test';
import type { ChangeEvent, ColumnType } from '../../../../src/event/event.ts';
import { debeziumRecords } from '../../../../src/event/debezium/envelope.ts';
import { debeziumJson } from '../../../../src/event/debezium/json.ts';
import { debeziumNatsMessages } from '../../../../src/sinks/nats/debezium.ts';

const type = (name: string): ColumnType => ({ name, oid: 0, modifier: -1 }) as unknown as ColumnType;
const base: ChangeEvent = {
  source: 'pg', host: 'h', database: 'db', schema: 'public', table: 't', action: 'insert', lsn: 100n, commitLsn: 200n, xid: 7,
  commitTime: '2026-01-02T03:04:05.123456Z', timestamp: '2026-01-02T03:04:06.5Z', uuid: 'uuid-1', columns: { id: 1, v: 'a' }, key: ['id'],
  columnTypes: { id: type('int4'), v: type('text') },
};
const options = { prefix: 'p', decimalMode: 'string' as const, tombstones: true };
const decode = (d: Uint8Array) => JSON.parse(new TextDecoder().decode(d)) as { op: string };

describe('debeziumNatsMessages: the values of the records, no tombstones, an id per message', () => {
  test('an insert: one message, the record value as JSON, the event UUID as its id', () => {
    const [m, ...rest] = debeziumNatsMessages(base, options);
    expect(rest).toEqual([]);
    expect(m!.id).toBe('uuid-1');
    expect(new TextDecoder().decode(m!.data)).toBe(debeziumJson(debeziumRecords(base, options)[0]!.value));
  });

  test('a delete: no tombstone; an update of the key: delete and create, ids uuid and uuid-1', () => {
    const del = debeziumNatsMessages({ ...base, action: 'delete', old: { id: 1 } }, options);
    expect(del.map((m) => [m.id, decode(m.data).op])).toEqual([['uuid-1', 'd']]);
    const moved = debeziumNatsMessages({ ...base, action: 'update', columns: { id: 2, v: 'a' }, old: { id: 1 } }, options);
    expect(moved.map((m) => [m.id, decode(m.data).op])).toEqual([['uuid-1', 'd'], ['uuid-1-1', 'c']]);
  });

  test('a logical decoding message: none', () => {
    expect(debeziumNatsMessages({ ...base, action: 'message', columns: {} } as ChangeEvent, options)).toEqual([]);
  });
});
