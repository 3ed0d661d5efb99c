/**
 * The order of a transactional producer's coordinator requests (src/sinks/kafka/transaction.ts)
 * under both transaction protocols: what an early open() does, what begin() then still sends, that
 * protocol 2 moves to the epoch EndTxn answers with, and that an early transaction no batch uses is
 * committed empty. The requests are recorded, not sent; the real brokers are in
 * test/integration/kafka/exactly-once-protocols.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import { TransactionalProducer } from '../../../../src/sinks/kafka/transaction.ts';
import type { GroupCommit, ProducerIdentity } from '../../../../src/sinks/kafka/txn-requests.ts';

const POSITION = { lsn: 0x100n, index: 2, stream: '1/slot' };
const NEXT = { lsn: 0x200n, index: 0, stream: '1/slot' };

/** Records the requests of one transactional id; EndTxn of protocol 2 answers with the next epoch. */
function recorder(protocol: 1 | 2, transactionTimeoutMs = 60_000) {
  const calls: string[] = [];
  let epoch = 0;
  const describeCommit = (c: GroupCommit) => `${c.group}=${c.offsets.map((o) => (o.metadata === null ? '' : JSON.parse(o.metadata).lsn)).join()}`;
  const requests = {
    transactionalId: 'txn',
    transactionTimeoutMs,
    forgetProtocol: () => {},
    protocol: async () => protocol,
    initProducerId: async (current?: ProducerIdentity) => {
      calls.push(`InitProducerId(${current?.producerEpoch ?? '-'})`);
      return { producerId: 7n, producerEpoch: ++epoch };
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

describe('TransactionalProducer', () => {
  test('prepare() is single-flight: a second caller (prepareFor beside a batch) waits for the first InitProducerId instead of bumping the epoch again', async () => {
    const { producer, calls } = recorder(1);
    expect(producer.ready).toBe(false);
    await Promise.all([producer.prepare(), producer.prepare()]);
    expect(calls).toEqual(['InitProducerId(-)', 'OffsetFetch']);
    expect(producer.ready).toBe(true);
    await producer.prepare();
    expect(calls).toHaveLength(2);
  });

  test('protocol 1, opened early: the batch adds only the partitions open() did not, then TxnOffsetCommit and EndTxn', async () => {
    const { producer, calls } = recorder(1);
    await producer.prepare();
    expect(producer.committed).toEqual(POSITION);
    producer.open(partitions(0, 1));
    await producer.begin(partitions(0, 1, 2), NEXT, []);
    await producer.commit();
    expect(calls).toEqual([
      'InitProducerId(-)', 'OffsetFetch',
      'AddPartitions@1(t:0+1)', 'AddOffsets@1(txn)',
      'AddPartitions@1(t:2)', 'TxnOffsetCommit@1(txn=0/200)', 'EndTxn@1',
    ]);
    expect(producer.committed).toEqual(NEXT);
  });

  test('protocol 1, not opened early: AddPartitionsToTxn, then AddOffsetsToTxn before TxnOffsetCommit', async () => {
    const { producer, calls } = recorder(1);
    await producer.prepare();
    await producer.begin(partitions(0), NEXT, []);
    await producer.commit();
    expect(calls.slice(2)).toEqual(['AddPartitions@1(t:0)', 'AddOffsets@1(txn)', 'TxnOffsetCommit@1(txn=0/200)', 'EndTxn@1']);
  });

  test('protocol 2: open() opens nothing early (committing the held position again costs the broker more than it saves); the position goes after the produce requests; the next transaction has the new epoch', async () => {
    const { producer, calls } = recorder(2);
    await producer.prepare();
    producer.open(partitions(0, 1));
    await producer.begin(partitions(0, 1), NEXT, []);
    expect(calls.slice(2)).toEqual([]); // the produce requests come first
    expect(producer.stamp('t\u00000', 5)).toMatchObject({ producerEpoch: 1, baseSequence: 0 });
    expect(producer.stamp('t\u00000', 5)).toMatchObject({ producerEpoch: 1, baseSequence: 5 });
    await producer.commit();
    expect(calls.slice(2)).toEqual(['TxnOffsetCommit@1(txn=0/200)', 'EndTxn@1']);
    // EndTxn v5 answered epoch 2: the next transaction's batches carry it, sequences from 0.
    expect(producer.stamp('t\u00000', 5)).toMatchObject({ producerEpoch: 2, baseSequence: 0 });
  });

  test('protocol 2, not opened early: the offsets go after the produce requests (commit()), which add the partitions', async () => {
    const { producer, calls } = recorder(2);
    await producer.prepare();
    await producer.begin(partitions(0), NEXT, []);
    expect(calls.slice(2)).toEqual([]);
    await producer.commit();
    expect(calls.slice(2)).toEqual(['TxnOffsetCommit@1(txn=0/200)', 'EndTxn@1']);
  });

  test('an early transaction no batch uses is committed empty well before the brokers would time it out, and at close', async () => {
    const idle = recorder(1, 40); // idle end after a quarter of transactionTimeout: 10 ms
    await idle.producer.prepare();
    idle.producer.open(partitions(0));
    await Bun.sleep(60);
    expect(idle.calls.slice(2)).toEqual(['AddPartitions@1(t:0)', 'AddOffsets@1(txn)', 'EndTxn@1']);
    // The next batch opens its own transaction again.
    await idle.producer.begin(partitions(0), NEXT, []);
    expect(idle.calls.slice(5, 7)).toEqual(['AddPartitions@1(t:0)', 'AddOffsets@1(txn)']);

    const closing = recorder(1);
    await closing.producer.prepare();
    closing.producer.open(partitions(0));
    await closing.producer.close();
    expect(closing.calls.slice(2)).toEqual(['AddPartitions@1(t:0)', 'AddOffsets@1(txn)', 'EndTxn@1']);
    await closing.producer.close(); // nothing open any more
    expect(closing.calls.length).toBe(5);
  });

  test('a failed early open leaves the producer to be initialised again (the epoch bump aborts what it added)', async () => {
    const { producer, calls } = recorder(1);
    await producer.prepare();
    const requests = (producer as unknown as { requests: { addOffsets: () => Promise<void> } }).requests;
    requests.addOffsets = async () => {
      throw Object.assign(new Error('broker gone'), { code: 'PLT_KFK_NETWORK' });
    };
    producer.open(partitions(0));
    await expect(producer.begin(partitions(0), NEXT, [])).rejects.toThrow('not prepared');
    await producer.prepare();
    expect(calls.slice(2)).toEqual(['AddPartitions@1(t:0)', 'InitProducerId(1)', 'OffsetFetch']);
  });
});
