/**
 * Headers on every message the Kafka sink writes, and the extra ones on dead-lettered messages.
 * Values are UTF-8 text. Consumers can route or filter on them without parsing the JSON value.
 */
import type { ChangeEvent } from '../event/event.ts';
import { formatLsn, isLsn } from '../replication/lsn.ts';
import { qualifiedTable } from '../event/key.ts';
import { encodeHeaders } from './protocol/record-batch.ts';

/** Name of the source (config name) that read the change, e.g. `db1`. */
export const HEADER_SOURCE = 'psql-streamer-source';
/** `schema.table` of the change (the bare table when the schema is unknown), e.g. `public.users`. */
export const HEADER_TABLE = 'psql-streamer-table';
/** Commit LSN of the change's transaction as `X/Y`, e.g. `0/16B3748` (the change LSN when unknown). */
export const HEADER_LSN = 'psql-streamer-lsn';
/** `insert`, `update`, `delete`, `truncate` or `message`. */
export const HEADER_ACTION = 'psql-streamer-action';

/** Dead-letter headers: why the message could not be written, and where it was meant to go. */
export const HEADER_DLQ_ERROR = 'psql-streamer-error';
/** Stable reason code, e.g. `MESSAGE_TOO_LARGE`, `UNKNOWN_TOPIC`, `INVALID_TOPIC`. */
export const HEADER_DLQ_ERROR_CODE = 'psql-streamer-error-code';
export const HEADER_DLQ_TOPIC = 'psql-streamer-original-topic';
/** Partition the message was meant for; absent when it had none yet (unknown or invalid topic). */
export const HEADER_DLQ_PARTITION = 'psql-streamer-original-partition';
/** Change LSN of the event as a decimal integer (the value's `WALPosition`). */
export const HEADER_DLQ_WAL_POSITION = 'psql-streamer-wal-position';
/** The event's UUID (the value's `UUID`). */
export const HEADER_DLQ_UUID = 'psql-streamer-uuid';
/** Size in bytes of the original value; set with an empty value when the value was too large for the dead-letter topic too. */
export const HEADER_DLQ_DROPPED_VALUE_BYTES = 'psql-streamer-dropped-value-bytes';

/** A message's headers: the name/value pairs, and the same as a record's encoded headers section. Never modified once built. */
export interface MessageHeaders {
  readonly pairs: ReadonlyArray<readonly [Buffer, Buffer]>;
  readonly encoded: Uint8Array;
  /** What the headers count for in a message's size (kafka_sink_bytes_total): 2 + name + value bytes each. */
  readonly bytes: number;
}

export function messageHeaders(pairs: ReadonlyArray<readonly [Buffer, Buffer]>): MessageHeaders {
  let bytes = 0;
  for (const [name, value] of pairs) bytes += 2 + name.length + value.length;
  return { pairs, encoded: encodeHeaders(pairs), bytes };
}

/** `headers` with `extra` set: a name already present takes the new value in its place, new names follow. */
export function withHeaders(headers: MessageHeaders, extra: ReadonlyArray<readonly [Buffer, Buffer]>): MessageHeaders {
  const map = new Map<Buffer, Buffer>(headers.pairs);
  for (const [name, value] of extra) map.set(name, value);
  return messageHeaders([...map]);
}

const keyBuffers = new Map<string, Buffer>();

/** Interned UTF-8 bytes of a short, often repeated text (header names, source and table names, actions). */
export function internedBytes(text: string): Buffer {
  let bytes = keyBuffers.get(text);
  if (bytes === undefined) {
    if (keyBuffers.size > 100_000) keyBuffers.clear();
    bytes = Buffer.from(text);
    keyBuffers.set(text, bytes);
  }
  return bytes;
}

/** An LSN as `X/Y`, or its decimal text when it is not a valid LSN. */
export function lsnText(lsn: bigint): string {
  return isLsn(lsn) ? formatLsn(lsn) : lsn.toString();
}

const SOURCE = internedBytes(HEADER_SOURCE);
const TABLE = internedBytes(HEADER_TABLE);
const LSN = internedBytes(HEADER_LSN);
const ACTION = internedBytes(HEADER_ACTION);

// Consecutive events nearly always share source, table, action and commit LSN (the same string
// objects, one bigint per transaction): the last headers are kept and handed to the next event
// that matches, so the common case costs four comparisons and no allocation.
let lastLsn = -1n;
let lastLsnBytes = Buffer.alloc(0);
let lastSource: string | undefined;
let lastSchema: string | undefined;
let lastTable: string | undefined;
let lastAction: string | undefined;
let lastTableBytes: Buffer = Buffer.alloc(0);
let lastHeaders: MessageHeaders | undefined;

/**
 * The four headers of an event's message, shared with other messages of the same source, table,
 * action and commit LSN (never modify them: withHeaders() makes a new set).
 */
export function eventHeaders(event: ChangeEvent): MessageHeaders {
  const lsn = event.commitLsn ?? event.lsn;
  if (
    lastHeaders !== undefined && lsn === lastLsn && event.source === lastSource && event.table === lastTable &&
    event.schema === lastSchema && event.action === lastAction
  ) {
    return lastHeaders;
  }
  if (lsn !== lastLsn) {
    lastLsnBytes = Buffer.from(lsnText(lsn));
    lastLsn = lsn;
  }
  if (event.table !== lastTable || event.schema !== lastSchema) {
    lastTableBytes = internedBytes(qualifiedTable(event));
    lastTable = event.table;
    lastSchema = event.schema;
  }
  lastSource = event.source;
  lastAction = event.action;
  lastHeaders = messageHeaders([
    [SOURCE, internedBytes(event.source)],
    [TABLE, lastTableBytes],
    [LSN, lastLsnBytes],
    [ACTION, internedBytes(event.action)],
  ]);
  return lastHeaders;
}
