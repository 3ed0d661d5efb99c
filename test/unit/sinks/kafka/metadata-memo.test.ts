/**
 * client.ts memoisedMetadata: plain `{ topics }` answers (and `{ topics, autocreateTopics: false }`, apart) are kept until the library's age limit
 * (counted from when it fetched them) or clearMetadata; other questions and failures are not kept.
 */
import { expect, test } from 'bun:test';
import { memoisedMetadata } from '../../../../src/sinks/kafka/client.ts';

function library() {
  const asked: unknown[] = [];
  let cleared = 0;
  let fail = false;
  let fetchedAt = 0;
  const fake = {
    asked,
    cleared: () => cleared,
    failNext: () => (fail = true),
    fetchedAt: (at: number) => (fetchedAt = at),
    metadata: async (options: { topics?: string[] }) => {
      asked.push(options);
      if (fail) {
        fail = false;
        throw new Error('no broker');
      }
      return { id: 'c', brokers: new Map(), controllerId: 1, lastUpdate: fetchedAt, topics: new Map((options.topics ?? []).map((t) => [t, { lastUpdate: fetchedAt }])) };
    },
    clearMetadata: () => void cleared++,
  };
  return fake;
}

test('a plain question is answered once per age limit, counted from the library fetch', async () => {
  const lib = library();
  let now = 1_000;
  lib.fetchedAt(1_000);
  const memo = memoisedMetadata(lib as never, 15_000, () => now);
  const first = await memo.metadata({ topics: ['a'] });
  expect(await memo.metadata({ topics: ['a'] })).toBe(first);
  expect(lib.asked.length).toBe(1);
  await memo.metadata({ topics: ['b'] });
  expect(lib.asked.length).toBe(2);
  now = 15_999;
  await memo.metadata({ topics: ['a'] });
  expect(lib.asked.length).toBe(2);
  now = 16_000;
  await memo.metadata({ topics: ['a'] });
  expect(lib.asked.length).toBe(3);
  // The library answered from its own cache, fetched 10 s before: kept only 5 s more.
  lib.fetchedAt(30_000);
  now = 40_000;
  await memo.metadata({ topics: ['c'] });
  now = 44_999;
  await memo.metadata({ topics: ['c'] });
  expect(lib.asked.length).toBe(4);
  now = 45_000;
  await memo.metadata({ topics: ['c'] });
  expect(lib.asked.length).toBe(5);
});

test('clearMetadata forgets every answer and clears the library too', async () => {
  const lib = library();
  const memo = memoisedMetadata(lib as never, 15_000, () => 0);
  await memo.metadata({ topics: ['a'] });
  memo.clearMetadata();
  await memo.metadata({ topics: ['a'] });
  expect(lib.asked.length).toBe(2);
  expect(lib.cleared()).toBe(1);
});

test('failures and questions with other options are not kept', async () => {
  const lib = library();
  const memo = memoisedMetadata(lib as never, 15_000, () => 0);
  lib.failNext();
  await expect(memo.metadata({ topics: ['a'] })).rejects.toThrow('no broker');
  await memo.metadata({ topics: ['a'] });
  await memo.metadata({ topics: ['p'], autocreateTopics: true } as never);
  await memo.metadata({ topics: ['p'], autocreateTopics: true } as never);
  expect(lib.asked.length).toBe(4);
});

test('questions that must not create the topic are kept apart from plain ones', async () => {
  const lib = library();
  const memo = memoisedMetadata(lib as never, 15_000, () => 0);
  await memo.metadata({ topics: ['p'], autocreateTopics: false });
  await memo.metadata({ topics: ['p'], autocreateTopics: false });
  expect(lib.asked).toEqual([{ topics: ['p'], autocreateTopics: false }]);
  await memo.metadata({ topics: ['p'] });
  await memo.metadata({ topics: ['p'] });
  expect(lib.asked).toEqual([{ topics: ['p'], autocreateTopics: false }, { topics: ['p'] }]);
});
