/**
 * The Source contract (test/contract/source.contract.ts) against the Kafka source on the real
 * broker: each upstream is a one-partition topic (so upstream order is total) and a consumer group
 * of its own; each change is one message in the original psql-streamer's format.
 */
import type { KafkaPosition } from '../../../src/sources/kafka/offsets.ts';
import { runSourceContract } from '../../contract/source.contract.ts';
import { uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { makeSource, originalEventJson, produce, sourceSettings, uuidOf } from '../../helpers/kafka-source.ts';

const kafka = useKafka();

runSourceContract<KafkaPosition>('kafka', async () => {
  const topic = await kafka.createTopic({ prefix: 'source-contract' });
  const brokers = kafka.server.brokers;
  const groupId = uniqueTopic('contract-group');
  let next = 0;
  return {
    async open() {
      return makeSource(groupId, sourceSettings(brokers, [topic], { groupId }));
    },
    async produce(count) {
      const values = Array.from({ length: count }, () => originalEventJson(next++));
      // In requests of at most 500 messages: the broker refuses larger record batches.
      for (let i = 0; i < values.length; i += 500) await produce(brokers, topic, values.slice(i, i + 500).map((value) => ({ value })));
      return values.map(uuidOf);
    },
    keyOf: (event) => event.uuid,
  };
});
