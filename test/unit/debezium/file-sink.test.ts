/** The file sink with `format = "debezium"` (docs/debezium.md): the sink contract, and one line per Debezium record. */
import { afterAll, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../../src/core/logger.ts';
import { createMetrics, type Metrics } from '../../../src/metrics/catalogue.ts';
import { fileSinkType } from '../../../src/sinks/file/file.ts';
import { createMemoryStateStore } from '../../../src/state/memory-store.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { runSinkContract } from '../../contract/sink.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'file-sink-debezium-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

function openSink(path: string, metrics: Metrics = createMetrics()) {
  const options = { path, fsync: false, format: 'debezium', debeziumTopicPrefix: 'shop', debeziumDecimalHandlingMode: 'string', debeziumTombstones: true };
  return fileSinkType.create(`dbz${++seq}`, options, { log: Logger.for('Sink-File', 'dbz'), store: createMemoryStateStore(), metrics });
}

const readLines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : []);

runSinkContract('file, format = "debezium"', async (metrics) => {
  const path = join(dir, `contract-${++seq}.jsonl`);
  const sink = await openSink(path, metrics);
  // An insert is one record; Debezium records carry no event UUID, so the order is not observable here.
  return { sink, count: async () => readLines(path).length, observed: async () => undefined };
});

test('one line per record: a delete and its tombstone are two, a logical decoding message none', async () => {
  const path = join(dir, 'records.jsonl');
  const sink = await openSink(path);
  const insert = { ...makeTestEvent(1), key: ['id'] };
  const message = { ...makeTestEvent(2), action: 'message' as const, table: '', columns: { prefix: 'p', content: 'c', transactional: true } };
  const del = { ...makeTestEvent(3), action: 'delete' as const, key: ['id'] };
  await sink.write([insert, message, del]);
  await sink.close();
  const lines = readLines(path).map((l) => JSON.parse(l) as { topic: string; key: unknown; value: { op: string; after: Record<string, unknown> } | null });
  expect(lines.map((l) => [l.topic, l.key, l.value?.op ?? 'tombstone'])).toEqual([
    ['shop.public.items', { id: 1 }, 'c'], ['shop.public.items', { id: 3 }, 'd'], ['shop.public.items', { id: 3 }, 'tombstone'],
  ]);
  // Without column types (events relayed from Kafka) values pass as they are: every digit of an int8, JSON text as a string.
  expect(readFileSync(path, 'utf8')).toContain('"big":9007199254740993,"doc":"{\\"a\\":[1,2]}"');
});
