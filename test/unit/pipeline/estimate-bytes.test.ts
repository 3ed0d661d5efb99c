import { expect, test } from 'bun:test';
import { RawJson, type ChangeEvent } from '../../../src/event/event.ts';
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

test('an event built as bytes counts its JSON (and the message it keeps), never touching its columns', () => {
  const line = new TextEncoder().encode('x'.repeat(10_000));
  const event = {
    ...makeTestEvent(1),
    encoded: line,
    get columns(): never {
      throw new Error('columns read');
    },
  };
  expect(estimateEventBytes(event)).toBeGreaterThanOrEqual(2 * line.length);
  expect(estimateEventBytes(event)).toBeLessThan(2 * line.length + 1024);
});
