import { describe, expect, test } from 'bun:test';
import { judgeHttpAnswer } from '../../../../src/commands/check/http.ts';

describe('judgeHttpAnswer', () => {
  test('any answer but 401/403/5xx means reachable', () => {
    for (const status of [200, 204, 404, 405]) {
      expect(judgeHttpAnswer({ kind: 'answer', status, retryAfter: null, body: '' }, 12.4, 3000)).toMatchObject({ verdict: 'OK', reason: expect.stringContaining(`HEAD answered ${status} in 12 ms`) });
    }
  });

  test('401/403: WARN about credentials; 5xx: WARN about the receiver', () => {
    expect(judgeHttpAnswer({ kind: 'answer', status: 403, retryAfter: null, body: 'forbidden' }, 1, 3000)).toMatchObject({ verdict: 'WARN', reason: expect.stringContaining('(forbidden)'), remedy: expect.stringContaining('headers') });
    expect(judgeHttpAnswer({ kind: 'answer', status: 503, retryAfter: null, body: '' }, 1, 3000)).toMatchObject({ verdict: 'WARN', remedy: expect.stringContaining('health') });
  });

  test('no answer: FAIL; a certificate problem points at the TLS keys', () => {
    expect(judgeHttpAnswer({ kind: 'timeout' }, 3000, 3000)).toMatchObject({ verdict: 'FAIL', reason: 'no answer within 3000 ms' });
    expect(judgeHttpAnswer({ kind: 'network', reason: 'Unable to connect' }, 1, 3000)).toMatchObject({ verdict: 'FAIL', remedy: expect.stringContaining('host and port') });
    expect(judgeHttpAnswer({ kind: 'network', reason: 'self signed certificate in certificate chain' }, 1, 3000)).toMatchObject({ verdict: 'FAIL', remedy: expect.stringContaining('tlsCaFile') });
  });
});
