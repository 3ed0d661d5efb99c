/**
 * How far a source's stream is in an exactly-once Kafka sink, pure (docs/kafka.md, "Exactly once"):
 * the last delivered stream event's (commit LSN, index in its transaction). Stream order is
 * monotonic in that pair, so every event at or before the position is in Kafka already and is not
 * written again after a restart. The position is kept as a record of the position topic (JSON
 * value, position-records.ts), in the same Kafka transaction as the events; versions before that
 * kept the same JSON as consumer-group offset metadata, still read at start. Relayed events (read
 * from Kafka) commit their own source offsets instead (relayCommits()).
 */
import type { ChangeEvent } from '../../event/event.ts';
import { formatLsn, parseLsn } from '../../replication/lsn.ts';

export interface StreamPosition {
  /** Commit LSN of the transaction (a non-transactional message: its own LSN). */
  readonly lsn: bigint;
  /** The event's `txIndex` in that transaction. */
  readonly index: number;
  /** The source's stream identity (events' `stream`), when known: positions of another stream never match. */
  readonly stream: string | undefined;
}

/** The position of a stream event; undefined for events outside the stream's order (snapshot rows, relayed events). */
export function positionOf(event: ChangeEvent): StreamPosition | undefined {
  if (event.snapshot === true || event.commitLsn === undefined || event.txIndex === undefined || event.origin !== undefined) return undefined;
  return { lsn: event.commitLsn, index: event.txIndex, stream: event.stream };
}

/** The position the batch completes: its last stream event's. */
export function lastPosition(batch: readonly ChangeEvent[]): StreamPosition | undefined {
  for (let i = batch.length - 1; i >= 0; i--) {
    const position = positionOf(batch[i] as ChangeEvent);
    if (position !== undefined) return position;
  }
  return undefined;
}

/** Whether both streams are named and differ (another cluster or slot): their positions do not compare. */
export function otherStream(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a !== b;
}

/** Whether position `a` is after `b` (same stream assumed). */
function isAfter(a: StreamPosition, b: StreamPosition): boolean {
  return a.lsn > b.lsn || (a.lsn === b.lsn && a.index > b.index);
}

/** Whether `event` is at or before `committed` in the same stream (so already in Kafka). */
export function isDelivered(event: ChangeEvent, committed: StreamPosition | undefined): boolean {
  if (committed === undefined) return false;
  const position = positionOf(event);
  if (position === undefined || otherStream(committed.stream, position.stream)) return false;
  return !isAfter(position, committed);
}

/**
 * The latest of the positions the producers of one source hold (docs/kafka.md, "Exactly once": they
 * take turns, so the last committed transaction holds the latest). Positions of another stream than
 * `stream` count only when none is of it (then the first of them, for the warning that ignores it).
 */
export function latestPosition(positions: ReadonlyArray<StreamPosition | undefined>, stream: string | undefined): StreamPosition | undefined {
  let latest: StreamPosition | undefined;
  let other: StreamPosition | undefined;
  for (const position of positions) {
    if (position === undefined) continue;
    if (otherStream(stream, position.stream)) {
      other ??= position;
      continue;
    }
    if (latest === undefined || isAfter(position, latest)) latest = position;
  }
  return latest ?? other;
}

const FORMAT = 1;

/** The JSON text of a position (a position record's value; earlier, offset metadata): `{"psql-streamer":1,"lsn":"0/16B3748","index":3,"stream":"…"}`. */
export function encodePosition(position: StreamPosition, source: string): string {
  return JSON.stringify({ 'psql-streamer': FORMAT, source, lsn: formatLsn(position.lsn), index: position.index, stream: position.stream });
}

/** Reads a position written by encodePosition(); throws with what is wrong otherwise. */
export function decodePosition(text: string): StreamPosition {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`not a psql-streamer position: ${JSON.stringify(text.slice(0, 100))}`);
  }
  const v = value as { 'psql-streamer'?: unknown; lsn?: unknown; index?: unknown; stream?: unknown };
  if (v === null || typeof v !== 'object' || v['psql-streamer'] !== FORMAT || typeof v.lsn !== 'string' || !Number.isSafeInteger(v.index) || (v.index as number) < 0) {
    throw new Error(`not a psql-streamer position (format ${FORMAT}): ${JSON.stringify(text.slice(0, 100))}`);
  }
  const lsn = parseLsn(v.lsn);
  return { lsn, index: v.index as number, stream: typeof v.stream === 'string' ? v.stream : undefined };
}

/** Human text: `0/16B3748 #3`. */
export function describePosition(position: StreamPosition): string {
  return `${formatLsn(position.lsn)} #${position.index}`;
}
