/**
 * The pgoutput messages (protocol versions 1-4, PostgreSQL 10-17) as a discriminated union on `tag`.
 * Field names follow "Logical Replication Message Formats":
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 * LSNs are bigint, timestamps are bigint µs since 2000-01-01 (pgTimeToIso formats them), OIDs and
 * xids are unsigned 32-bit numbers. `xid` on data messages is set only inside a streamed
 * transaction (protocol 2+, between Stream Start and Stream Stop), otherwise undefined; it is the
 * xid of the (sub)transaction that made the change, so it may differ from Stream Start's
 * top-level xid (a Stream Abort with that subXid then discards exactly those changes).
 */
import type { Lsn } from '../replication/lsn.ts';

/** Marks an unchanged TOAST value ('u'): PostgreSQL did not send it, the old value still stands. */
export const UNCHANGED_TOAST: unique symbol = Symbol('unchanged TOAST value');
export type UnchangedToast = typeof UNCHANGED_TOAST;

/**
 * One column of a tuple: the kind is the value's type. `string` = text format ('t'),
 * `Uint8Array` = binary format ('b', a copy), `null` = SQL NULL ('n'), UNCHANGED_TOAST ('u').
 */
export type TupleValue = string | Uint8Array | null | UnchangedToast;

/** TupleData: one value per column, in the Relation's column order. */
export type TupleData = readonly TupleValue[];

/** relreplident: 'd' default (primary key), 'n' nothing, 'f' full (all columns), 'i' index. */
export type ReplicaIdentity = 'd' | 'n' | 'f' | 'i';

/** Which old tuple an Update or Delete carries: 'key' ('K', replica identity columns) or 'old' ('O', whole row). */
export type OldTupleKind = 'key' | 'old';

/** Begin ('B'): a transaction starts. */
export interface Begin { tag: 'begin'; finalLsn: Lsn; commitTime: bigint; xid: number }

/** Commit ('C'): the transaction ends; `commitLsn` is the position to persist once delivered. */
export interface Commit { tag: 'commit'; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTime: bigint }

/** Origin ('O'): the transaction was replicated from another node. */
export interface Origin { tag: 'origin'; commitLsn: Lsn; name: string }

/** One column of a Relation message. */
export interface RelationColumn {
  /** Bit 1: the column is part of the replica identity key. */
  flags: number;
  isKey: boolean;
  name: string;
  typeOid: number;
  /** atttypmod (-1 when none), e.g. varchar(n) length + 4, numeric precision/scale. */
  typeModifier: number;
}

/** Relation ('R'): a table's schema, sent before its first change in a session and again after its definition changes. */
export interface Relation {
  tag: 'relation';
  xid: number | undefined;
  relationId: number;
  /** Schema name; PostgreSQL sends '' for pg_catalog. */
  namespace: string;
  name: string;
  replicaIdentity: ReplicaIdentity;
  columns: RelationColumn[];
}

/** Type ('Y'): name of a non-built-in data type used by a following Relation. */
export interface TypeMessage { tag: 'type'; xid: number | undefined; typeOid: number; namespace: string; name: string }

/** Insert ('I'). */
export interface Insert { tag: 'insert'; xid: number | undefined; relationId: number; newTuple: TupleData }

/** Update ('U'): the old key ('K') or old row ('O') only when the replica identity makes PostgreSQL send it. */
export interface Update {
  tag: 'update';
  xid: number | undefined;
  relationId: number;
  oldKind: OldTupleKind | undefined;
  oldTuple: TupleData | undefined;
  newTuple: TupleData;
}

/** Delete ('D'): the old key ('K') or, with REPLICA IDENTITY FULL, the old row ('O'). */
export interface Delete { tag: 'delete'; xid: number | undefined; relationId: number; oldKind: OldTupleKind; oldTuple: TupleData }

/** Truncate ('T'): one message for all tables truncated by one statement. */
export interface Truncate {
  tag: 'truncate';
  xid: number | undefined;
  /** Option bits: 1 CASCADE, 2 RESTART IDENTITY. */
  options: number;
  cascade: boolean;
  restartIdentity: boolean;
  relationIds: number[];
}

/** Message ('M'): pg_logical_emit_message output (needs the `messages` option). */
export interface LogicalMessage {
  tag: 'message';
  xid: number | undefined;
  flags: number;
  transactional: boolean;
  lsn: Lsn;
  prefix: string;
  /** A copy of the content bytes. */
  content: Uint8Array;
}

/** Stream Start ('S', v2+): the following data messages belong to the streamed transaction `xid`. */
export interface StreamStart { tag: 'stream-start'; xid: number; firstSegment: boolean }

/** Stream Stop ('E', v2+): the end of a block of streamed changes. */
export interface StreamStop { tag: 'stream-stop' }

/** Stream Commit ('c', v2+): the streamed transaction committed. */
export interface StreamCommit { tag: 'stream-commit'; xid: number; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTime: bigint }

/** Stream Abort ('A', v2+): a streamed (sub)transaction aborted; LSN and time only with streaming=parallel (v4+). */
export interface StreamAbort {
  tag: 'stream-abort';
  xid: number;
  /** Equals `xid` when the top-level transaction aborted. */
  subXid: number;
  abortLsn: Lsn | undefined;
  abortTime: bigint | undefined;
}

/** Begin Prepare ('b', v3+): a prepared (two-phase) transaction starts. */
export interface BeginPrepare { tag: 'begin-prepare'; prepareLsn: Lsn; endLsn: Lsn; prepareTime: bigint; xid: number; gid: string }

/** Prepare ('P', v3+): PREPARE TRANSACTION was decoded. */
export interface Prepare { tag: 'prepare'; flags: number; prepareLsn: Lsn; endLsn: Lsn; prepareTime: bigint; xid: number; gid: string }

/** Commit Prepared ('K', v3+): COMMIT PREPARED. */
export interface CommitPrepared { tag: 'commit-prepared'; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTime: bigint; xid: number; gid: string }

/** Rollback Prepared ('r', v3+): ROLLBACK PREPARED. */
export interface RollbackPrepared {
  tag: 'rollback-prepared';
  flags: number;
  prepareEndLsn: Lsn;
  rollbackEndLsn: Lsn;
  prepareTime: bigint;
  rollbackTime: bigint;
  xid: number;
  gid: string;
}

/** Stream Prepare ('p', v3+): a streamed transaction was prepared. */
export interface StreamPrepare { tag: 'stream-prepare'; flags: number; prepareLsn: Lsn; endLsn: Lsn; prepareTime: bigint; xid: number; gid: string }

/** Every pgoutput message. */
export type PgoutputMessage =
  | Begin | Commit | Origin | Relation | TypeMessage | Insert | Update | Delete | Truncate | LogicalMessage
  | StreamStart | StreamStop | StreamCommit | StreamAbort
  | BeginPrepare | Prepare | CommitPrepared | RollbackPrepared | StreamPrepare;

/** The `tag` of every message. */
export type PgoutputTag = PgoutputMessage['tag'];

/** A row change. */
export type RowMessage = Insert | Update | Delete;
