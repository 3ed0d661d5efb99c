/** Choosing a Kafka API version: the highest both sides speak. */
import { expect, test } from 'bun:test';
import { highestCommonVersion } from '../../../../src/sinks/kafka/api-version.ts';

test('the highest of ours within the brokers\' range; none when the ranges miss or the brokers lack the API', () => {
  const apis = [{ apiKey: 0, minVersion: 3, maxVersion: 12 }, { apiKey: 24, minVersion: 0, maxVersion: 5 }];
  expect(highestCommonVersion(apis, 0, [3, 4, 5, 6, 7, 8, 10, 11])).toBe(11);
  expect(highestCommonVersion(apis, 0, [8, 10, 3])).toBe(10);
  expect(highestCommonVersion(apis, 24, [0, 1, 2, 3])).toBe(3);
  expect(highestCommonVersion(apis, 0, [0, 1, 2])).toBeUndefined();
  expect(highestCommonVersion(apis, 22, [0, 1, 2, 3])).toBeUndefined();
});
