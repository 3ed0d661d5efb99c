/**
 * Committing the Kafka source's delivered offsets to its group (source.ts ack()): never while the
 * group rebalances (a partition may have moved, and a commit of ours could move its new owner's
 * offset back: the new assignment is waited for a little), and never held forever by a broker that
 * stops answering (the commit fails, the pipeline retries the acknowledgement).
 */
import type { Consumer } from '../../kafka/library/consumer.ts';
import { withDeadline } from '../../core/deadline.ts';
import { StreamerError } from '../../core/errors.ts';
import { describeKafkaError } from '../../kafka/client-options.ts';
import { REQUEST_TIMEOUT_MS } from './consumer.ts';
import type { OffsetCommit, OffsetTracker } from './offsets.ts';

/** A commit not settled in this long (the client's request timeout and some slack) fails. */
const COMMIT_DEADLINE_MS = REQUEST_TIMEOUT_MS + 5_000;
/** An acknowledgement during a rebalance waits this long for the new assignment before committing. */
const REBALANCE_WAIT_MS = 5_000;

type SourceConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;

/** Joined a generation whose assignment has not arrived yet (between JoinGroup and SyncGroup). */
export function rebalancing(consumer: SourceConsumer, offsets: OffsetTracker): boolean {
  return consumer.memberId !== null && consumer.generationId !== offsets.generation;
}

/**
 * While the consumer has joined a newer generation whose assignment is not known yet, a partition
 * may have moved, and a commit of ours could move its new owner's offset back: wait for it a little
 * (until REBALANCE_WAIT_MS passed or the source stops).
 */
export async function awaitAssignment(consumer: SourceConsumer, offsets: OffsetTracker, loop: { readonly stopping: boolean }): Promise<void> {
  const until = Date.now() + REBALANCE_WAIT_MS;
  while (rebalancing(consumer, offsets) && Date.now() < until && !loop.stopping) await Bun.sleep(20);
}

/** `topic:partition@offset, ...`, for messages. */
export function describeCommits(commits: readonly OffsetCommit[]): string {
  return commits.map((c) => `${c.topic}:${c.partition}@${c.offset}`).join(', ');
}

/** Commits `commits` as the consumer's group; throws the (retryable) StreamerError to report when it fails. */
export async function commitOffsets(consumer: SourceConsumer, commits: OffsetCommit[], component: string): Promise<void> {
  try {
    // A broker that stops answering must fail the acknowledgement (the pipeline retries it), not hold it forever.
    await withDeadline(consumer.commit({ offsets: commits }), COMMIT_DEADLINE_MS, () => new Error(`no answer within ${COMMIT_DEADLINE_MS / 1000} s`));
  } catch (err) {
    throw new StreamerError('SOURCE', `unable to commit offsets ${describeCommits(commits)}: ${describeKafkaError(err)}`, {
      component,
      cause: err,
      explainsCause: true,
    });
  }
}
