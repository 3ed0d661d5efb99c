/**
 * The Kafka source's consumer client: the source's settings and the @platformatic/kafka Consumer
 * made from them (group timings, fetch sizes and wait, request timeout, isolation level, and, for
 * read_committed, the filter that completes the client's: read-committed.ts). Commits are manual.
 */
import { Consumer, FetchIsolationLevels } from '../../kafka/library/consumer.ts';
import type { KafkaConnectionOptions } from '../../kafka/client-options.ts';
import { filterAbortedFetches } from './read-committed.ts';

/** A fetch waits this long for data on a quiet topic (the original waited 10 s for 1 MB). */
const FETCH_MAX_WAIT_MS = 500;
/** A request (fetch, commit) the brokers do not answer in this long fails and is retried. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** The `isolation` key: which records of transactional producers are read. */
export type KafkaIsolation = 'read_committed' | 'read_uncommitted';

export interface KafkaSourceSettings {
  connection: KafkaConnectionOptions;
  topics: string[];
  groupId: string;
  deadLetterTopic: string | undefined;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Default read_committed. */
  isolation?: KafkaIsolation;
  /** Failing fetches for this long make the source unhealthy (default 10 s). */
  unhealthyAfterMs?: number;
  /** The sinks subscribed to this source, for stats. */
  sinkNames?: readonly string[];
  /** Asks the sinks to get ready (Sink.prepareFor): called when an open transaction holds the group's offsets. */
  prepareSinks?: () => Promise<void>;
}

/** The source's consumer of `settings.topics` as group `settings.groupId`, without autocommit. */
export function newConsumer(settings: KafkaSourceSettings): Consumer<Buffer, Buffer, Buffer, Buffer> {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    requestTimeout: REQUEST_TIMEOUT_MS,
    ...settings.connection,
    groupId: settings.groupId,
    autocommit: false,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(settings.sessionTimeoutMs, 30_000),
    maxWaitTime: FETCH_MAX_WAIT_MS,
    maxBytes: 16 * 2 ** 20,
    maxBytesPerPartition: 2 ** 20,
    isolationLevel: settings.isolation === 'read_uncommitted' ? FetchIsolationLevels.READ_UNCOMMITTED : FetchIsolationLevels.READ_COMMITTED,
  });
  // The client's own read_committed filter lets some aborted records through (read-committed.ts).
  if (settings.isolation !== 'read_uncommitted') filterAbortedFetches(consumer);
  return consumer;
}
