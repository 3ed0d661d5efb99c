/** describeError: one line per error, each reason once (docs/operations.md, "Status: connecting"). */
import { describe, expect, test } from 'bun:test';
import { StreamerError, describeError } from '../../../src/core/errors.ts';
import { PgConnectError } from '../../../src/pg/errors.ts';

describe('describeError', () => {
  test('causes are appended unless the text already says them', () => {
    const err = new Error('cannot write', { cause: new Error('disk full') });
    expect(describeError(err)).toBe('cannot write: disk full');
    expect(describeError(new Error('cannot write: disk full', { cause: new Error('disk full') }))).toBe('cannot write: disk full');
  });

  test('regression: a refused connection ended in "connect ECONNREFUSED 127.0.0.1:1" after saying so; now the errno is left out', () => {
    const errno = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = new PgConnectError('refused', 'connection to 127.0.0.1:1 refused (is the server running and accepting connections there?)', { host: '127.0.0.1', port: 1 }, errno, { explainsCause: true });
    expect(describeError(err)).toBe('connection to 127.0.0.1:1 refused (is the server running and accepting connections there?)');
  });

  test('regression: a Kafka error described in the message was repeated through its cause ("...: Cannot connect to any broker."); now once', () => {
    const cause = new AggregateError([new Error('Connection to 127.0.0.1:1 failed.')], 'Cannot connect to any broker.');
    const err = new StreamerError('SINK_WRITE', 'cannot get metadata of topic "t": cannot reach broker 127.0.0.1:1: connection refused', { cause, explainsCause: true });
    expect(describeError(err)).toBe('cannot get metadata of topic "t": cannot reach broker 127.0.0.1:1: connection refused');
  });

  test('a plain object cause is shown by its message, never "[object Object]"', () => {
    const err = new StreamerError('SINK_WRITE', 'cannot write 3 message(s)', { cause: { code: 'X', message: 'leader moved' } });
    expect(describeError(err)).toBe('cannot write 3 message(s): leader moved');
    expect(describeError(new Error('a', { cause: 42 }))).toBe('a: 42');
  });
});
