import { describe, expect, test } from 'bun:test';
import { closest, didYouMean, editDistance } from '../../../src/core/suggest.ts';

describe('editDistance', () => {
  test('counts insertions, deletions, substitutions and swaps', () => {
    expect(editDistance('timeout', 'timeout')).toBe(0);
    expect(editDistance('timeot', 'timeout')).toBe(1);
    expect(editDistance('dns', 'dsn')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('closest', () => {
  const keys = ['batchSize', 'batchFlushInterval', 'sendRetryInterval', 'hosts', 'topics'];
  test('finds plausible typos case-insensitively', () => {
    expect(closest('batchsize', keys)).toBe('batchSize');
    expect(closest('batchSzie', keys)).toBe('batchSize');
    expect(closest('host', keys)).toBe('hosts');
    expect(closest('sendRetryIntervall', keys)).toBe('sendRetryInterval');
  });

  test('does not suggest unrelated words', () => {
    expect(closest('password', keys)).toBeUndefined();
    expect(closest('x', keys)).toBeUndefined();
  });

  test('didYouMean renders the hint or nothing', () => {
    expect(didYouMean('topic', keys)).toBe('; did you mean "topics"?');
    expect(didYouMean('zzz', keys)).toBe('');
  });
});
