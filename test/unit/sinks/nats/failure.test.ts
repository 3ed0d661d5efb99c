import { describe, expect, test } from 'bun:test';
import { classifyPublishError } from '../../../../src/sinks/nats/failure.ts';

/** An error shaped as the NATS client's (name, message, code, cause). */
const natsError = (name: string, message: string, extra: { code?: number; cause?: unknown } = {}) =>
  Object.assign(new Error(message, extra.cause === undefined ? undefined : { cause: extra.cause }), { name }, extra.code === undefined ? {} : { code: extra.code });

describe('classifyPublishError', () => {
  test('no responders (no stream captures the subject): retryable, names the subject and the remedy', () => {
    const f = classifyPublishError(natsError('JetStreamNotEnabled', 'jetstream is not enabled', { cause: natsError('NoResponders', 'no responders') }), 'cdc.users', 5000);
    expect(f).toMatchObject({ retryable: true, kind: 'NO_STREAM' });
    expect(f.message).toContain('no JetStream stream captures subject "cdc.users"');
  });

  test('timeouts and lost connections: retryable', () => {
    expect(classifyPublishError(natsError('TimeoutError', 'timeout'), 's', 1500)).toMatchObject({ retryable: true, kind: 'TIMEOUT', message: 'no acknowledgement from JetStream for subject "s" within 1.5s' });
    expect(classifyPublishError(natsError('ClosedConnectionError', 'closed connection'), 's', 1)).toMatchObject({ retryable: true, kind: 'CONNECTION' });
    expect(classifyPublishError(natsError('RequestError', 'x', { cause: natsError('ConnectionError', 'reset') }), 's', 1)).toMatchObject({ retryable: true, kind: 'CONNECTION' });
  });

  test('captured by another stream than the configured one: permanent', () => {
    const f = classifyPublishError(natsError('JetStreamApiError', 'expected stream does not match', { code: 10060 }), 'cdc.x', 1, 'CDC');
    expect(f).toMatchObject({ retryable: false, kind: 'WRONG_STREAM' });
    expect(f.message).toContain('"cdc.x" is captured by another stream than the configured stream "CDC"');
  });

  test('other JetStream refusals (a full stream) retry; permissions stop', () => {
    expect(classifyPublishError(natsError('JetStreamApiError', 'maximum messages exceeded', { code: 10077 }), 's', 1)).toMatchObject({ retryable: true, kind: 'API' });
    expect(classifyPublishError(natsError('PermissionViolationError', 'Permissions Violation for Publish to "s"'), 's', 1)).toMatchObject({ retryable: false, kind: 'PERMISSION' });
    expect(classifyPublishError(new Error('something else'), 's', 1)).toMatchObject({ retryable: true, kind: 'OTHER', message: 'cannot publish to "s": something else' });
  });
});
