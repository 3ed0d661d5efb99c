/**
 * BatchTransport against a stand-in client: one request per partition leader, partitions without a
 * leader answered on their own, the Produce version both sides speak, acks 0 unanswered, each
 * request's answer reported on its own, a topic marked neverCreate asked for without auto-creation. The same on the real broker: test/integration/kafka/sink-transport.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import { NetworkError, type Writer } from '@platformatic/kafka';
import { partitionKey } from '../../../../src/sinks/kafka/message.ts';
import { BatchTransport, type PartitionBatch } from '../../../../src/sinks/kafka/transport.ts';

interface Sent {
  broker: string;
  version: number;
  flexible: boolean;
  noResponse: boolean;
  bytes: number;
}

/** Topic `t`: partition p led by broker leaders[p] (-1: none); broker "b2" fails its requests when `failing`. */
function client(leaders: number[], produceVersions: [number, number] = [3, 12], failing = false) {
  const sent: Sent[] = [];
  const brokers = new Map([[1, { host: 'b1', port: 9092, rack: null }], [2, { host: 'b2', port: 9092, rack: null }]]);
  const fake = {
    sent,
    metadata: async () => ({
      id: 'c', brokers, controllerId: 1, lastUpdate: 0,
      topics: new Map([['t', { id: 't', partitionsCount: leaders.length, lastUpdate: 0, partitions: leaders.map((leader) => ({ leader, leaderEpoch: 0, replicas: [], isr: [], offlineReplicas: [] })) }]]),
    }),
    listApis: async () => [{ apiKey: 0, name: 'Produce', minVersion: produceVersions[0], maxVersion: produceVersions[1] }],
    connections: {
      get: async (broker: { host: string }) => ({
        send: (_key: number, version: number, payload: () => Writer, _parse: unknown, flexible: boolean, _flexibleResponse: boolean, callback: (error: Error | null) => void) => {
          const writer = payload();
          sent.push({ broker: broker.host, version, flexible, noResponse: writer.context.noResponse === true, bytes: writer.length });
          queueMicrotask(() => callback(failing && broker.host === 'b2' ? new NetworkError('Connection to b2:9092 failed.') : null));
        },
      }),
    },
  };
  return fake;
}

const batch = (partition: number): PartitionBatch => ({ topic: 't', partition, partitionKey: partitionKey('t', partition), batch: new Uint8Array(100) });

describe('BatchTransport', () => {
  test('the metadata of a neverCreate topic (the position topic) is asked for without auto-creation, apart from the other topics', async () => {
    const c = client([1, 2]);
    const asked: unknown[] = [];
    const plain = c.metadata;
    const withPositions = Object.assign(c, {
      metadata: async (options: { topics: string[] }) => {
        asked.push(options);
        const answer = await plain();
        return { ...answer, topics: new Map(options.topics.map((t) => [t, answer.topics.get('t')!])) };
      },
    });
    const position: PartitionBatch = { topic: 'positions', partition: 0, partitionKey: partitionKey('positions', 0), batch: new Uint8Array(50), neverCreate: true };
    const outcomes = await new BatchTransport(withPositions as never, 2000).produce([batch(0), batch(1), position], -1);
    expect(asked).toEqual([{ topics: ['t'] }, { topics: ['positions'], autocreateTopics: false }]);
    expect(outcomes.every((o) => o.error === undefined)).toBe(true);
    expect(outcomes.flatMap((o) => o.partitionKeys).sort()).toEqual([partitionKey('positions', 0), partitionKey('t', 0), partitionKey('t', 1)].sort());
  });

  test('one request per leader, all at once; a partition without a leader is answered on its own', async () => {
    const c = client([1, 2, 1, -1]);
    const outcomes = await new BatchTransport(c as never, 2000).produce([batch(0), batch(1), batch(2), batch(3)], -1);
    expect(c.sent.map((s) => s.broker).sort()).toEqual(['b1', 'b2']);
    expect(outcomes.map((o) => [o.partitionKeys.map((k) => k.split('\u0000')[1]), (o.error as { code?: string } | undefined)?.code])).toEqual([
      [['3'], 'LEADER_NOT_AVAILABLE'],
      [['0', '2'], undefined],
      [['1'], undefined],
    ]);
  });

  test('a failed request fails only its own partitions', async () => {
    const c = client([1, 2], [3, 11], true);
    const outcomes = await new BatchTransport(c as never, 2000).produce([batch(0), batch(1)], 1);
    expect(outcomes.map((o) => [o.partitionKeys.length, o.error instanceof NetworkError])).toEqual([[1, false], [1, true]]);
  });

  test('the highest Produce version both speak: up to 11 (flexible from 9), 8 instead of 9', async () => {
    const versions: Array<[[number, number], number, boolean]> = [[[3, 13], 11, true], [[3, 10], 10, true], [[3, 9], 8, false], [[0, 7], 7, false]];
    for (const [broker, version, flexible] of versions) {
      const c = client([1], broker);
      await new BatchTransport(c as never, 2000).produce([batch(0)], -1);
      expect(c.sent.map((s) => [s.version, s.flexible])).toEqual([[version, flexible]]);
    }
    const old = client([1], [0, 2]);
    const [outcome] = await new BatchTransport(old as never, 2000).produce([batch(0)], -1);
    expect(String(outcome!.error)).toContain('Produce versions 0-2');
    expect(old.sent.length).toBe(0);
  });

  test('12 only for transactions of protocol 2 (it says the producer adds partitions with its produce requests)', async () => {
    const c = client([1], [3, 13]);
    const transport = new BatchTransport(c as never, 2000);
    await transport.produce([batch(0)], -1, 'txn', true);
    await transport.produce([batch(0)], -1, 'txn', false);
    await transport.produce([batch(0)], -1);
    expect(c.sent.map((s) => s.version)).toEqual([12, 11, 11]);
  });

  test('acks 0: the request expects no answer', async () => {
    const c = client([1]);
    await new BatchTransport(c as never, 2000).produce([batch(0)], 0);
    await new BatchTransport(c as never, 2000).produce([batch(0)], -1);
    expect(c.sent.map((s) => s.noResponse)).toEqual([true, false]);
  });
});
