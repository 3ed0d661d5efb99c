import { describe, expect, test } from 'bun:test';
import { bodySize, encodeBody, idempotencyKey, planRequests, sliceOf } from '../../../../src/sinks/http/body.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const lines = ['{"a":1}', '{"b":22}', '{"c":333}'].map(enc);

describe('request bodies', () => {
  test('ndjson: one event per line, each ended by a newline; size as planned', () => {
    const slice = { start: 0, end: 3, bytes: bodySize('ndjson', 3, 7 + 8 + 9) };
    expect(dec(encodeBody(lines, slice, 'ndjson'))).toBe('{"a":1}\n{"b":22}\n{"c":333}\n');
  });

  test('json_array: a JSON array that parses back to the events; one event; a sub-range', () => {
    const body = dec(encodeBody(lines, { start: 0, end: 3, bytes: bodySize('json_array', 3, 24) }, 'json_array'));
    expect(body).toBe('[{"a":1},{"b":22},{"c":333}]');
    expect(JSON.parse(body)).toEqual([{ a: 1 }, { b: 22 }, { c: 333 }]);
    expect(dec(encodeBody(lines, { start: 1, end: 2, bytes: bodySize('json_array', 1, 8) }, 'json_array'))).toBe('[{"b":22}]');
  });

  test('an event encoded as no item (empty) adds nothing, not even a separator; one of several items adds them joined', () => {
    const mixed = ['{"a":1}', '', '{"b":2}\n{"c":3}', ''].map(enc);
    expect(dec(encodeBody(mixed, sliceOf(mixed, 'ndjson', 0, 4), 'ndjson'))).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    const array = ['{"a":1}', '', '{"b":2},{"c":3}', ''].map(enc);
    const body = dec(encodeBody(array, sliceOf(array, 'json_array', 0, 4), 'json_array'));
    expect(JSON.parse(body)).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    expect(dec(encodeBody(array, sliceOf(array, 'json_array', 3, 4), 'json_array'))).toBe('[]');
    for (const format of ['ndjson', 'json_array'] as const) {
      const sizes = array.map((l) => l.length);
      for (const s of planRequests(sizes, format, 2, 1 << 20)) expect(s).toEqual(sliceOf(array, format, s.start, s.end));
    }
  });

  test('a size that does not match the events is an error, not a torn body', () => {
    expect(() => encodeBody(lines, { start: 0, end: 3, bytes: 5 }, 'ndjson')).toThrow('planned 5');
  });
});

describe('planRequests', () => {
  test('at most maxEvents per request, in order, covering every event once', () => {
    const sizes = Array.from({ length: 10 }, () => 10);
    const slices = planRequests(sizes, 'ndjson', 4, 1 << 20);
    expect(slices.map((s) => [s.start, s.end])).toEqual([[0, 4], [4, 8], [8, 10]]);
    expect(slices.map((s) => s.bytes)).toEqual([44, 44, 22]);
  });

  test('at most maxBytes per body, counting separators and brackets', () => {
    const sizes = [10, 10, 10, 10];
    // ndjson: 3 events = 33 bytes fits 33, a fourth does not.
    expect(planRequests(sizes, 'ndjson', 100, 33).map((s) => s.end - s.start)).toEqual([3, 1]);
    // json_array: 2 + 10n + (n - 1): 3 events = 34.
    expect(planRequests(sizes, 'json_array', 100, 33).map((s) => s.end - s.start)).toEqual([2, 2]);
    expect(planRequests(sizes, 'json_array', 100, 34).map((s) => s.end - s.start)).toEqual([3, 1]);
  });

  test('an event larger than maxBytes goes alone, not dropped; no events, no request', () => {
    expect(planRequests([5, 500, 5], 'ndjson', 100, 50).map((s) => [s.start, s.end, s.bytes])).toEqual([[0, 1, 6], [1, 2, 501], [2, 3, 6]]);
    expect(planRequests([], 'ndjson', 10, 10)).toEqual([]);
  });

  test('random sizes and limits: contiguous cover, every request within its limits unless a single event', () => {
    for (let round = 0; round < 200; round++) {
      const sizes = Array.from({ length: Math.floor(Math.random() * 50) }, () => 1 + Math.floor(Math.random() * 100));
      const maxEvents = 1 + Math.floor(Math.random() * 10);
      const maxBytes = 1 + Math.floor(Math.random() * 300);
      for (const format of ['ndjson', 'json_array'] as const) {
        const slices = planRequests(sizes, format, maxEvents, maxBytes);
        let next = 0;
        for (const s of slices) {
          expect(s.start).toBe(next);
          expect(s.end).toBeGreaterThan(s.start);
          next = s.end;
          const n = s.end - s.start;
          expect(s.bytes).toBe(bodySize(format, n, sizes.slice(s.start, s.end).reduce((a, b) => a + b, 0)));
          expect(n).toBeLessThanOrEqual(maxEvents);
          if (n > 1) expect(s.bytes).toBeLessThanOrEqual(maxBytes);
        }
        expect(next).toBe(sizes.length);
      }
    }
  });
});

describe('idempotencyKey', () => {
  test('32 hex digits; the same events give the same key, any change another', () => {
    const key = idempotencyKey('u1', 'u9', 9);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(idempotencyKey('u1', 'u9', 9)).toBe(key);
    expect(new Set([key, idempotencyKey('u1', 'u9', 8), idempotencyKey('u2', 'u9', 9), idempotencyKey('u1', 'u8', 9)]).size).toBe(4);
  });

  test('pinned vector (receivers may recompute it: SHA-256 of "first\\nlast\\ncount", first 32 hex digits)', () => {
    expect(idempotencyKey('a', 'b', 2)).toBe(new Bun.CryptoHasher('sha256').update('a\nb\n2').digest('hex').slice(0, 32));
  });
});
