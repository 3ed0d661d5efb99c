/**
 * The `passthrough` encoding: one event as the original psql-streamer's JSON object. The first eight
 * keys are the original's, in its order (`Host, Database, Table, Action, WALPosition, Timestamp,
 * UUID, Columns`); our additions follow and are omitted when unknown, so a consumer of the original
 * keeps working (docs/compatibility.md, "Event format").
 */
import type { ChangeEvent } from './event.ts';
import { goJsonObject, goJsonString } from './go-json.ts';

// Consecutive events nearly always share host, database, table and action (the same string
// objects), so the encoded head is kept for the next event instead of re-encoded.
let headHost = '';
let headDatabase = '';
let headTable = '';
let headAction = '';
let head = '';

function headOf(event: ChangeEvent): string {
  if (event.host !== headHost || event.database !== headDatabase || event.table !== headTable || event.action !== headAction) {
    headHost = event.host;
    headDatabase = event.database;
    headTable = event.table;
    headAction = event.action;
    head =
      '{"Host":' + goJsonString(event.host) +
      ',"Database":' + goJsonString(event.database) +
      ',"Table":' + goJsonString(event.table) +
      ',"Action":' + goJsonString(event.action) +
      ',"WALPosition":';
  }
  return head;
}

let schemaOf = '';
let schemaJson = '';
// A transaction's events share the commit time string, and a relation's events the key array.
let commitTimeOf = '';
let commitTimeJson = '';
let keyOf: readonly string[] | undefined;
let keyJson = '';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The event's passthrough JSON as UTF-8 bytes: what the source built (`encoded`), else encoded now. */
export function passthroughBytes(event: ChangeEvent): Uint8Array {
  return event.encoded ?? utf8.encode(encodePassthrough(event));
}

/** Encodes an event as a JSON object (no trailing newline). */
export function encodePassthrough(event: ChangeEvent): string {
  if (event.encoded !== undefined) return fromUtf8.decode(event.encoded);
  let out =
    headOf(event) + event.lsn.toString() +
    ',"Timestamp":' + goJsonString(event.timestamp) +
    ',"UUID":' + goJsonString(event.uuid) +
    ',"Columns":' + goJsonObject(event.columns);
  if (event.schema) {
    if (event.schema !== schemaOf) {
      schemaOf = event.schema;
      schemaJson = ',"Schema":' + goJsonString(event.schema);
    }
    out += schemaJson;
  }
  if (event.xid !== undefined) out += ',"XID":' + event.xid;
  if (event.commitLsn !== undefined) out += ',"CommitLSN":' + event.commitLsn.toString();
  if (event.commitTime !== undefined) {
    if (event.commitTime !== commitTimeOf) {
      commitTimeOf = event.commitTime;
      commitTimeJson = ',"CommitTime":' + goJsonString(event.commitTime);
    }
    out += commitTimeJson;
  }
  if (event.txIndex !== undefined) out += ',"TxIndex":' + event.txIndex;
  if (event.old !== undefined) out += ',"Old":' + goJsonObject(event.old);
  if (event.key !== undefined) {
    // By identity: key arrays are frozen per relation (RelationInfo.keyColumns) or replaced whole.
    if (event.key !== keyOf) {
      keyOf = event.key;
      keyJson = ',"Key":' + stringArray(event.key);
    }
    out += keyJson;
  }
  if (event.unchanged !== undefined && event.unchanged.length > 0) out += ',"Unchanged":' + stringArray(event.unchanged);
  if (event.snapshot === true) out += ',"Snapshot":true';
  return out + '}';
}

function stringArray(items: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) out += (i === 0 ? '' : ',') + goJsonString(items[i] as string);
  return out + ']';
}
