import { describe, expect, test } from 'bun:test';
import { messageHeaders } from '../../../../src/kafka/headers.ts';
import { assignPartition, deadLetterMessage, dropValue, messageBytes, messageKey, outMessage, partitionKey, takeChunk, type OutMessage } from '../../../../src/sinks/kafka/message.ts';
import { makeTestEvent } from '../../../contract/events.ts';

function message(i: number, topic: string, partition: number, valueBytes = 10): OutMessage {
  const m = outMessage(makeTestEvent(i), topic, Buffer.from(`k${i}`), Buffer.alloc(valueBytes, 120), messageHeaders([]));
  if (partition >= 0) assignPartition(m, partition);
  return m;
}
const ids = (chunk: OutMessage[]) => chunk.map((m) => m.event.uuid.slice(-2));

describe('takeChunk', () => {
  test('everything fits: one request', () => {
    const pending = [message(1, 'a', 0), message(2, 'a', 1), message(3, 'b', 0)];
    expect(takeChunk(pending, { maxMessages: 10, maxBytes: 10_000 })).toEqual(pending);
  });

  test('per partition: a prefix of at most maxMessages, other partitions unaffected', () => {
    const pending = [message(1, 'a', 0), message(2, 'a', 0), message(3, 'a', 1), message(4, 'a', 0), message(5, 'a', 1)];
    expect(ids(takeChunk(pending, { maxMessages: 2, maxBytes: 10_000 }))).toEqual(['01', '02', '03', '05']);
  });

  test('per partition byte limit; a single larger message still goes alone', () => {
    const pending = [message(1, 'a', 0, 600), message(2, 'a', 0, 600), message(3, 'a', 1, 5000), message(4, 'a', 1, 10)];
    expect(ids(takeChunk(pending, { maxMessages: 100, maxBytes: 1000 }))).toEqual(['01', '03']);
  });

  test('once a partition is full, none of its later messages (order within a partition)', () => {
    const pending = [message(1, 'a', 0, 600), message(2, 'a', 0, 600), message(3, 'a', 0, 10)];
    expect(ids(takeChunk(pending, { maxMessages: 100, maxBytes: 1000 }))).toEqual(['01']);
  });

  test('isolated partitions send one message per request', () => {
    const pending = [message(1, 'a', 0), message(2, 'a', 0), message(3, 'a', 1), message(4, 'a', 1)];
    expect(ids(takeChunk(pending, { maxMessages: 100, maxBytes: 10_000, single: new Set([partitionKey('a', 0)]) }))).toEqual(['01', '03', '04']);
  });
});

test('messageBytes counts key, value, headers and record framing', () => {
  const m = { key: Buffer.from('kk'), value: Buffer.from('vvv'), headers: messageHeaders([[Buffer.from('h'), Buffer.from('xy')]]) };
  expect(messageBytes(m)).toBe(20 + 2 + 3 + 2 + 1 + 2);
  expect(messageBytes({ key: undefined, value: undefined, headers: messageHeaders([]) })).toBe(20);
});

test('a key given as a range of its buffer: counted, read and dead-lettered as those bytes', () => {
  const chunk = Buffer.from('{"line":1}["public.users",1]{"next":2}');
  const m = outMessage(makeTestEvent(1), 't', chunk, Buffer.from('vvv'), messageHeaders([]), undefined, 10, 28);
  expect(m.bytes).toBe(20 + 18 + 3);
  expect(Buffer.from(messageKey(m)!).toString()).toBe('["public.users",1]');
  const copy = deadLetterMessage(m, { code: 'MESSAGE_TOO_LARGE', message: 'too big' }, 'dlq');
  expect(Buffer.from(messageKey(copy)!).toString()).toBe('["public.users",1]');
  // A key made on its own is its whole buffer, without a view.
  const whole = outMessage(makeTestEvent(2), 't', Buffer.from('k'), undefined, messageHeaders([]));
  expect(messageKey(whole)).toBe(whole.key);
});

test('dead-letter copy: same key, value and headers plus the error, the original topic and partition, position and UUID', () => {
  const original = message(7, 'orders', 2);
  original.headers = messageHeaders([[Buffer.from('psql-streamer-source'), Buffer.from('db1')]]);
  original.bytes = messageBytes(original);
  const copy = deadLetterMessage(original, { code: 'MESSAGE_TOO_LARGE', message: 'too big' }, 'dlq');
  expect(copy.topic).toBe('dlq');
  expect(copy.partition).toBe(-1);
  expect(copy.key).toBe(original.key);
  expect(copy.value).toBe(original.value);
  expect(copy.deadLetterOf).toBe(original);
  const headers = Object.fromEntries([...copy.headers.pairs].map(([k, v]) => [k.toString(), v.toString()]));
  expect(headers).toEqual({
    'psql-streamer-source': 'db1',
    'psql-streamer-error': 'too big',
    'psql-streamer-error-code': 'MESSAGE_TOO_LARGE',
    'psql-streamer-original-topic': 'orders',
    'psql-streamer-original-partition': '2',
    'psql-streamer-wal-position': String(original.event.lsn),
    'psql-streamer-uuid': original.event.uuid,
  });
  expect(original.headers.pairs.length).toBe(1); // the original is untouched
  const unassigned = deadLetterMessage(message(8, 'bad name', -1), { code: 'INVALID_TOPIC', message: 'no' }, 'dlq');
  expect(unassigned.headers.pairs.map(([k]) => String(k))).not.toContain('psql-streamer-original-partition');
  expect(copy.bytes).toBe(messageBytes(copy));
  dropValue(copy);
  expect(copy.value).toBeUndefined();
  expect(copy.bytes).toBe(messageBytes(copy));
  expect(copy.headers.pairs.find(([k]) => k.toString() === 'psql-streamer-dropped-value-bytes')![1].toString()).toBe('10');
});
