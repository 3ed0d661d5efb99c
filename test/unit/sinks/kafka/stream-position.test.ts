/** The exactly-once sink's positions (pure): which event a batch ends at, what Kafka has, the offset metadata text, relayed offsets. */
import { describe, expect, test } from 'bun:test';
import type { ChangeEvent, KafkaGroupRef } from '../../../../src/event/event.ts';
import { relayCommits } from '../../../../src/sinks/kafka/exactly-once.ts';
import { decodePosition, describePosition, encodePosition, isDelivered, lastPosition, latestPosition, positionOf } from '../../../../src/sinks/kafka/stream-position.ts';
import { turnIds } from '../../../../src/sinks/kafka/txn-turns.ts';
import { makeTestEvent } from '../../../contract/events.ts';

const STREAM = '7301234567890123456/slot_a';

function change(lsn: bigint, index: number, extra: Partial<ChangeEvent> = {}): ChangeEvent {
  return { ...makeTestEvent(1), commitLsn: lsn, txIndex: index, stream: STREAM, ...extra };
}

describe('positions', () => {
  test('a stream event has one; snapshot rows, relayed events and events without txIndex do not', () => {
    expect(positionOf(change(100n, 2))).toEqual({ lsn: 100n, index: 2, stream: STREAM });
    expect(positionOf(change(100n, 2, { snapshot: true }))).toBeUndefined();
    expect(positionOf({ ...makeTestEvent(1) })).toBeUndefined();
    const group: KafkaGroupRef = { id: 'g', generation: () => 1, member: () => 'm', owns: () => true, commitsInTransactions: () => {} };
    expect(positionOf(change(100n, 2, { origin: { group, topic: 't', partition: 0, offset: 5n, generation: 1 } }))).toBeUndefined();
  });

  test("a batch completes its last stream event's position, snapshot rows after it notwithstanding", () => {
    expect(lastPosition([change(100n, 0), change(100n, 1), change(0n, 0, { snapshot: true })])).toEqual({ lsn: 100n, index: 1, stream: STREAM });
    expect(lastPosition([change(0n, 0, { snapshot: true })])).toBeUndefined();
    expect(lastPosition([])).toBeUndefined();
  });

  test('delivered: at or before the committed position, in the same stream only', () => {
    const committed = { lsn: 200n, index: 3, stream: STREAM };
    expect(isDelivered(change(199n, 9), committed)).toBe(true);
    expect(isDelivered(change(200n, 3), committed)).toBe(true);
    expect(isDelivered(change(200n, 4), committed)).toBe(false);
    expect(isDelivered(change(201n, 0), committed)).toBe(false);
    expect(isDelivered(change(100n, 0, { stream: 'other/slot' }), committed)).toBe(false);
    expect(isDelivered(change(100n, 0, { snapshot: true }), committed)).toBe(false);
    expect(isDelivered(change(100n, 0), undefined)).toBe(false);
  });

  test('offset metadata: written and read back; anything else is refused with what it is', () => {
    const position = { lsn: 0x16_b374_d848n, index: 12, stream: STREAM };
    const text = encodePosition(position, 'pg');
    expect(JSON.parse(text)).toEqual({ 'psql-streamer': 1, source: 'pg', lsn: '16/B374D848', index: 12, stream: STREAM });
    expect(decodePosition(text)).toEqual(position);
    expect(describePosition(position)).toBe('16/B374D848 #12');
    expect(() => decodePosition('')).toThrow('not a psql-streamer position');
    expect(() => decodePosition('{"psql-streamer":2,"lsn":"0/1","index":0}')).toThrow('format 1');
    expect(() => decodePosition('{"psql-streamer":1,"lsn":"0/1","index":-1}')).toThrow('not a psql-streamer position');
    expect(() => decodePosition('{"psql-streamer":1,"lsn":"zz","index":0}')).toThrow();
  });
});

describe('the producers taking turns', () => {
  test('their transactional ids: the configured one (positions of earlier versions stay found), then ".2", ".3"', () => {
    expect(turnIds('psql-streamer.kafka.pg')).toEqual(['psql-streamer.kafka.pg', 'psql-streamer.kafka.pg.2', 'psql-streamer.kafka.pg.3']);
  });

  test("the source's position is the latest the producers hold in its stream", () => {
    const at = (lsn: bigint, index: number, stream: string | undefined = STREAM) => ({ lsn, index, stream });
    expect(latestPosition([at(100n, 3), at(200n, 0)], STREAM)).toEqual(at(200n, 0));
    expect(latestPosition([at(200n, 4), at(200n, 2)], STREAM)).toEqual(at(200n, 4));
    expect(latestPosition([undefined, at(100n, 3)], STREAM)).toEqual(at(100n, 3));
    expect(latestPosition([undefined, undefined], STREAM)).toBeUndefined();
    // Positions written before events carried a stream match any.
    expect(latestPosition([at(100n, 3, undefined), at(90n, 0)], STREAM)).toEqual(at(100n, 3, undefined));
  });

  test("another stream's position (another cluster or slot) counts only when none is of the source's stream", () => {
    const other = { lsn: 900n, index: 0, stream: '7999999999999999999/slot' };
    const own = { lsn: 100n, index: 1, stream: STREAM };
    expect(latestPosition([other, own], STREAM)).toEqual(own);
    expect(latestPosition([own, other], STREAM)).toEqual(own);
    expect(latestPosition([undefined, other], STREAM)).toEqual(other);
    // Unknown stream (a batch without stream events): the latest of all.
    expect(latestPosition([own, other], undefined)).toEqual(other);
  });
});

describe('relayed offsets', () => {
  test("the next offset of each partition read, per group, with the group's current generation and member", () => {
    let generation = 4;
    const group: KafkaGroupRef = { id: 'relay', generation: () => generation, member: () => 'member-1', owns: () => true, commitsInTransactions: () => {} };
    const at = (topic: string, partition: number, offset: bigint) => ({ ...makeTestEvent(1), origin: { group, topic, partition, offset, generation: 4 } });
    const batch = [at('a', 0, 10n), at('a', 1, 3n), at('a', 0, 11n), at('b', 0, 7n), makeTestEvent(2)];
    expect(relayCommits(batch)).toEqual([{
      group: 'relay', generation: 4, member: 'member-1',
      offsets: [
        { topic: 'a', partition: 0, offset: 12n, metadata: null },
        { topic: 'a', partition: 1, offset: 4n, metadata: null },
        { topic: 'b', partition: 0, offset: 8n, metadata: null },
      ],
    }]);
    generation = 5;
    expect(relayCommits(batch)[0]!.generation).toBe(5);
    expect(relayCommits([makeTestEvent(1)])).toEqual([]);
  });
});
