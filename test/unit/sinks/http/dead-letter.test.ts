import { describe, expect, test } from 'bun:test';
import { deadLetterLines } from '../../../../src/sinks/http/dead-letter.ts';
import { endpointOf } from '../../../../src/sinks/http/request.ts';
import { httpOptions } from '../../../helpers/http-sink.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('deadLetterLines', () => {
  test('one JSON line per event: the refusal, then the event JSON unchanged', () => {
    const refusal = { sink: 'hook', url: 'https://h/cdc', status: 422, answer: 'bad "row"' };
    const text = new TextDecoder().decode(deadLetterLines([enc('{"UUID":"a","Columns":{"n":1}}'), enc('{"UUID":"b"}')], refusal, new Date('2026-12-07T08:00:00Z')));
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { deadLetter: { ...refusal, at: '2026-12-07T08:00:00.000Z' }, event: { UUID: 'a', Columns: { n: 1 } } },
      { deadLetter: { ...refusal, at: '2026-12-07T08:00:00.000Z' }, event: { UUID: 'b' } },
    ]);
  });
});

describe('endpointOf', () => {
  test('our Content-Type and User-Agent unless configured (any spelling); TLS only for https', () => {
    const plain = endpointOf(httpOptions({ url: 'http://h/', headers: { 'content-type': 'text/plain', 'X-A': '1' } }), 'application/x-ndjson', 'c');
    expect(plain.headers).toEqual({ 'User-Agent': 'psql-streamer', 'content-type': 'text/plain', 'X-A': '1' });
    expect(plain.tls).toBeUndefined();
    const secure = endpointOf(httpOptions({ url: 'https://h/', tlsInsecureSkipVerify: true }), 'application/json', 'c');
    expect(secure.headers).toEqual({ 'Content-Type': 'application/json', 'User-Agent': 'psql-streamer' });
    expect(secure.tls).toEqual({ rejectUnauthorized: false });
    expect(secure.timeoutMs).toBe(10_000);
  });
});
