/**
 * The Sink contract (test/contract/sink.contract.ts) against the HTTP sink and a real receiver
 * (test/helpers/http-receiver.ts): what it accepted, in arrival order, is what was delivered; in
 * both body formats.
 */
import { afterAll } from 'bun:test';
import { runSinkContract } from '../../contract/sink.contract.ts';
import { startReceiver, type Receiver } from '../../helpers/http-receiver.ts';
import { makeHttpSink } from '../../helpers/http-sink.ts';

const receivers: Receiver[] = [];
afterAll(async () => {
  for (const r of receivers) await r.stop();
});

for (const format of ['ndjson', 'json_array'] as const) {
  runSinkContract(`http (${format})`, async (metrics) => {
    const receiver = startReceiver();
    receivers.push(receiver);
    const sink = await makeHttpSink('hook', { url: `${receiver.url}/events`, format }, metrics);
    const accepted = () => receiver.accepted().map((e) => e.UUID as string);
    return {
      sink,
      count: async () => accepted().length,
      observed: async () => accepted(),
      cleanup: () => receiver.stop(),
    };
  });
}
