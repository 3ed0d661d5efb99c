/** Kafka's transaction protocol 2 (src/sinks/kafka/txn-v2.ts), pure: when the brokers allow it, and EndTxn v5's request and answer bytes. */
import { describe, expect, test } from 'bun:test';
import { Reader, Writer, endTxnV4 } from '@platformatic/kafka';
import { errorNames } from '../../../../src/sinks/kafka/outcome.ts';
import { endTxnV5, parseEndTxnV5Response, transactionProtocol, txnOffsetCommitV5 } from '../../../../src/sinks/kafka/txn-v2.ts';

/** ApiVersions of Kafka 4.1 for the three requests (Produce 3-13, TxnOffsetCommit 0-5, EndTxn 0-5). */
const KAFKA_41 = [{ apiKey: 0, minVersion: 3, maxVersion: 13 }, { apiKey: 28, minVersion: 0, maxVersion: 5 }, { apiKey: 26, minVersion: 0, maxVersion: 5 }];
const feature = (level: number) => [{ name: 'transaction.version', maxVersionLevel: level }];

describe('transactionProtocol', () => {
  test('2 when transaction.version is finalized at 2 or more and the brokers speak the requests of version 2', () => {
    expect(transactionProtocol(KAFKA_41, feature(2))).toBe(2);
    expect(transactionProtocol(KAFKA_41, [{ name: 'metadata.version', maxVersionLevel: 27 }, ...feature(3)])).toBe(2);
  });

  test('1 when the feature is below 2 or missing (older clusters, a downgraded one)', () => {
    expect(transactionProtocol(KAFKA_41, feature(1))).toBe(1);
    expect(transactionProtocol(KAFKA_41, feature(0))).toBe(1);
    expect(transactionProtocol(KAFKA_41, [])).toBe(1);
  });

  test('1 when any of Produce v12, TxnOffsetCommit v5, EndTxn v5 is missing, whatever the feature says', () => {
    for (const [key, max] of [[0, 11], [28, 4], [26, 4]] as const) {
      const apis = KAFKA_41.map((a) => (a.apiKey === key ? { ...a, maxVersion: max } : a));
      expect(transactionProtocol(apis, feature(2))).toBe(1);
    }
    expect(transactionProtocol(KAFKA_41.filter((a) => a.apiKey !== 26), feature(2))).toBe(1);
  });
});

describe('EndTxn v5', () => {
  /** An answer's body as the broker writes it. */
  function answer(errorCode: number, producerId: bigint, epoch: number): Reader {
    const w = Writer.create().appendInt32(0).appendInt16(errorCode).appendInt64(producerId).appendInt16(epoch).appendTaggedFields();
    return Reader.from(w.buffer);
  }

  test('the answer carries the producer id and epoch of the next transaction', () => {
    expect(parseEndTxnV5Response(1, 26, 5, answer(0, 4001n, 8))).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: 4001n, producerEpoch: 8 });
  });

  test('an error code throws, named as the library names errors', () => {
    let thrown: unknown;
    try {
      parseEndTxnV5Response(1, 26, 5, answer(90, -1n, -1)); // PRODUCER_FENCED
    } catch (err) {
      thrown = err;
    }
    expect(errorNames(thrown)).toContain('PRODUCER_FENCED');
    expect(() => parseEndTxnV5Response(1, 26, 5, answer(51, -1n, -1))).toThrow(); // CONCURRENT_TRANSACTIONS
  });

  test('the request is v4\'s bytes, sent as key 26 version 5; TxnOffsetCommit v5 is key 28 version 5', () => {
    expect([endTxnV5.key, endTxnV5.version, txnOffsetCommitV5.key, txnOffsetCommitV5.version]).toEqual([26, 5, 28, 5]);
    const v4 = endTxnV4.createRequest('txn-a', 4001n, 7, true).buffer;
    const sent: Array<{ key: number; version: number; body: Buffer }> = [];
    const connection = {
      send(key: number, version: number, payload: () => Writer) {
        sent.push({ key, version, body: payload().buffer });
      },
    };
    endTxnV5(connection as never, 'txn-a', 4001n, 7, true, () => {});
    expect(sent).toEqual([{ key: 26, version: 5, body: v4 }]);
    // transactional_id (compact string "txn-a"), producer_id, producer_epoch, committed, tagged fields
    expect([...v4]).toEqual([6, ...Buffer.from('txn-a'), 0, 0, 0, 0, 0, 0, 0x0f, 0xa1, 0, 7, 1, 0]);
  });
});
