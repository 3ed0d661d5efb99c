/**
 * TransactionTurns.prepare() (src/sinks/kafka/txn-turns.ts): producers initialised together read
 * the position topic once, after every one of them has its new epoch; a producer whose
 * InitProducerId fails does not hold the others' read up; one prepared again alone reads alone.
 * The requests are recorded, not sent; the real broker is in
 * test/integration/kafka/exactly-once-position-records.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import { TransactionalProducer } from '../../../../src/sinks/kafka/transaction.ts';
import { JointPositionRead, TransactionTurns, turnIds } from '../../../../src/sinks/kafka/txn-turns.ts';
import type { FoundPosition } from '../../../../src/sinks/kafka/position-records.ts';

const at = (lsn: bigint) => ({ lsn, index: 0, stream: '1/slot' });
/** What the position topic holds: a record of the second producer only. */
const RECORDS = new Map<string, FoundPosition>([['src.2', { position: at(0x200n), offset: 9n }]]);

/** Producers of ids src, src.2, src.3 whose requests go to one log; `failInit` ids fail their next InitProducerId. */
function turns(failInit = new Set<string>()) {
  const calls: string[] = [];
  const producers = turnIds('src').map((id) => {
    let epoch = 0;
    const requests = {
      transactionalId: id,
      forgetProtocol: () => {},
      protocol: async () => 2 as const,
      initProducerId: async () => {
        await Bun.sleep(id === 'src.3' ? 20 : 1); // the last one is slow: the read waits for it
        if (failInit.delete(id)) {
          calls.push(`InitProducerId(${id}) failed`);
          throw Object.assign(new Error('COORDINATOR_NOT_AVAILABLE'), { code: 'COORDINATOR_NOT_AVAILABLE' });
        }
        calls.push(`InitProducerId(${id})`);
        return { producerId: 1n, producerEpoch: ++epoch };
      },
      positionRecords: async (_topic: string, ids: readonly string[] = [id]) => {
        calls.push(`PositionRecords(${ids.join(',')})`);
        return new Map([...RECORDS].filter(([key]) => ids.includes(key)));
      },
      fetchOffsets: async () => [],
    };
    return new TransactionalProducer(requests as never, 'positions', 'pg');
  });
  return { turns: new TransactionTurns(producers), calls };
}

describe('TransactionTurns.prepare()', () => {
  test('producers starting together read the position topic once, after the last InitProducerId', async () => {
    const { turns: t, calls } = turns();
    await t.prepare();
    expect(calls).toEqual(['InitProducerId(src)', 'InitProducerId(src.2)', 'InitProducerId(src.3)', 'PositionRecords(src,src.2,src.3)']);
    expect(t.startingPosition('1/slot')).toEqual({ position: at(0x200n), from: 'record', offset: 9n, id: 'src.2' });
    // Ready: nothing asked again.
    await t.prepare();
    expect(calls).toHaveLength(4);
  });

  test("a failed InitProducerId does not hold the others' read up; prepared again, that producer reads alone", async () => {
    const { turns: t, calls } = turns(new Set(['src']));
    await expect(t.prepare()).rejects.toThrow('COORDINATOR_NOT_AVAILABLE');
    await Bun.sleep(30); // the others finish their part
    expect(calls).toEqual(['InitProducerId(src) failed', 'InitProducerId(src.2)', 'InitProducerId(src.3)', 'PositionRecords(src,src.2,src.3)']);
    expect(t.producers.map((p) => p.ready)).toEqual([false, true, true]);
    calls.length = 0;
    await t.prepare();
    expect(calls).toEqual(['InitProducerId(src)', 'PositionRecords(src)']);
    expect(t.committed('1/slot')).toEqual(at(0x200n));
  });
});

describe('JointPositionRead', () => {
  test('reads once, when every sharer said ready() or failed()', async () => {
    let reads = 0;
    const joint = new JointPositionRead(3, async () => {
      reads++;
      return RECORDS;
    });
    const first = joint.ready();
    joint.failed();
    await Bun.sleep(1);
    expect(reads).toBe(0);
    const last = joint.ready();
    expect(await first).toBe(RECORDS);
    expect(await last).toBe(RECORDS);
    expect(reads).toBe(1);
  });
});
