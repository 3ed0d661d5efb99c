import { expect, test } from 'bun:test';
import { Logger } from '../../../src/core/logger.ts';
import { createMetrics, type Metrics } from '../../../src/metrics/catalogue.ts';
import { stubDiscardSinkType, stubLogSinkType } from '../../../src/sinks/stub.ts';
import { createMemoryStateStore } from '../../../src/state/memory-store.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { runSinkContract } from '../../contract/sink.contract.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';

const logLines = captureLogs();

let seq = 0;
const deps = (name: string, metrics: Metrics = createMetrics()) => ({ log: Logger.for('Sink-Stub', name), store: createMemoryStateStore(), metrics });

/** Events stub_log reported as dumped, from its log lines. */
function dumped(name: string): number {
  let total = 0;
  for (const line of logLines) {
    const match = line.match(new RegExp(`Sink-Stub \\(${name}\\): (\\d+) events dumped`));
    if (match) total += Number(match[1]);
  }
  return total;
}

runSinkContract('stub_log', async (metrics) => {
  const name = `log${++seq}`;
  const sink = await stubLogSinkType.create(name, {}, deps(name, metrics));
  return { sink, count: async () => dumped(name), observed: async () => undefined };
});

runSinkContract('stub_discard', async (metrics) => {
  const name = `discard${++seq}`;
  const sink = await stubDiscardSinkType.create(name, {}, deps(name, metrics));
  return { sink, count: async () => Number(sink.stats().match(/^events: (\d+)$/)![1]), observed: async () => undefined };
});

test('stub_log logs one line per batch with the component prefix; stub_discard logs nothing', async () => {
  logLines.length = 0;
  const log = await stubLogSinkType.create('L', {}, deps('L'));
  const discard = await stubDiscardSinkType.create('D', {}, deps('D'));
  const batch = [makeTestEvent(1), makeTestEvent(2), makeTestEvent(3)];
  await log.write(batch);
  await discard.write(batch);
  expect(logLines.length).toBe(1);
  expect(logLines[0]).toMatch(/ INFO  Sink-Stub \(L\): 3 events dumped\n$/);
  expect([log.type, discard.type]).toEqual(['Sink-Stub', 'Sink-Stub']);
  expect([log.stats(), discard.stats()]).toEqual(['events: 3', 'events: 3']);
});

test('the types declare no options of their own', () => {
  expect(stubLogSinkType.type).toBe('stub_log');
  expect(stubDiscardSinkType.type).toBe('stub_discard');
  expect(Object.keys(stubLogSinkType.options)).toEqual([]);
  expect(Object.keys(stubDiscardSinkType.options)).toEqual([]);
});
