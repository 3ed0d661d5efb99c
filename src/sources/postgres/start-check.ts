/**
 * The check made at every (re)connect before streaming (docs/operations.md "Positions the server
 * must agree with"): the position we would resume from, what the state file says about the cluster
 * it came from, the replication slot as it is, and the server's WAL end are compared, and the
 * answer is to stream, to create the slot first, or to refuse. Pure: no I/O, no clock.
 *
 * Refusing is for what would otherwise lose changes silently or confirm a position the server never
 * had: a position ahead of the server's WAL, another cluster, a missing slot or a slot ahead of us
 * while we hold a position (unless the operator accepted that gap), an invalidated slot.
 */
import { StreamerError } from '../../core/errors.ts';
import type { SlotInfo, SystemIdentity } from '../../replication/commands.ts';
import { formatLsn, type Lsn } from '../../replication/lsn.ts';
import type { ServerIdentity } from '../../state/store.ts';

/** Why a source refuses to stream; also the `reason` label of `source_refused`. */
export type RefusalReason = 'position_ahead_of_server' | 'other_cluster' | 'slot_missing' | 'slot_ahead' | 'slot_invalidated' | 'publication_dropped' | 'bad_state' | 'wal_budget';

/** A source's refusal to go on until an operator acts: the app stops and exits with 3. */
export class SourceRefusal extends StreamerError {
  constructor(readonly reason: RefusalReason, message: string, options: { component: string; cause?: unknown }) {
    super('REFUSED', message, { ...options, retryable: false });
  }
}

export interface StartCheckInput {
  source: string;
  slot: string;
  /** Where the stream would resume: the saved position, walPositionOverride, or (on a reconnect) the last pushed position; 0 when none. */
  resumeFrom: Lsn;
  /** Whether resumeFrom comes from walPositionOverride (an operator's rewind, not a delivered position). */
  fromOverride: boolean;
  /** The cluster the saved position came from, as the state file recorded it. */
  savedIdentity: ServerIdentity | undefined;
  server: SystemIdentity;
  /** The slot's row; undefined when it does not exist. */
  slotInfo: SlotInfo | undefined;
  /** The operator accepted a gap for this start (`--accept-gap`). */
  acceptGap: boolean;
  /** The config file, for the commands named in refusals (`FILE` when unknown). */
  configFile?: string;
}

export interface Notice {
  level: 'info' | 'warn';
  message: string;
}

export type StartDecision =
  | { kind: 'stream'; createSlot: boolean; start: Lsn; notices: Notice[]; gapAccepted: boolean }
  | { kind: 'refuse'; reason: RefusalReason; message: string; notices: Notice[] };

/** The command that forgets a source's saved position, named in refusals. */
export function resetCommand(source: string, configFile = 'FILE'): string {
  return `psql-streamer reset-position -config ${configFile} --source ${source}`;
}

/** The run command that accepts a gap once, named in refusals. */
export function acceptCommand(configFile = 'FILE'): string {
  return `psql-streamer -config ${configFile} --accept-gap`;
}

const RESYNC = 'rows changed meanwhile may be missing downstream: re-copy the affected tables with a backfill once it runs (psql-streamer snapshot --source NAME --table T; docs/snapshots.md)';

export function checkStart(input: StartCheckInput): StartDecision {
  const { source, slot, resumeFrom, server, slotInfo } = input;
  const notices: Notice[] = [];
  const refuse = (reason: RefusalReason, message: string): StartDecision => ({ kind: 'refuse', reason, message, notices });
  const hasPosition = resumeFrom > 0n;
  const saved = input.savedIdentity;

  if (saved !== undefined && saved.systemId !== server.systemId) {
    return refuse('other_cluster',
      `the saved position of source "${source}" (${formatLsn(resumeFrom)}) belongs to the PostgreSQL cluster with system identifier ${saved.systemId}, ` +
      `but this server is cluster ${server.systemId}: the DSN now points at another cluster, or the cluster was re-created. ` +
      `Nothing was streamed or confirmed. If this is the cluster to stream from, forget the old position with \`${resetCommand(source, input.configFile)}\` and start again; ${RESYNC}`);
  }
  if (saved !== undefined && saved.timeline !== server.timeline) {
    notices.push({ level: 'info', message: `the server's timeline is ${server.timeline}, the saved position was taken on timeline ${saved.timeline} (a failover or a point-in-time recovery happened since)` });
  }

  if (resumeFrom > server.xlogpos) {
    const what = input.fromOverride ? 'walPositionOverride' : 'the saved position';
    return refuse('position_ahead_of_server',
      `${what} of source "${source}" (${formatLsn(resumeFrom)}) is ahead of the server's WAL end (${formatLsn(server.xlogpos)}): ` +
      'the database was restored from a backup or point-in-time recovery, or the state file belongs to another cluster. ' +
      (input.fromOverride
        ? 'Nothing was streamed or confirmed. Correct or remove walPositionOverride.'
        : `Nothing was streamed or confirmed, so the slot is intact. To continue from the slot's own position, run \`${resetCommand(source, input.configFile)}\` and start again; ${RESYNC}`));
  }

  if (slotInfo === undefined) {
    if (!hasPosition) return { kind: 'stream', createSlot: true, start: 0n, notices, gapAccepted: false };
    const gap = `replication slot "${slot}" does not exist, but source "${source}" has ${input.fromOverride ? 'walPositionOverride' : 'a saved position'} ${formatLsn(resumeFrom)}: ` +
      'the slot was dropped (or the DSN points at another database), and a new slot starts at the current WAL, so changes committed between that position and now cannot be streamed';
    if (!input.acceptGap) {
      return refuse('slot_missing', `${gap}. Nothing was created or confirmed. To accept the gap, start once with \`${acceptCommand(input.configFile)}\` (the slot is created again); ${RESYNC}`);
    }
    notices.push({ level: 'warn', message: `${gap}; --accept-gap given: creating the slot again and streaming from its start` });
    return { kind: 'stream', createSlot: true, start: 0n, notices, gapAccepted: true };
  }

  if (slotInfo.invalidation !== null) {
    return refuse('slot_invalidated',
      `replication slot "${slot}" was invalidated by PostgreSQL (${slotInfo.invalidation}${slotInfo.walStatus ? `, wal_status ${slotInfo.walStatus}` : ''}): ` +
      'the WAL it needed was removed (max_slot_wal_keep_size was exceeded) or it conflicted with recovery, and it can never stream again. ' +
      `Drop it (SELECT pg_drop_replication_slot('${slot}')) and start once with \`${acceptCommand(input.configFile)}\` to create it again; ${RESYNC}`);
  }

  const confirmed = slotInfo.confirmedFlush ?? 0n;
  if (!hasPosition) {
    notices.push({ level: 'info', message: `no saved position: streaming from replication slot "${slot}" at its confirmed position ${formatLsn(confirmed)}` });
    return { kind: 'stream', createSlot: false, start: 0n, notices, gapAccepted: false };
  }
  if (confirmed > resumeFrom) {
    const gap = `replication slot "${slot}" has confirmed ${formatLsn(confirmed)}, beyond the position ${formatLsn(resumeFrom)} source "${source}" resumes from: ` +
      'another consumer used the slot, it was advanced by hand, or the state file was restored from an older copy; PostgreSQL streams only from the slot\'s position, ' +
      `so changes committed between ${formatLsn(resumeFrom)} and ${formatLsn(confirmed)} cannot be streamed`;
    if (input.fromOverride) {
      notices.push({ level: 'warn', message: `${gap}; walPositionOverride cannot rewind a slot: streaming from ${formatLsn(confirmed)}` });
      return { kind: 'stream', createSlot: false, start: resumeFrom, notices, gapAccepted: false };
    }
    if (!input.acceptGap) {
      return refuse('slot_ahead', `${gap}. Nothing was streamed or confirmed. To accept the gap, start once with \`${acceptCommand(input.configFile)}\`; ${RESYNC}`);
    }
    notices.push({ level: 'warn', message: `${gap}; --accept-gap given: streaming from ${formatLsn(confirmed)}` });
    return { kind: 'stream', createSlot: false, start: confirmed, notices, gapAccepted: true };
  }
  if (confirmed < resumeFrom) {
    notices.push({
      level: 'info',
      message: `replication slot "${slot}" is ${resumeFrom - confirmed} bytes behind the resume position ${formatLsn(resumeFrom)} ` +
        `(confirmed ${formatLsn(confirmed)}; normal after a crash or with walRetain): transactions that committed before ${formatLsn(resumeFrom)} were delivered and are skipped`,
    });
  }
  return { kind: 'stream', createSlot: false, start: resumeFrom, notices, gapAccepted: false };
}
