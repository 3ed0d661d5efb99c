/**
 * The exactly-once sink's position records, pure (docs/kafka.md, "Exactly once"): each transaction
 * of a PostgreSQL source writes, in its own produce request, one record to `positionTopic`
 * partition 0 whose key is the producer's transactional id and whose value is the position the
 * transaction completes (encodePosition()'s JSON). The record is committed or aborted with the
 * transaction's messages, so a read_committed reader finds the position of each producer's last
 * committed transaction: the latest record of its key that is neither a control record nor of an
 * aborted transaction. A record with no value (a tombstone) means "no position". The topic is
 * compacted, so the latest record of every key stays however old it is.
 */
import { abortedBatches, IS_CONTROL, type FetchedBatch } from '../../kafka/protocol/aborted-batches.ts';
import type { BatchRecord } from '../../kafka/protocol/record-batch.ts';
import { decodePosition, encodePosition, type StreamPosition } from './stream-position.ts';

/** A record's headers section with no header (a count of 0). */
const NO_HEADERS = { encoded: new Uint8Array([0]) };
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The record that holds `position` for the producer `transactionalId` (of source `source`). */
export function positionRecord(transactionalId: string, position: StreamPosition, source: string): BatchRecord {
  return { key: utf8.encode(transactionalId), value: utf8.encode(encodePosition(position, source)), headers: NO_HEADERS };
}

/** A fetched record batch as the library parses it: what reading positions needs of it. */
export interface PositionBatch extends FetchedBatch {
  records: { key?: Uint8Array | null; value?: Uint8Array | null; offsetDelta: number }[];
}

/** A producer's position record found in the topic: its position (undefined for a tombstone) and offset. */
export interface FoundPosition {
  readonly position: StreamPosition | undefined;
  readonly offset: bigint;
}

/**
 * The latest committed position record of each of `ids` among one partition's fetched batches
 * (offset order) at offsets below `before`, skipping control batches and the batches of the
 * transactions the Fetch answer lists as aborted. Ids without a record there are left out.
 * Throws, naming the offset, for a record of one of `ids` that is not a position.
 */
export function latestPositionRecords(
  batches: readonly PositionBatch[],
  abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[],
  ids: ReadonlySet<string>,
  before: bigint,
): Map<string, FoundPosition> {
  const aborted = new Set(abortedBatches(batches, abortedTransactions));
  const found = new Map<string, FoundPosition>();
  for (const batch of batches) {
    if ((batch.attributes & IS_CONTROL) !== 0 || aborted.has(batch)) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset >= before || record.key === undefined || record.key === null) continue;
      const id = text.decode(record.key);
      if (!ids.has(id)) continue;
      const known = found.get(id);
      if (known !== undefined && known.offset > offset) continue;
      found.set(id, { position: decodeRecordValue(record.value, id, offset), offset });
    }
  }
  return found;
}

function decodeRecordValue(value: Uint8Array | null | undefined, id: string, offset: bigint): StreamPosition | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return decodePosition(text.decode(value));
  } catch (err) {
    throw new Error(`the record of key "${id}" at offset ${offset} of the position topic: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Whether a topic's `cleanup.policy` keeps the latest record of every key for ever (it includes `compact`). */
export function isCompacted(cleanupPolicy: string): boolean {
  return cleanupPolicy.split(',').map((p) => p.trim()).includes('compact');
}

/** The operator's remedy for a position topic that is not compacted. */
export function compactCommand(topic: string): string {
  return `kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics --entity-name ${topic} --add-config cleanup.policy=compact`;
}

/** What is wrong with a position topic of `cleanupPolicy` (undefined when it is compacted). */
export function cleanupPolicyProblem(topic: string, cleanupPolicy: string): string | undefined {
  if (isCompacted(cleanupPolicy)) return undefined;
  return `the position topic "${topic}" has cleanup.policy=${cleanupPolicy}, not compact: once its retention deletes a producer's last position record, ` +
    'a restart no longer knows what is in Kafka already and writes those events again';
}
