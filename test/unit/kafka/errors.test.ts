/** describeKafkaError: one line per error of @platformatic/kafka, each reason once (docs/operations.md, "Status: connecting"). */
import { describe, expect, test } from 'bun:test';
import { MultipleErrors, NetworkError, ProtocolError, TimeoutError } from '@platformatic/kafka';
import { describeKafkaError } from '../../../src/kafka/errors.ts';

/** A socket error as Node/Bun raise it. */
function refused(target: string): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${target}`), { code: 'ECONNREFUSED', syscall: 'connect' });
}

describe('describeKafkaError', () => {
  test('regression: a join against a closed port repeated "findGroupCoordinator failed 4 times." four times; now one reason', () => {
    const connect = () => new NetworkError('Connection to 127.0.0.1:1 failed.', { cause: refused('127.0.0.1:1') });
    const coordinator = () => new MultipleErrors('findGroupCoordinator failed 4 times.', [connect(), connect(), connect(), connect()]);
    // The library joins the nested messages into the top one.
    const err = new MultipleErrors(`joinGroup failed 4 times. ${Array(4).fill('findGroupCoordinator failed 4 times.').join(' ')}`, [coordinator(), coordinator(), coordinator(), coordinator()]);
    expect(describeKafkaError(err)).toBe('cannot reach broker 127.0.0.1:1: connection refused (ECONNREFUSED)');
  });

  test('"Cannot connect to any broker." around several brokers: each broker once', () => {
    const err = new MultipleErrors('Cannot connect to any broker.', [
      new NetworkError('Connection to 127.0.0.1:1 failed.', { cause: refused('127.0.0.1:1') }),
      new TimeoutError('Connection to 10.0.0.9:9092 timed out.'),
      new NetworkError('Connection to 127.0.0.1:1 failed.', { cause: refused('127.0.0.1:1') }),
    ]);
    expect(describeKafkaError(err)).toBe('cannot reach broker 127.0.0.1:1: connection refused (ECONNREFUSED); cannot reach broker 10.0.0.9:9092: timed out');
  });

  test('a top message that says what was done stays in front; the errno is read from the message when there is no code', () => {
    const err = new MultipleErrors('Producing messages failed.', [new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9092') })]);
    expect(describeKafkaError(err)).toBe('Producing messages failed: cannot reach broker 127.0.0.1:9092: connection refused (ECONNREFUSED)');
  });

  test('a protocol error names its error id and the server message; a plain error is its message', () => {
    const protocol = new ProtocolError('TOPIC_AUTHORIZATION_FAILED', 'not allowed here');
    expect(describeKafkaError(protocol)).toBe('Topic authorization failed [TOPIC_AUTHORIZATION_FAILED: not allowed here]');
    expect(describeKafkaError(new Error('Client is closed.'))).toBe('Client is closed');
    expect(describeKafkaError('text')).toBe('text');
  });

  test('more than three reasons: the last three and a count', () => {
    const err = new MultipleErrors('Cannot connect to any broker.', [1, 2, 3, 4, 5].map((n) => new NetworkError(`Connection to h${n}:9092 failed.`, { cause: refused(`h${n}:9092`) })));
    const line = describeKafkaError(err);
    expect(line).toStartWith('cannot reach broker h3:9092');
    expect(line).toEndWith('(and 2 more)');
  });
});
