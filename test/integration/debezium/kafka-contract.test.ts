/**
 * The Sink contract (test/contract/sink.contract.ts) against the Kafka sink with
 * `handlers = ["debezium"]` (docs/debezium.md) on the real broker: each sink its own topic.
 */
import { runSinkContract } from '../../contract/sink.contract.ts';
import { useKafka } from '../../helpers/kafka.ts';
import { makeKafkaSink, topicSize } from '../../helpers/kafka-sink.ts';

const kafka = useKafka();

runSinkContract('kafka, handlers = ["debezium"]', async (metrics) => {
  const topic = await kafka.createTopic({ prefix: 'contract-dbz' });
  const brokers = kafka.server.brokers;
  const sink = await makeKafkaSink('kafka-dbz', { hosts: brokers, topicFallback: topic, handlers: ['debezium'] }, undefined, metrics);
  return {
    sink,
    statsEvents: (stats) => Number(/kafka msgs sent: (\d+)/.exec(stats)?.[1]),
    // The contract's events are inserts: one record each. Debezium records carry no event UUID.
    count: () => topicSize(brokers, topic),
    observed: async () => undefined,
  };
});
