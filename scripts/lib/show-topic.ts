/**
 * Prints what a Kafka topic holds, one line per message (`offset key action table`), for the
 * quickstart. Usage: KAFKA_BROKERS=host:port bun scripts/lib/show-topic.ts TOPIC
 */
import { Admin, Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';

const topic = process.argv[2];
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (!topic || brokers.length === 0) {
  process.stderr.write('usage: KAFKA_BROKERS=host:port bun scripts/lib/show-topic.ts TOPIC\n');
  process.exit(2);
}

const admin = new Admin({ clientId: 'quickstart-admin', bootstrapBrokers: brokers });
const offsets = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
await admin.close();
const end = Number(offsets[0]?.partitions[0]?.offset ?? 0n);

const consumer = new Consumer({ clientId: 'quickstart', groupId: `quickstart-${Date.now()}`, bootstrapBrokers: brokers, deserializers: stringDeserializers });
const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
let seen = 0;
for await (const message of stream) {
  const event = JSON.parse(message.value as string) as { Action: string; Table: string };
  process.stdout.write(`  ${message.offset} ${message.key} ${event.Action} ${event.Table}\n`);
  if (++seen >= end) break;
}
await stream.close();
await consumer.close(true);
