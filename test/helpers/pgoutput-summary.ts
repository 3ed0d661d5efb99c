/**
 * Folds decoded pgoutput messages the way a replication client must (relation cache, stream
 * state, transaction framing), asserting the framing invariants on the way, and returns a compact
 * list of what happened that a scenario compares with its expectation.
 */
import { expect } from 'bun:test';
import { formatLsn } from '../../src/replication/lsn.ts';
import type { Begin, BeginPrepare, Prepare, StreamPrepare } from '../../src/pgoutput/messages.ts';
import { RelationCache } from '../../src/pgoutput/relations.ts';
import { rowChange } from '../../src/pgoutput/rows.ts';
import type { DecodedFrame } from './pgoutput-capture.ts';

/** One thing a scenario expects, in stream order. */
export type Fact = Record<string, unknown>;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const plain = (o: object | undefined) => (o === undefined ? undefined : { ...o });
const raw = (_oid: number, value: string | Uint8Array) => (typeof value === 'string' ? value : hex(value));

/** What the fold learned besides the facts. */
export interface Summary {
  facts: Fact[];
  relations: RelationCache;
  /** Relation messages seen (by table name), in order. */
  relationNames: string[];
  /** Type messages seen (by type name). */
  typeNames: string[];
}

/** Folds the messages; throws (via expect) when a framing invariant does not hold. */
export function summarize(frames: DecodedFrame[]): Summary {
  const relations = new RelationCache();
  const facts: Fact[] = [];
  const relationNames: string[] = [];
  const typeNames: string[] = [];
  let begin: Begin | undefined;
  let streamXid: number | undefined;
  const streamedXids = new Set<number>();
  const prepared = new Map<string, BeginPrepare | Prepare | StreamPrepare>();

  for (const { message, xid: frameXid } of frames) {
    if ('xid' in message && ['relation', 'type', 'insert', 'update', 'delete', 'truncate', 'message'].includes(message.tag)) {
      // Data messages carry an xid exactly inside a stream (it may be a subtransaction's).
      if (streamXid === undefined) expect(message.xid).toBeUndefined();
      else expect(message.xid).toBeNumber();
    }
    switch (message.tag) {
      case 'begin':
        expect(begin).toBeUndefined();
        expect(message.xid).toBe(frameXid);
        begin = message;
        facts.push({ begin: true });
        break;
      case 'commit':
        expect(begin).toBeDefined();
        expect(message.commitLsn).toBe(begin!.finalLsn);
        expect(message.commitTime).toBe(begin!.commitTime);
        expect(message.endLsn > message.commitLsn).toBe(true);
        expect(message.flags).toBe(0);
        begin = undefined;
        facts.push({ commit: true });
        break;
      case 'origin':
        facts.push({ origin: message.name, originLsn: formatLsn(message.commitLsn) });
        break;
      case 'relation':
        relations.setRelation(message);
        relationNames.push(message.name);
        break;
      case 'type':
        relations.setType(message);
        typeNames.push(message.name);
        break;
      case 'insert':
      case 'update':
      case 'delete': {
        const relation = relations.require(message.relationId);
        const row = rowChange(message, relation, raw);
        const fact: Fact = { [message.tag]: relation.name, columns: plain(row.columns) };
        if (row.old !== undefined) Object.assign(fact, { old: plain(row.old), oldKind: row.oldKind });
        if (row.unchanged.length > 0) fact.unchanged = row.unchanged;
        if (message.xid !== undefined) fact.xid = message.xid;
        facts.push(fact);
        break;
      }
      case 'truncate':
        facts.push({
          truncate: message.relationIds.map((id) => relations.require(id).name),
          cascade: message.cascade,
          restartIdentity: message.restartIdentity,
        });
        break;
      case 'message':
        facts.push({ message: message.prefix, transactional: message.transactional, content: hex(message.content), ...(message.xid === undefined ? {} : { xid: message.xid }) });
        break;
      case 'stream-start':
        expect(streamXid).toBeUndefined();
        expect(message.firstSegment).toBe(!streamedXids.has(message.xid));
        streamedXids.add(message.xid);
        streamXid = message.xid;
        facts.push({ streamStart: message.xid, first: message.firstSegment });
        break;
      case 'stream-stop':
        expect(streamXid).toBeDefined();
        streamXid = undefined;
        facts.push({ streamStop: true });
        break;
      case 'stream-commit':
        expect(streamedXids.has(message.xid)).toBe(true);
        expect(message.endLsn > message.commitLsn).toBe(true);
        facts.push({ streamCommit: message.xid });
        break;
      case 'stream-abort':
        expect(streamedXids.has(message.xid)).toBe(true);
        expect(message.abortLsn).toBeUndefined(); // only with streaming = parallel (protocol 4)
        facts.push({ streamAbort: message.xid, subXid: message.subXid });
        break;
      case 'begin-prepare':
        expect(message.xid).toBe(frameXid);
        expect(message.endLsn > message.prepareLsn).toBe(true);
        prepared.set(message.gid, message);
        facts.push({ beginPrepare: message.gid });
        break;
      case 'prepare':
      case 'stream-prepare': {
        const started = prepared.get(message.gid);
        if (message.tag === 'prepare') {
          expect(started).toMatchObject({ prepareLsn: message.prepareLsn, endLsn: message.endLsn, prepareTime: message.prepareTime, xid: message.xid });
        } else {
          expect(streamedXids.has(message.xid)).toBe(true);
        }
        prepared.set(message.gid, message);
        facts.push({ [message.tag === 'prepare' ? 'prepare' : 'streamPrepare']: message.gid });
        break;
      }
      case 'commit-prepared': {
        const done = prepared.get(message.gid);
        expect(done?.xid).toBe(message.xid);
        expect(message.commitLsn >= (done?.endLsn ?? 0n)).toBe(true);
        expect(message.endLsn > message.commitLsn).toBe(true);
        facts.push({ commitPrepared: message.gid });
        break;
      }
      case 'rollback-prepared': {
        const done = prepared.get(message.gid);
        expect(done).toMatchObject({ xid: message.xid, endLsn: message.prepareEndLsn, prepareTime: message.prepareTime });
        expect(message.rollbackEndLsn > message.prepareEndLsn).toBe(true);
        expect(message.rollbackTime >= message.prepareTime).toBe(true);
        facts.push({ rollbackPrepared: message.gid });
        break;
      }
      default: {
        const never: never = message;
        throw new Error(`unexpected message ${JSON.stringify(never)}`);
      }
    }
  }
  expect(begin).toBeUndefined();
  expect(streamXid).toBeUndefined();
  return { facts, relations, relationNames, typeNames };
}

/** Facts without stream bookkeeping and xids: what a consumer of committed rows sees. */
export function rowsOnly(facts: Fact[]): Fact[] {
  return facts.filter((f) => 'insert' in f || 'update' in f || 'delete' in f).map(({ xid: _xid, ...rest }) => rest);
}
