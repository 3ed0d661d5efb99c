import { describe, expect, test } from 'bun:test';
import { bodySnippet, classifyStatus, retryAfterMs, SNIPPET_CHARS } from '../../../../src/sinks/http/response.ts';
import { displayUrl } from '../../../../src/sinks/http/urls.ts';

describe('classifyStatus', () => {
  test('2xx delivered, but 207 (some items failed) retried', () => {
    for (const s of [200, 201, 202, 204, 299]) expect(classifyStatus(s)).toBe('delivered');
    expect(classifyStatus(207)).toBe('retry');
  });

  test('408, 429 and 5xx retried; 413 split; other 4xx refused; 1xx/3xx retried (redirects not followed)', () => {
    for (const s of [408, 429, 500, 502, 503, 504, 599]) expect(classifyStatus(s)).toBe('retry');
    expect(classifyStatus(413)).toBe('split');
    for (const s of [400, 401, 403, 404, 405, 409, 410, 415, 422, 451, 499]) expect(classifyStatus(s)).toBe('refused');
    for (const s of [100, 301, 302, 307, 308]) expect(classifyStatus(s)).toBe('retry');
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-07T08:00:00Z');
  test('delay-seconds, capped', () => {
    expect(retryAfterMs('0', now, 60_000)).toBe(0);
    expect(retryAfterMs('3', now, 60_000)).toBe(3000);
    expect(retryAfterMs(' 120 ', now, 60_000)).toBe(60_000);
  });

  test('an HTTP date: the time until then, capped; a past date is 0', () => {
    expect(retryAfterMs('Mon, 07 Dec 2026 08:00:05 GMT', now, 60_000)).toBe(5000);
    expect(retryAfterMs('Mon, 07 Dec 2026 09:00:00 GMT', now, 60_000)).toBe(60_000);
    expect(retryAfterMs('Mon, 07 Dec 2026 07:00:00 GMT', now, 60_000)).toBe(0);
  });

  test('absent or unreadable: undefined (the pipeline\'s backoff alone)', () => {
    for (const v of [null, undefined, '', '  ', '-1', '1.5', 'soon', '2026-12-07T08:00:05Z', 'Mon, 07 Dec 2026 08:00:05']) {
      expect(retryAfterMs(v, now, 60_000)).toBeUndefined();
    }
  });
});

describe('bodySnippet and displayUrl', () => {
  test('control characters and whitespace runs collapse; long bodies are cut; empty is said', () => {
    expect(bodySnippet('  {"error":\n\t"bad"}\r\n')).toBe('{"error": "bad"}');
    expect(bodySnippet('')).toBe('(empty body)');
    const long = bodySnippet('x'.repeat(1000));
    expect(long.length).toBe(SNIPPET_CHARS + 1);
    expect(long.endsWith('…')).toBe(true);
  });

  test('the URL without credentials or query', () => {
    expect(displayUrl('https://user:secret@hooks.example.com:8443/cdc?token=abc')).toBe('https://hooks.example.com:8443/cdc?…');
    expect(displayUrl('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000/');
    expect(displayUrl('not a url')).toBe('(invalid URL)');
  });
});
