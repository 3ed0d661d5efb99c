/**
 * Fault injection for the exactly-once sink against a real broker: a produce request that carries
 * a position record goes through, then its answer reports the position topic's partition failed
 * (as a leader that moved would) while every other partition of the request was acknowledged.
 */
import { BatchTransport } from '../../../src/sinks/kafka/transport.ts';

export interface RefusedPositions {
  /** The next `n` requests that carry a record of `positionTopic` have that partition refused. */
  refuse(positionTopic: string, n: number): void;
  /** How many of those are still to come. */
  readonly pending: number;
  /** Puts the real call back. */
  restore(): void;
}

export function refusePositionRecords(): RefusedPositions {
  const real = BatchTransport.prototype.produce;
  let topic = '';
  let toRefuse = 0;
  BatchTransport.prototype.produce = async function (this: BatchTransport, ...args: Parameters<BatchTransport['produce']>) {
    const outcomes = await real.apply(this, args);
    const [batches] = args;
    const position = batches.find((b) => b.topic === topic);
    if (position === undefined || toRefuse === 0) return outcomes;
    toRefuse--;
    return outcomes.map((outcome) => {
      if (!outcome.partitionKeys.includes(position.partitionKey)) return outcome;
      const others = batches.filter((b) => b !== position && outcome.partitionKeys.includes(b.partitionKey));
      const error = Object.assign(new Error('NOT_LEADER_OR_FOLLOWER: the position partition moved (test)'), {
        produced: { offsets: others.map((b) => ({ topic: b.topic, partition: b.partition })) },
      });
      return { partitionKeys: outcome.partitionKeys, error };
    });
  };
  return {
    refuse: (positionTopic, n) => { topic = positionTopic; toRefuse = n; },
    get pending() { return toRefuse; },
    restore: () => { BatchTransport.prototype.produce = real; },
  };
}
