import { describe, expect, test } from 'bun:test';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { eventHeaders, type MessageHeaders } from '../../../src/kafka/headers.ts';
import { rowKey } from '../../../src/event/key.ts';
import { TopicRouter } from '../../../src/sinks/kafka/routing.ts';

function event(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    source: 'db1', host: 'h', database: 'app', schema: 'public', table: 'orders', action: 'insert',
    lsn: 0x16b3748n, commitLsn: 0x16b3700n, timestamp: 't', uuid: 'u', columns: { id: 42 }, key: ['id'], ...overrides,
  };
}

function text(headers: MessageHeaders): Record<string, string> {
  return Object.fromEntries(headers.pairs.map(([k, v]) => [k.toString(), v.toString()]));
}

describe('event headers', () => {
  test('consecutive events that differ in one field each get their own headers', () => {
    const variants: Array<[Partial<ChangeEvent>, Record<string, string>]> = [
      [{}, { 'psql-streamer-source': 'db1', 'psql-streamer-table': 'public.orders', 'psql-streamer-lsn': '0/16B3700', 'psql-streamer-action': 'insert' }],
      [{ source: 'db2' }, { 'psql-streamer-source': 'db2', 'psql-streamer-table': 'public.orders', 'psql-streamer-lsn': '0/16B3700', 'psql-streamer-action': 'insert' }],
      [{ table: 'users' }, { 'psql-streamer-source': 'db1', 'psql-streamer-table': 'public.users', 'psql-streamer-lsn': '0/16B3700', 'psql-streamer-action': 'insert' }],
      [{ schema: 'shop' }, { 'psql-streamer-source': 'db1', 'psql-streamer-table': 'shop.orders', 'psql-streamer-lsn': '0/16B3700', 'psql-streamer-action': 'insert' }],
      [{ schema: '' }, { 'psql-streamer-source': 'db1', 'psql-streamer-table': 'orders', 'psql-streamer-lsn': '0/16B3700', 'psql-streamer-action': 'insert' }],
      [{ action: 'delete' }, { 'psql-streamer-source': 'db1', 'psql-streamer-table': 'public.orders', 'psql-streamer-lsn': '0/16B3700', 'psql-streamer-action': 'delete' }],
      [{ commitLsn: 0x2000000n }, { 'psql-streamer-source': 'db1', 'psql-streamer-table': 'public.orders', 'psql-streamer-lsn': '0/2000000', 'psql-streamer-action': 'insert' }],
      [{ commitLsn: undefined }, { 'psql-streamer-source': 'db1', 'psql-streamer-table': 'public.orders', 'psql-streamer-lsn': '0/16B3748', 'psql-streamer-action': 'insert' }],
    ];
    // Every order of two variants: whatever came before, an event's headers are its own.
    for (const [a, expectedA] of variants) {
      for (const [b, expectedB] of variants) {
        expect(text(eventHeaders(event(a)))).toEqual(expectedA);
        expect(text(eventHeaders(event(b)))).toEqual(expectedB);
      }
    }
  });

  test('events of one table, action and transaction share one headers map', () => {
    const first = eventHeaders(event({ uuid: 'a', columns: { id: 1 } }));
    expect(eventHeaders(event({ uuid: 'b', columns: { id: 2 } }))).toBe(first);
    expect(eventHeaders(event({ uuid: 'c', action: 'update' }))).not.toBe(first);
  });
});

describe('per-table caches', () => {
  test('row keys and topics follow the table from event to event', () => {
    const router = new TopicRouter({ 'public.orders': 'o', users: 'u' }, 'fb');
    const sequence: Array<[Partial<ChangeEvent>, string, string]> = [
      [{}, '["public.orders",42]', 'o'],
      [{ table: 'users' }, '["public.users",42]', 'u'],
      [{ schema: 'shop' }, '["shop.orders",42]', 'fb'],
      [{ schema: '' }, '["orders",42]', 'fb'],
      [{ schema: '', table: 'users' }, '["users",42]', 'u'],
      [{}, '["public.orders",42]', 'o'],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [overrides, key, topic] of sequence) {
        const e = event(overrides);
        expect(rowKey(e)).toBe(key);
        expect(router.topicFor(e.schema, e.table)).toBe(topic);
      }
    }
  });
});
