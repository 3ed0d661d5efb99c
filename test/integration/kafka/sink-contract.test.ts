/**
 * The Sink contract (test/contract/sink.contract.ts) against the Kafka sink on the real broker:
 * every sink gets its own topic, read back in full to check what was delivered and in which order.
 */
import { runSinkContract } from '../../contract/sink.contract.ts';
import { useKafka } from '../../helpers/kafka.ts';
import { makeKafkaSink, readTopic, topicSize } from '../../helpers/kafka-sink.ts';

const kafka = useKafka();

runSinkContract('kafka', async (metrics) => {
  const topic = await kafka.createTopic({ prefix: 'contract' });
  const brokers = kafka.server.brokers;
  const sink = await makeKafkaSink('kafka-contract', { hosts: brokers, topicFallback: topic }, undefined, metrics);
  return {
    sink,
    // The Kafka sink keeps the original's stats line: "total: N, ..., kafka msgs sent: N, ...".
    statsEvents: (stats) => Number(/kafka msgs sent: (\d+)/.exec(stats)?.[1]),
    count: () => topicSize(brokers, topic),
    async observed() {
      const size = await topicSize(brokers, topic);
      if (size === 0) return [];
      const messages = await readTopic(brokers, topic, size);
      return messages.map((m) => (JSON.parse(m.value!) as { UUID: string }).UUID);
    },
  };
});
