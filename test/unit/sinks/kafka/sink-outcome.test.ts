import { describe, expect, test } from 'bun:test';
import { MultipleErrors, NetworkError, TimeoutError, UserError } from '@platformatic/kafka';
import { partitionKey } from '../../../../src/sinks/kafka/message.ts';
import { failureKind, produceOutcome } from '../../../../src/sinks/kafka/outcome.ts';
import { CODES, responseError, type SendCall } from '../../../helpers/kafka-fake-producer.ts';

const call = (parts: Array<[string, number]>): SendCall => ({
  acks: -1,
  messages: parts.map(([topic, partition]) => ({ topic, partition, key: undefined, value: 'v', headers: {} })),
});

describe('produceOutcome', () => {
  test('per partition: acknowledged ones, and the error of each other one', () => {
    const parts: Array<[string, number]> = [['a', 0], ['a', 1], ['b', 0]];
    const err = responseError(call(parts), { 'a:1': CODES.NOT_LEADER_OR_FOLLOWER, 'b:0': CODES.MESSAGE_TOO_LARGE });
    const outcome = produceOutcome(err, parts.map(([t, p]) => partitionKey(t, p)));
    expect([...outcome.acked]).toEqual([partitionKey('a', 0)]);
    expect(outcome.failed.get(partitionKey('a', 1))).toMatchObject({ kind: 'retryable', code: 'NOT_LEADER_OR_FOLLOWER' });
    expect(outcome.failed.get(partitionKey('b', 0))).toMatchObject({ kind: 'tooLarge', code: 'MESSAGE_TOO_LARGE' });
    expect(outcome.failed.get(partitionKey('b', 0))!.message).toContain('[MESSAGE_TOO_LARGE]');
  });

  test('acknowledged in an earlier attempt counts as acknowledged', () => {
    const parts: Array<[string, number]> = [['a', 0], ['a', 1]];
    const first = responseError(call(parts), { 'a:1': CODES.NOT_LEADER_OR_FOLLOWER });
    const second = responseError(call(parts), { 'a:0': CODES.NOT_LEADER_OR_FOLLOWER, 'a:1': CODES.NOT_LEADER_OR_FOLLOWER });
    const outcome = produceOutcome(new MultipleErrors('produce failed 2 times.', [first, second]), parts.map(([t, p]) => partitionKey(t, p)));
    expect([...outcome.acked]).toEqual([partitionKey('a', 0)]);
    expect([...outcome.failed.keys()]).toEqual([partitionKey('a', 1)]);
  });

  test('partitions of other brokers reported as produced are acknowledged', () => {
    const err = new MultipleErrors('Producing messages failed.', [new NetworkError('Connection closed')], { produced: { offsets: [{ topic: 'a', partition: 3, offset: 10n }] } });
    const outcome = produceOutcome(err, [partitionKey('a', 3), partitionKey('a', 4)]);
    expect([...outcome.acked]).toEqual([partitionKey('a', 3)]);
    expect(outcome.failed.get(partitionKey('a', 4))).toMatchObject({ kind: 'retryable', code: 'PLT_KFK_NETWORK' });
  });

  test('errors without partition detail apply to every partition: network and timeouts retry, bad options are fatal', () => {
    const keys = [partitionKey('a', 0)];
    const network = produceOutcome(new MultipleErrors('Producing messages failed.', [new NetworkError('Connection to x:1 failed.', { cause: new Error('ECONNREFUSED') })]), keys);
    expect(network.failed.get(keys[0]!)).toMatchObject({ kind: 'retryable', code: 'PLT_KFK_NETWORK' });
    expect(network.failed.get(keys[0]!)!.message).toContain('ECONNREFUSED');
    const timeout = produceOutcome(new TimeoutError('Request timed out after 2000 milliseconds.'), keys);
    expect(timeout.failed.get(keys[0]!)!.kind).toBe('retryable');
    expect(produceOutcome(new UserError('Unknown topic a.'), keys).failed.get(keys[0]!)!.kind).toBe('retryable');
    expect(produceOutcome(new UserError('/options/acks must be <= 1.'), keys).failed.get(keys[0]!)!.kind).toBe('fatal');
  });
});

test('failureKind', () => {
  expect(failureKind('MESSAGE_TOO_LARGE')).toBe('tooLarge');
  expect(failureKind('RECORD_LIST_TOO_LARGE')).toBe('tooLarge');
  expect(failureKind('INVALID_TOPIC_EXCEPTION')).toBe('undeliverable');
  expect(failureKind('INVALID_RECORD')).toBe('undeliverable');
  expect(failureKind('UNSUPPORTED_COMPRESSION_TYPE')).toBe('fatal');
  for (const code of ['NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT', 'NOT_ENOUGH_REPLICAS', 'TOPIC_AUTHORIZATION_FAILED', 'PLT_KFK_NETWORK']) {
    expect(failureKind(code)).toBe('retryable');
  }
});
