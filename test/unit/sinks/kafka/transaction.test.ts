/**
 * The order of a transactional producer's coordinator requests (src/sinks/kafka/transaction.ts)
 * under both transaction protocols: what an early open() does, what begin() then still sends, that
 * the position goes as a record of the first produce request (positionBatch()) and not as an offset
 * commit, that protocol 2 moves to the epoch EndTxn answers with, that an early transaction no batch
 * uses is committed empty, and which positions prepare() reads back (record and group). The
 * requests are recorded, not sent; the real brokers are in
 * test/integration/kafka/exactly-once-protocols.test.ts and exactly-once-position-records.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import { TransactionalProducer } from '../../../../src/sinks/kafka/transaction.ts';
import type { GroupCommit, ProducerIdentity } from '../../../../src/sinks/kafka/txn-requests.ts';

const POSITION = { lsn: 0x100n, index: 2, stream: '1/slot' };
const RECORDED = { lsn: 0x180n, index: 0, stream: '1/slot' };
const NEXT = { lsn: 0x200n, index: 0, stream: '1/slot' };

/** Records the requests of one transactional id; EndTxn of protocol 2 answers with the next epoch. */
function recorder(protocol: 1 | 2, transactionTimeoutMs = 60_000, record: typeof RECORDED | null | undefined = RECORDED) {
  const calls: string[] = [];
  let epoch = 0;
  const describeCommit = (c: GroupCommit) => `${c.group}=${c.offsets.map((o) => `${o.topic}:${o.offset}`).join()}`;
  const requests = {
    transactionalId: 'txn',
    transactionTimeoutMs,
    forgetProtocol: () => {},
    protocol: async () => protocol,
    initProducerId: async (current?: ProducerIdentity) => {
      calls.push(`InitProducerId(${current?.producerEpoch ?? '-'})`);
      return { producerId: 7n, producerEpoch: ++epoch };
    },
    positionRecords: async () => {
      calls.push('PositionRecords');
      // undefined: no record of this key; null: a tombstone
      return record === undefined ? new Map() : new Map([['txn', { position: record ?? undefined, offset: 41n }]]);
    },
    fetchOffsets: async () => {
      calls.push('OffsetFetch');
      return [{ topic: 'positions', partition: 0, offset: 0n, metadata: JSON.stringify({ 'psql-streamer': 1, lsn: '0/100', index: 2, stream: '1/slot' }) }];
    },
    addPartitions: async (p: ProducerIdentity, topics: ReadonlyMap<string, ReadonlySet<number>>) => {
      calls.push(`AddPartitions@${p.producerEpoch}(${[...topics].map(([t, s]) => `${t}:${[...s].join('+')}`).join()})`);
    },
    addOffsets: async (p: ProducerIdentity, group: string) => void calls.push(`AddOffsets@${p.producerEpoch}(${group})`),
    commitOffsets: async (p: ProducerIdentity, c: GroupCommit) => void calls.push(`TxnOffsetCommit@${p.producerEpoch}(${describeCommit(c)})`),
    endTxn: async (p: ProducerIdentity) => {
      calls.push(`EndTxn@${p.producerEpoch}`);
      return protocol === 2 ? { producerId: 7n, producerEpoch: ++epoch } : p;
    },
  };
  const producer = new TransactionalProducer(requests as never, 'positions', 'pg');
  return { producer, calls };
}

const partitions = (...list: number[]) => new Map([['t', new Set(list)]]);
const PREPARED = ['InitProducerId(-)', 'PositionRecords', 'OffsetFetch'];
const relayed: GroupCommit = { group: 'relay', generation: 3, member: 'm', offsets: [{ topic: 'in', partition: 0, offset: 10n, metadata: null }] };

/** The key and value of the one record of a position batch (uncompressed: both appear as they are). */
function recordOf(batch: Uint8Array | undefined): { key: boolean; value: string | undefined } {
  const text = Buffer.from(batch ?? []).toString('latin1');
  return { key: text.includes('txn'), value: /\{"psql-streamer".*\}/.exec(text)?.[0] };
}

describe('TransactionalProducer', () => {
  test('prepare() is single-flight: a second caller (prepareFor beside a batch) waits for the first InitProducerId instead of bumping the epoch again', async () => {
    const { producer, calls } = recorder(1);
    expect(producer.ready).toBe(false);
    await Promise.all([producer.prepare(), producer.prepare()]);
    expect(calls).toEqual(PREPARED);
    expect(producer.ready).toBe(true);
    await producer.prepare();
    expect(calls).toHaveLength(3);
  });

  test('prepare() reads both the position record and the group offset metadata of earlier versions', async () => {
    const both = recorder(2);
    await both.producer.prepare();
    expect(both.producer.held).toEqual([
      { position: RECORDED, from: 'record', offset: 41n, id: 'txn' },
      { position: POSITION, from: 'group', id: 'txn' },
    ]);
    const tombstone = recorder(2, 60_000, null); // a tombstone: no position from the record, the group's still counts
    await tombstone.producer.prepare();
    expect(tombstone.producer.held).toEqual([{ position: POSITION, from: 'group', id: 'txn' }]);
  });

  test('protocol 1, opened early: the batch adds only the partitions open() did not (the position topic\'s too), no offset commit, EndTxn', async () => {
    const { producer, calls } = recorder(1);
    await producer.prepare();
    producer.open(partitions(0, 1));
    await producer.begin(partitions(0, 1, 2), NEXT, []);
    const batch = producer.positionBatch(1_000);
    expect(batch).toMatchObject({ topic: 'positions', partition: 0, partitionKey: 'positions\u00000' });
    expect(recordOf(batch?.batch)).toEqual({ key: true, value: JSON.stringify({ 'psql-streamer': 1, source: 'pg', lsn: '0/200', index: 0, stream: '1/slot' }) });
    expect(producer.positionBatch(1_000)).toBeUndefined(); // one per transaction: the first request's
    await producer.commit();
    expect(calls.slice(3)).toEqual(['AddPartitions@1(t:0+1)', 'AddPartitions@1(t:2,positions:0)', 'EndTxn@1']);
    expect(producer.held).toEqual([{ position: NEXT, from: 'record', id: 'txn' }]);
    // It wrote a position: the next early open adds the position topic's partition too.
    producer.open(partitions(0));
    await producer.begin(partitions(0), NEXT, []);
    expect(calls.slice(6)).toEqual(['AddPartitions@1(t:0,positions:0)']);
  });

  test('protocol 1, not opened early: one AddPartitionsToTxn with the position topic\'s partition, then EndTxn', async () => {
    const { producer, calls } = recorder(1);
    await producer.prepare();
    await producer.begin(partitions(0), NEXT, []);
    expect(producer.positionBatch(1_000)).toBeDefined();
    await producer.commit();
    expect(calls.slice(3)).toEqual(['AddPartitions@1(t:0,positions:0)', 'EndTxn@1']);
  });

  test('protocol 2: nothing before the produce requests, the position record stamped like the messages, then only EndTxn; the next transaction has the new epoch', async () => {
    const { producer, calls } = recorder(2);
    await producer.prepare();
    producer.open(partitions(0, 1));
    await producer.begin(partitions(0, 1), NEXT, []);
    expect(calls.slice(3)).toEqual([]); // the produce requests come first
    expect(producer.stamp('t\u00000', 5)).toMatchObject({ producerEpoch: 1, baseSequence: 0 });
    expect(producer.stamp('t\u00000', 5)).toMatchObject({ producerEpoch: 1, baseSequence: 5 });
    expect(producer.positionBatch(1_000)).toBeDefined();
    expect(producer.stamp('positions\u00000', 1)).toMatchObject({ producerEpoch: 1, baseSequence: 1 }); // the record took sequence 0
    await producer.commit();
    expect(calls.slice(3)).toEqual(['EndTxn@1']);
    // EndTxn v5 answered epoch 2: the next transaction's batches carry it, sequences from 0.
    expect(producer.stamp('t\u00000', 5)).toMatchObject({ producerEpoch: 2, baseSequence: 0 });
  });

  test('a transaction whose position record no produce request took does not commit', async () => {
    const { producer, calls } = recorder(2);
    await producer.prepare();
    await producer.begin(partitions(0), NEXT, []);
    await expect(producer.commit()).rejects.toThrow('carried its position record');
    expect(calls.slice(3)).toEqual([]);
    expect(producer.ready).toBe(false);
  });

  test('relayed offsets are still committed with TxnOffsetCommit (protocol 2: after the produce requests), and no position record is written', async () => {
    const { producer, calls } = recorder(2);
    await producer.prepare();
    await producer.begin(partitions(0), undefined, [relayed]);
    expect(producer.positionBatch(1_000)).toBeUndefined();
    await producer.commit();
    expect(calls.slice(3)).toEqual(['TxnOffsetCommit@1(relay=in:10)', 'EndTxn@1']);
    const v1 = recorder(1);
    await v1.producer.prepare();
    await v1.producer.begin(partitions(0), undefined, [relayed]);
    await v1.producer.commit();
    expect(v1.calls.slice(3)).toEqual(['AddPartitions@1(t:0)', 'AddOffsets@1(relay)', 'TxnOffsetCommit@1(relay=in:10)', 'EndTxn@1']);
  });

  test('an early transaction no batch uses is committed empty well before the brokers would time it out, and at close', async () => {
    const idle = recorder(1, 40); // idle end after a quarter of transactionTimeout: 10 ms
    await idle.producer.prepare();
    idle.producer.open(partitions(0));
    await Bun.sleep(60);
    expect(idle.calls.slice(3)).toEqual(['AddPartitions@1(t:0)', 'EndTxn@1']);
    // The next batch opens its own transaction again.
    await idle.producer.begin(partitions(0), NEXT, []);
    expect(idle.calls.slice(5)).toEqual(['AddPartitions@1(t:0,positions:0)']);

    const closing = recorder(1);
    await closing.producer.prepare();
    closing.producer.open(partitions(0));
    await closing.producer.close();
    expect(closing.calls.slice(3)).toEqual(['AddPartitions@1(t:0)', 'EndTxn@1']);
    await closing.producer.close(); // nothing open any more
    expect(closing.calls.length).toBe(5);
  });

  test('a failed early open leaves the producer to be initialised again (the epoch bump aborts what it added)', async () => {
    const { producer, calls } = recorder(1);
    await producer.prepare();
    const requests = (producer as unknown as { requests: { addPartitions: () => Promise<void> } }).requests;
    requests.addPartitions = async () => {
      throw Object.assign(new Error('broker gone'), { code: 'PLT_KFK_NETWORK' });
    };
    producer.open(partitions(0));
    await expect(producer.begin(partitions(0), NEXT, [])).rejects.toThrow('not prepared');
    await producer.prepare();
    expect(calls.slice(3)).toEqual(['InitProducerId(1)', 'PositionRecords', 'OffsetFetch']);
  });
});
