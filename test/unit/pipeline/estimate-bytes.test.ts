import { expect, test } from 'bun:test';
import { RawJson, type ChangeEvent } from '../../../src/core/event.ts';
import { estimateEventBytes } from '../../../src/pipeline/estimate-bytes.ts';
import { makeTestEvent } from '../../contract/events.ts';

test('grows with the size of the column values, old row included', () => {
  const small = makeTestEvent(1);
  const big: ChangeEvent = { ...small, columns: { ...small.columns, body: 'x'.repeat(100_000) } };
  const withOld: ChangeEvent = { ...big, old: { body: 'y'.repeat(50_000) } };
  expect(estimateEventBytes(small)).toBeGreaterThan(256);
  expect(estimateEventBytes(small)).toBeLessThan(1024);
  expect(estimateEventBytes(big) - estimateEventBytes(small)).toBeGreaterThanOrEqual(100_000);
  expect(estimateEventBytes(withOld) - estimateEventBytes(big)).toBeGreaterThanOrEqual(50_000);
});

test('walks arrays, nested objects and raw JSON', () => {
  const base = makeTestEvent(1);
  const event: ChangeEvent = {
    ...base,
    columns: { tags: ['a'.repeat(1000), 'b'.repeat(1000)], meta: { deep: 'c'.repeat(1000) }, doc: new RawJson('d'.repeat(1000)) },
  };
  expect(estimateEventBytes(event)).toBeGreaterThan(4000);
});

test('an event carrying its encoded columns counts that text too', () => {
  const plain = makeTestEvent(1);
  const encoded = { ...plain, columnsJson: '{"id":1,"name":"row 1"}' };
  expect(estimateEventBytes(encoded) - estimateEventBytes(plain)).toBe(encoded.columnsJson.length);
});
