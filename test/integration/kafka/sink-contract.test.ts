/**
 * The Sink contract (test/contract/sink.contract.ts) against the Kafka sink on the real broker:
 * every sink gets its own topic, read back in full to check what was delivered and in which order.
 */
import type { Sink } from '../../../src/sinks/sink.ts';
import { runSinkContract } from '../../contract/sink.contract.ts';
import { useKafka } from '../../helpers/kafka.ts';
import { makeKafkaSink, readTopic, topicSize } from './sink-support.ts';

const kafka = useKafka();

/**
 * The contract reads the event count from the start of `stats()` ("events: N"); the Kafka sink keeps
 * the original psql-streamer's stats line ("total: N, no topic: N, ..."), so the count is put in front.
 */
function withEventsStat(sink: Sink): Sink {
  return new Proxy(sink, {
    get(target, property, receiver) {
      if (property === 'stats') {
        return () => {
          const line = target.stats();
          return `events: ${/kafka msgs sent: (\d+)/.exec(line)?.[1] ?? '?'}, ${line}`;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

runSinkContract('kafka', async () => {
  const topic = await kafka.createTopic({ prefix: 'contract' });
  const brokers = kafka.server.brokers;
  const sink = await makeKafkaSink('kafka-contract', { hosts: brokers, topicFallback: topic });
  return {
    sink: withEventsStat(sink),
    count: () => topicSize(brokers, topic),
    async observed() {
      const size = await topicSize(brokers, topic);
      if (size === 0) return [];
      const messages = await readTopic(brokers, topic, size);
      return messages.map((m) => (JSON.parse(m.value!) as { UUID: string }).UUID);
    },
  };
});
