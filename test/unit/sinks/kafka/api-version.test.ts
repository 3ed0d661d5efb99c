/** Choosing a Kafka API version: the highest both sides speak. */
import { expect, test } from 'bun:test';
import { commonVersionOf, highestCommonVersion } from '../../../../src/sinks/kafka/api-version.ts';

test('the highest of ours within the brokers\' range; none when the ranges miss or the brokers lack the API', () => {
  const apis = [{ apiKey: 0, minVersion: 3, maxVersion: 12 }, { apiKey: 24, minVersion: 0, maxVersion: 5 }];
  expect(highestCommonVersion(apis, 0, [3, 4, 5, 6, 7, 8, 10, 11])).toBe(11);
  expect(highestCommonVersion(apis, 0, [8, 10, 3])).toBe(10);
  expect(highestCommonVersion(apis, 24, [0, 1, 2, 3])).toBe(3);
  expect(highestCommonVersion(apis, 0, [0, 1, 2])).toBeUndefined();
  expect(highestCommonVersion(apis, 22, [0, 1, 2, 3])).toBeUndefined();
});

test('a table of request functions: the highest common version, or an error naming the request and our range', () => {
  const apis = [{ apiKey: 2, minVersion: 0, maxVersion: 7 }];
  const listOffsets = { key: 2, versions: { 5: 'v5', 6: 'v6', 7: 'v7', 8: 'v8', 9: 'v9' } };
  expect(commonVersionOf(apis, listOffsets, 'ListOffsets')).toBe(7);
  expect(() => commonVersionOf(apis, { key: 2, versions: { 8: 'v8', 9: 'v9' } }, 'ListOffsets'))
    .toThrow('the brokers do not speak a version of ListOffsets this client has (8-9); exactly-once needs Kafka 2.5 or later');
});
