import { describe, expect, test } from 'bun:test';
import { BatchAcks, parseAck } from '../../../../src/sinks/nats/acks.ts';
import { classifyPublishError } from '../../../../src/sinks/nats/failure.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseAck', () => {
  test('stored, and dropped as a duplicate (with or without the space nats-server writes)', () => {
    expect(parseAck(bytes('{"stream":"S","seq":7}'), undefined)).toEqual({ ok: true, duplicate: false });
    expect(parseAck(bytes('{"stream":"S","seq":7,"duplicate": true}'), undefined)).toEqual({ ok: true, duplicate: true });
    expect(parseAck(bytes('{"seq":7,"stream":"S","duplicate":true}'), undefined)).toEqual({ ok: true, duplicate: true });
    expect(parseAck(bytes('{"stream":"S","seq":7,"duplicate": false}'), undefined)).toEqual({ ok: true, duplicate: false });
    expect(parseAck(bytes('{"stream":"duplicate","seq":7}'), undefined)).toEqual({ ok: true, duplicate: false });
  });

  test('no responders and JetStream errors become errors failure.ts sorts', () => {
    const none = parseAck(new Uint8Array(), 503);
    expect(none.ok).toBe(false);
    expect(classifyPublishError(!none.ok ? none.error : undefined, 'a.b', 1000).kind).toBe('NO_STREAM');
    const wrong = parseAck(bytes('{"error":{"code":400,"err_code":10060,"description":"expected stream does not match"}}'), undefined);
    expect(!wrong.ok && classifyPublishError(wrong.error, 'a.b', 1000, 'S')).toMatchObject({ kind: 'WRONG_STREAM', retryable: false });
    const garbage = parseAck(bytes('nonsense'), undefined);
    expect(!garbage.ok && garbage.error.message).toBe('unexpected acknowledgement: "nonsense"');
  });
});

describe('BatchAcks', () => {
  const ok = { ok: true as const, duplicate: false };
  test('all answered, in any order: no failure; duplicates counted; answers of other batches ignored', async () => {
    const acks = new BatchAcks(10);
    expect([acks.add(0, 's'), acks.add(2, 's'), acks.add(3, 't')]).toEqual([10, 11, 12]);
    acks.settle(12, ok);
    acks.settle(9, { ok: false, error: new Error('old batch') });
    acks.settle(10, { ok: true, duplicate: true });
    expect(acks.outstanding).toBe(1);
    const waiting = acks.wait(0, 5_000);
    acks.settle(11, ok);
    acks.settle(11, { ok: false, error: new Error('answered twice') });
    await waiting;
    expect(acks.result()).toEqual({ duplicates: 1 });
  });

  test('the first unacknowledged publish in batch order: a failure, or no answer within the timeout', async () => {
    const acks = new BatchAcks(0);
    for (let i = 0; i < 4; i++) acks.add(i, 's');
    acks.settle(0, ok);
    acks.settle(3, ok);
    acks.settle(2, { ok: false, error: new Error('full') });
    expect(acks.hasFailure).toBe(true);
    await acks.wait(0, 20); // returns at once: a failure is known
    expect(acks.result()).toEqual({ duplicates: 0, firstFailure: { position: 1, error: undefined } });
    acks.settle(1, ok);
    expect(acks.result().firstFailure?.position).toBe(2);
  });
});
