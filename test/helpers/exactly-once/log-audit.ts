/**
 * A second opinion on what a data topic holds, independent of any client's read_committed filter:
 * every record batch of every partition is fetched READ_UNCOMMITTED (control batches included) and
 * each transactional batch gets the fate its producer's next control marker on that partition gives
 * it (commit or abort; no marker yet: open). Non-transactional batches count as committed.
 *
 * The exactly-once harness runs it after the consumer's check: when the consumer (reader.ts) and the
 * log disagree, the consumer is wrong; when the log itself lacks a committed change, the sink is.
 */
import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import { uniqueTopic } from '../kafka.ts';
import type { ReadRecord } from './check.ts';

const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
/** Control record types (the key is int16 version, int16 type). */
const ABORT = 0;
const COMMIT = 1;

export type Fate = 'committed' | 'aborted' | 'open';

/** What a record's value is to the check: a row's id and version (undefined: not an event of the test table). */
export type ParseValue = (value: string) => { id: number; version: number } | undefined;

/** A data record of the topic with its batch's producer and fate. */
export interface AuditedRecord {
  partition: number;
  offset: bigint;
  event: { id: number; version: number } | undefined;
  producerId: bigint;
  producerEpoch: number;
  fate: Fate;
}

/** The parts of a fetched batch the audit reads. */
export interface AuditBatch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  producerId: bigint;
  producerEpoch: number;
  records: { offsetDelta: number; key?: Buffer | null; value?: Buffer | null }[];
}

/**
 * The fate of every data record of one partition's batches (in offset order). Pure: each
 * transactional data batch waits for the next control marker of its producer id.
 */
export function auditPartition(partition: number, batches: readonly AuditBatch[], parse: ParseValue): AuditedRecord[] {
  const out: AuditedRecord[] = [];
  const waiting = new Map<bigint, AuditedRecord[]>();
  for (const batch of batches) {
    if ((batch.attributes & IS_CONTROL) !== 0) {
      const key = batch.records[0]?.key;
      const type = key && key.length >= 4 ? key.readInt16BE(2) : -1;
      const fate: Fate | undefined = type === COMMIT ? 'committed' : type === ABORT ? 'aborted' : undefined;
      for (const record of waiting.get(batch.producerId) ?? []) record.fate = fate ?? record.fate;
      waiting.delete(batch.producerId);
      continue;
    }
    const transactional = (batch.attributes & IS_TRANSACTIONAL) !== 0;
    for (const r of batch.records) {
      const record: AuditedRecord = {
        partition,
        offset: batch.firstOffset + BigInt(r.offsetDelta),
        event: parse(r.value?.toString() ?? ''),
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        fate: transactional ? 'open' : 'committed',
      };
      out.push(record);
      if (transactional) {
        let list = waiting.get(batch.producerId);
        if (list === undefined) waiting.set(batch.producerId, (list = []));
        list.push(record);
      }
    }
  }
  return out;
}

/** Every data record of `topic`, fetched READ_UNCOMMITTED up to each partition's high watermark, with its fate. */
export async function auditTopic(
  brokers: readonly string[], topic: string, parse: ParseValue, batchesOut?: Map<number, AuditBatch[]>,
): Promise<AuditedRecord[]> {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    groupId: uniqueTopic('exactly-once-audit'),
    clientId: 'exactly-once-audit',
    bootstrapBrokers: [...brokers],
    isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
  });
  try {
    const metadata = await consumer.metadata({ topics: [topic] });
    const info = metadata.topics.get(topic);
    if (info === undefined) throw new Error(`audit: no metadata for topic ${topic}`);
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const out: AuditedRecord[] = [];
    for (let partition = 0; partition < info.partitionsCount; partition++) {
      const end = ends[partition] ?? 0n;
      const batches: AuditBatch[] = [];
      let offset = 0n;
      let emptyFetches = 0;
      while (offset < end) {
        const fetched = (await fetchPartition(consumer, info, partition, offset, 8 << 20)).batches;
        let next = offset;
        for (const batch of fetched) {
          const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
          if (last < offset) continue;
          batches.push(batch);
          next = last + 1n;
        }
        if (next === offset && ++emptyFetches > 20) throw new Error(`audit: partition ${partition} stuck at offset ${offset} of ${end}`);
        offset = next;
      }
      for (const record of auditPartition(partition, batches, parse)) out.push(record);
      // Kept only when asked: a soak's topic holds millions of records.
      batchesOut?.set(partition, batches.map((b) => ({ ...b, records: b.records.slice(0, 1).map((r) => ({ offsetDelta: r.offsetDelta, key: r.key ?? null })) })));
    }
    return out;
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

type AuditConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;

/**
 * One Fetch of `partition` from `offset` at the consumer's isolation level, as the broker (and the
 * consumer's filters) returned it: its record batches, control batches included, and the aborted
 * transactions listed (read_committed only).
 */
async function fetchPartition(
  consumer: AuditConsumer, info: { id: string; partitions: { leader: number }[] }, partition: number, offset: bigint, maxBytes: number,
): Promise<{ batches: AuditBatch[]; abortedTransactions: { producerId: bigint; firstOffset: bigint }[] }> {
  const response = await consumer.fetch({
    node: info.partitions[partition]!.leader,
    maxWaitTime: 100,
    maxBytes,
    topics: [{ topicId: info.id, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: maxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
  });
  const part = response.responses[0]?.partitions[0];
  return { batches: (part?.records ?? []) as unknown as AuditBatch[], abortedTransactions: [...(part?.abortedTransactions ?? [])] };
}

/** `first+delta[:ctlType]:p<pid>e<epoch>:n<records>` for each batch: a partition's log at a glance. */
export function describeBatches(batches: readonly AuditBatch[]): string {
  return batches.map((b) => `${b.firstOffset}+${b.lastOffsetDelta}${(b.attributes & IS_CONTROL) !== 0 ? `:ctl${b.records[0]?.key?.readInt16BE(2)}` : (b.attributes & IS_TRANSACTIONAL) !== 0 ? '' : ':plain'}:p${b.producerId}e${b.producerEpoch}:n${b.lastOffsetDelta + 1}`).join(' ');
}

/** The audit's records of one fate, as the check's records (`parse` turns a value into row id and version). */
export function recordsOfFate(records: readonly AuditedRecord[], fate: Fate): ReadRecord[] {
  const out: ReadRecord[] = [];
  for (const r of records) if (r.fate === fate && r.event !== undefined) out.push({ ...r.event, partition: r.partition, offset: r.offset });
  return out;
}

/**
 * Diagnosis for a consumer that missed committed records: fetches each partition READ_COMMITTED as
 * a client's message stream does (the next fetch starts after the last batch of the response), with
 * the client's filter and `filter` applied, and describes the first response that lacks a record
 * the audit found committed in the offsets it covered (its aborted-transactions list and batches).
 */
export async function diagnoseCommittedFetches(
  brokers: readonly string[], topic: string, audited: readonly AuditedRecord[], filter: (consumer: AuditConsumer) => void,
): Promise<string[]> {
  const consumer: AuditConsumer = new Consumer({
    groupId: uniqueTopic('exactly-once-diagnosis'),
    clientId: 'exactly-once-diagnosis',
    bootstrapBrokers: [...brokers],
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  filter(consumer);
  const findings: string[] = [];
  try {
    const metadata = await consumer.metadata({ topics: [topic] });
    const info = metadata.topics.get(topic)!;
    const ends = (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })).get(topic) ?? [];
    for (let partition = 0; partition < info.partitionsCount; partition++) {
      const committed = new Set(audited.filter((r) => r.partition === partition && r.fate === 'committed').map((r) => r.offset));
      const end = ends[partition] ?? 0n;
      let offset = 0n;
      let missing = 0;
      let stuck = 0;
      while (offset < end && stuck < 20) {
        const { batches, abortedTransactions } = await fetchPartition(consumer, info, partition, offset, 1 << 20);
        if (batches.length === 0) {
          stuck++;
          continue;
        }
        const last = batches.at(-1)!;
        const next = last.firstOffset + BigInt(last.lastOffsetDelta) + 1n;
        const seen = new Set<bigint>();
        for (const b of batches) if ((b.attributes & IS_CONTROL) === 0) for (const r of b.records) seen.add(b.firstOffset + BigInt(r.offsetDelta));
        const lost: bigint[] = [];
        for (let o = offset; o < next; o++) if (committed.has(o) && !seen.has(o)) lost.push(o);
        if (lost.length > 0) {
          missing += lost.length;
          if (findings.length < 6) {
            const aborted = abortedTransactions.map((a) => `${a.producerId}@${a.firstOffset}`).join(' ');
            const shape = describeBatches(batches);
            findings.push(`partition ${partition}: fetch at ${offset} (next ${next}) lacks ${lost.length} committed records (first ${lost[0]}); aborted list [${aborted}]; batches ${shape}`);
          }
        }
        offset = next;
      }
      findings.push(`partition ${partition}: ${missing} committed records missing from read_committed fetches up to ${end}${stuck >= 20 ? ` (stuck at ${offset})` : ''}`);
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
  return findings;
}
