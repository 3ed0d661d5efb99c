/**
 * An exactly-once relay restarted after kill -9 in the middle of a transaction that held its
 * group's offsets (docs/kafka.md, "Relays"). The killed run is played by a transactional producer
 * with the relay's transactional id that commits an offset of the relay's group in a transaction
 * and never ends it. Its source fetches committed offsets stable, so it cannot read until that
 * transaction ends; the relay's exactly-once sink ends it at once by initialising its producers
 * when the source finds the offsets held, instead of at its first batch (which needs those reads):
 * without that, nothing is relayed until the brokers time the transaction out (here 300 s).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { Producer } from '@platformatic/kafka';
import { TxnRequests } from '../../../src/sinks/kafka/txn-requests.ts';
import { kafkaSinkToml, kafkaSourceToml, streamerToml } from '../../helpers/configs.ts';
import { uniqueTopic, useKafka } from '../../helpers/kafka.ts';
import { readTopic } from '../../helpers/kafka-sink.ts';
import { originalEventJson, produce } from '../../helpers/kafka-source.ts';
import { killChildren, startStreamer, useTempDirs, type StreamerProcess } from '../../helpers/streamer.ts';

const kafka = useKafka();
const children: StreamerProcess[] = [];
afterAll(() => killChildren(children));
const newDir = useTempDirs('psql-streamer-relay-restart-');

describe('exactly-once relay restarted after kill -9 mid-transaction', () => {
  test('the open transaction holding the group\'s offsets is ended by the restarted relay at once, not after transactionTimeout', async () => {
    const brokers = kafka.server.brokers;
    const input = await kafka.createTopic({ prefix: 'relay-restart-in', partitions: 1 });
    const output = await kafka.createTopic({ prefix: 'relay-restart-out' });
    const group = uniqueTopic('relay-restart-group');
    const transactionalId = uniqueTopic('relay-restart-txn');
    const sent = Array.from({ length: 10 }, (_, i) => originalEventJson(i, 'orders'));
    await produce(brokers, input, sent.map((value) => ({ partition: 0, value })));

    // The killed run: its transaction commits offset 5 of the group and is never ended (the
    // coordinator requests of the sink itself, txn-requests.ts, over a plain client).
    const zombie = new Producer({ clientId: 'zombie-relay', bootstrapBrokers: brokers });
    try {
      const requests = new TxnRequests(zombie, transactionalId, 300_000);
      const identity = await requests.initProducerId();
      await requests.addOffsets(identity, group);
      await requests.commitOffsets(identity, { group, generation: -1, member: '', offsets: [{ topic: input, partition: 0, offset: 5n, metadata: null }] });

      const dir = newDir();
      const streamer = startStreamer(dir, streamerToml({
        sections: [
          kafkaSourceToml({ name: 'relay', brokers, topics: [input], group }),
          kafkaSinkToml({ name: 'out', brokers, sources: ['relay'], sink: `topicFallback = "${output}"\nkey = "original"\nexactlyOnce = true\ntransactionalId = "${transactionalId}"\ntransactionTimeout = "300s"` }),
        ],
      }), 'relay-restart');
      children.push(streamer);
      await streamer.waitForLog('Committed offsets of group', 60_000);
      await streamer.waitForLog('initialised before it reads', 60_000);
      // The zombie's offset commit was aborted with its transaction: the group starts at the beginning.
      const relayed = await readTopic(brokers, output, 10, 60_000);
      expect(relayed.map((m) => m.value!).sort()).toEqual([...sent].sort());
    } finally {
      await zombie.close(true).catch(() => {});
    }
  }, 240_000);
});
