/**
 * The Sink contract (test/contract/sink.contract.ts) against the NATS sink on a real JetStream
 * server: every sink gets its own stream, read back in full with a JetStream consumer to check what
 * was delivered and in which order.
 */
import { runSinkContract } from '../../contract/sink.contract.ts';
import { makeNatsSink, readStream, streamSize, useNats } from '../../helpers/nats.ts';

const nats = useNats();

runSinkContract('nats', async (metrics) => {
  const stream = await nats.createStream('contract');
  const nc = await nats.connection();
  const sink = await makeNatsSink('nats-contract', { servers: [nats.server.url], subjectFallback: `${stream}.{schema}.{table}`, stream }, metrics);
  return {
    sink,
    count: () => streamSize(nc, stream),
    async observed() {
      return (await readStream(nc, stream)).map((m) => (JSON.parse(m.data) as { UUID: string }).UUID);
    },
  };
});
