/**
 * Change events for the exactly-once Kafka sink's tests: change `index` of the transaction that
 * commits at `lsn` (so stream positions are easy to read), and the position a new instance reads
 * back from Kafka (the latest of the source's producers, which take turns: src/sinks/kafka/txn-turns.ts).
 */
import type { ChangeEvent } from '../../../src/event/event.ts';
import { newProducer } from '../../../src/sinks/kafka/client.ts';
import { decodePosition, latestPosition, type StreamPosition } from '../../../src/sinks/kafka/stream-position.ts';
import { turnIds } from '../../../src/sinks/kafka/txn-turns.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { sinkOptions } from '../kafka-sink.ts';

export const STREAM = '7000000000000000001/slot';

/** Change `index` of the transaction committing at `lsn`, of row `id`. */
export function change(lsn: number, index: number, id: number, source = 'pg'): ChangeEvent {
  return {
    ...makeTestEvent(lsn * 100 + index, source, 'users'),
    commitLsn: BigInt(lsn), txIndex: index, stream: STREAM, action: 'update', key: ['id'], columns: { id, v: `${lsn}.${index}` },
  };
}

/** Transactions `from`..`to` (commit LSN = number), each with `size` changes. */
export function changes(from: number, to: number, size = 3): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  for (let lsn = from; lsn <= to; lsn++) for (let i = 0; i < size; i++) out.push(change(lsn, i, lsn * 10 + i));
  return out;
}

/** The `v` column ("lsn.index") of each message read. */
export const versionsOf = (messages: Array<{ value: string | undefined }>): string[] => messages.map((m) => (JSON.parse(m.value!) as { Columns: { v: string } }).Columns.v);

/** The position committed for a source's transactional id, read as a new instance reads it: the latest of its producers' position records and group offset metadata. */
export async function committedPosition(brokers: string[], transactionalId: string, positionTopic: string): Promise<StreamPosition | undefined> {
  const producer = newProducer(sinkOptions({ hosts: brokers }));
  try {
    const positions = await Promise.all(turnIds(transactionalId).map(async (id) => {
      const requests = producer.transactions(id, 60_000);
      const [records, offsets] = await Promise.all([requests.positionRecords(positionTopic), requests.fetchOffsets(id, positionTopic, [0])]);
      return [records.get(id)?.position, offsets[0]?.metadata ? decodePosition(offsets[0].metadata) : undefined];
    }));
    return latestPosition(positions.flat(), undefined);
  } finally {
    await producer.close();
  }
}
