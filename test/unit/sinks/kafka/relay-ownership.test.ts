import { describe, expect, test } from 'bun:test';
import type { ChangeEvent, KafkaGroupRef } from '../../../../src/event/event.ts';
import { leaveOutMoved, MovedPartitionLog, stillOwned } from '../../../../src/sinks/kafka/relay-ownership.ts';
import { relayCommits } from '../../../../src/sinks/kafka/exactly-once.ts';
import { refusal } from '../../../../src/sinks/kafka/txn-errors.ts';
import type { BatchProgress } from '../../../../src/sinks/kafka/batch-state.ts';
import type { OutMessage } from '../../../../src/sinks/kafka/message.ts';
import { makeTestEvent } from '../../../contract/events.ts';

/** A group whose member owns partition 0 since generation 3 and partition 1 since generation 5; now in generation 6. */
function group(id = 'relay'): KafkaGroupRef & { claimed: boolean } {
  const since = new Map([[0, 3], [1, 5]]);
  const ref = {
    id, generation: () => 6, member: () => 'member-1', claimed: false,
    owns: (topic: string, partition: number, generation: number) => topic === 't' && since.has(partition) && since.get(partition)! <= generation,
    commitsInTransactions: () => void (ref.claimed = true),
  };
  return ref;
}

function relayed(g: KafkaGroupRef, partition: number, offset: bigint, generation: number, n: number): ChangeEvent {
  return { ...makeTestEvent(n), origin: { group: g, topic: 't', partition, offset, generation } };
}

function progress(events: ChangeEvent[]): BatchProgress {
  const pending = events.map((event) => ({ event, topic: 'out' }) as unknown as OutMessage);
  return { pending, routed: [...events], single: new Set(), size: events.length, firstUuid: events[0]?.uuid };
}

describe('exactly-once relays: events of moved partitions', () => {
  test('an event is still owned only if its partition was owned without a break since the generation it was read under', () => {
    const g = group();
    expect(stillOwned(relayed(g, 0, 1n, 3, 1).origin!)).toBe(true);
    expect(stillOwned(relayed(g, 0, 1n, 2, 1).origin!)).toBe(false);
    expect(stillOwned(relayed(g, 1, 1n, 4, 1).origin!)).toBe(false);
    expect(stillOwned(relayed(g, 2, 1n, 6, 1).origin!)).toBe(false);
  });

  test('moved events leave the pending messages and the routed events; commits leave out their offsets', () => {
    const g = group();
    const kept = [relayed(g, 0, 10n, 4, 1), relayed(g, 1, 20n, 5, 2), makeTestEvent(5)];
    const moved = [relayed(g, 1, 19n, 4, 3), relayed(g, 2, 7n, 6, 4)];
    const batch = [kept[0]!, moved[0]!, kept[1]!, moved[1]!, kept[2]!];
    const p = progress(batch);
    const left = leaveOutMoved(p);
    expect(left?.events).toBe(2);
    expect([...left!.groups]).toEqual([['relay', { generation: 6, partitions: new Set(['t:1', 't:2']) }]]);
    expect(p.pending.map((m) => m.event)).toEqual(kept);
    expect(p.routed).toEqual(kept);
    expect(g.claimed).toBe(false);
    expect(relayCommits(batch)).toEqual([{
      group: 'relay', generation: 6, member: 'member-1',
      offsets: [{ topic: 't', partition: 0, offset: 11n, metadata: null }, { topic: 't', partition: 1, offset: 21n, metadata: null }],
    }]);
    // From the first transaction on, the source leaves the group's commits to the sink.
    expect(g.claimed).toBe(true);
    // Nothing moved: the progress is left alone.
    const untouched = progress(kept);
    const before = untouched.pending;
    expect(leaveOutMoved(untouched)).toBeUndefined();
    expect(untouched.pending).toBe(before);
    // Every event moved: nothing to commit.
    expect(relayCommits(moved)).toEqual([]);
  });

  test('one log line per group and generation', () => {
    const lines: string[] = [];
    const log = new MovedPartitionLog((line) => lines.push(line));
    const left = (generation: number) => ({ events: 1, groups: new Map([['relay', { generation, partitions: new Set(['t:2', 't:1']) }]]) });
    log.report(left(6));
    log.report(left(6));
    log.report(left(7));
    expect(lines.length).toBe(2);
    expect(lines[0]).toContain('partitions t:1, t:2 of group "relay" moved to another member (generation 6)');
  });
});

describe('exactly-once relays: the coordinator refusing a commit of an older generation', () => {
  test('ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID abort and retry the transaction, never fence the producer', () => {
    for (const apiId of ['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']) {
      expect(refusal({ message: 'TxnOffsetCommit failed', errors: [{ apiId }] }, 'relay-1')).toBeUndefined();
    }
    expect(refusal({ errors: [{ apiId: 'PRODUCER_FENCED' }] }, 'relay-1')?.fenced).toBe(true);
  });
});
