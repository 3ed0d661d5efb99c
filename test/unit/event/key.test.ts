import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { RawJson } from '../../../src/event/event.ts';
import { originalKey, qualifiedTable, rowKey } from '../../../src/event/key.ts';
import { KeyEncoder } from '../../../src/sinks/kafka/key-bytes.ts';

const keyText = (mode: 'row' | 'original' | 'none', e: ChangeEvent) => {
  const key = new KeyEncoder(mode).keyOf(e);
  return key === undefined ? undefined : new TextDecoder().decode(key);
};

function event(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    source: 'db1', host: 'pg1', database: 'shop', schema: 'public', table: 'orders', action: 'insert',
    lsn: 100n, commitLsn: 200n, timestamp: '2026-01-02T03:04:05.123456789+00:00', uuid: 'u',
    columns: { id: 42, name: 'x' }, key: ['id'],
    ...overrides,
  };
}

describe('row key', () => {
  test('table and key values as a JSON array', () => {
    expect(rowKey(event())).toBe('["public.orders",42]');
    expect(JSON.parse(rowKey(event()))).toEqual(['public.orders', 42]);
  });

  test('composite keys keep key order (not column order), with the event encodings', () => {
    const e = event({
      columns: { b: 'A-7', a: 9007199254740993n, c: true, d: new RawJson('{"x":1}') },
      key: ['b', 'a', 'c', 'd'],
    });
    expect(rowKey(e)).toBe('["public.orders","A-7",9007199254740993,true,{"x":1}]');
  });

  test('the same row gives the same key for insert, update and delete', () => {
    const insert = event({ columns: { id: 42, name: 'a' } });
    const update = event({ action: 'update', columns: { id: 42, name: 'b' }, old: { id: 42 } });
    const del = event({ action: 'delete', columns: { id: 42 } });
    const deleteWithOldOnly = event({ action: 'delete', columns: {}, old: { id: 42 } });
    const keys = [insert, update, del, deleteWithOldOnly].map(rowKey);
    expect(new Set(keys).size).toBe(1);
  });

  test('an update that changes the key is keyed by the new key', () => {
    expect(rowKey(event({ action: 'update', columns: { id: 43 }, old: { id: 42 } }))).toBe('["public.orders",43]');
  });

  test('Go escaping of text key values', () => {
    expect(rowKey(event({ columns: { id: '<a&b>' } }))).toBe('["public.orders","\\u003ca\\u0026b\\u003e"]');
  });

  test('a missing key value is null', () => {
    expect(rowKey(event({ columns: {}, key: ['id'] }))).toBe('["public.orders",null]');
  });

  test('no key columns: the table alone', () => {
    expect(rowKey(event({ key: undefined }))).toBe('["public.orders"]');
    expect(rowKey(event({ key: [] }))).toBe('["public.orders"]');
    expect(rowKey(event({ action: 'truncate', columns: {}, key: undefined }))).toBe('["public.orders"]');
  });

  test('logical decoding messages are keyed by their prefix', () => {
    const message = event({ action: 'message', schema: '', table: '', key: undefined, columns: { prefix: 'audit', content: 'x', transactional: true } });
    expect(rowKey(message)).toBe('["pg_logical_emit_message","audit"]');
  });

  test('without a schema the bare table is used', () => {
    expect(rowKey(event({ schema: '' }))).toBe('["orders",42]');
    expect(qualifiedTable({ schema: '', table: 't' })).toBe('t');
    expect(qualifiedTable({ schema: 's', table: 't' })).toBe('s.t');
  });
});

describe('modes', () => {
  test('original: Host:Database:Table:Action', () => {
    expect(originalKey(event())).toBe('pg1:shop:orders:insert');
    expect(keyText('original', event({ action: 'delete' }))).toBe('pg1:shop:orders:delete');
  });
  test('row and none', () => {
    expect(keyText('row', event())).toBe('["public.orders",42]');
    expect(keyText('none', event())).toBeUndefined();
  });
});
