/**
 * decodePgoutput: one pgoutput message (the data of one XLogData) → a typed PgoutputMessage.
 * Pure: no I/O, no state between calls; the caller tracks Stream Start/Stop (`inStream`) and
 * the negotiated protocol version. Throws only PgoutputDecodeError.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import { Cursor } from './cursor.ts';
import { decodeDelete, decodeInsert, decodeRelation, decodeTruncate, decodeType, decodeUpdate } from './decode-changes.ts';
import { decodeStreamAbort, decodeStreamCommit, decodeStreamStart, decodeStreamStop } from './decode-streaming.ts';
import { decodeBegin, decodeCommit, decodeMessage, decodeOrigin } from './decode-transaction.ts';
import {
  decodeBeginPrepare,
  decodeCommitPrepared,
  decodePrepare,
  decodeRollbackPrepared,
  decodeStreamPrepare,
} from './decode-two-phase.ts';
import { PgoutputDecodeError } from './errors.ts';
import type { PgoutputMessage } from './messages.ts';

/** How the stream was started and where in it this message is. */
export interface DecodeOptions {
  /** The `proto_version` given to START_REPLICATION (1-4). */
  protoVersion: number;
  /** True between Stream Start and Stream Stop: data messages then begin with the xid. */
  inStream?: boolean;
}

type MessageDecoder = (c: Cursor, streamed: boolean, protoVersion: number) => PgoutputMessage;

interface MessageKind {
  /** The name in the PostgreSQL documentation. */
  name: string;
  /** First protocol version that has this message. */
  since: number;
  decode: MessageDecoder;
}

const MESSAGE_KINDS: Readonly<Record<string, MessageKind>> = {
  B: { name: 'Begin', since: 1, decode: decodeBegin },
  C: { name: 'Commit', since: 1, decode: decodeCommit },
  O: { name: 'Origin', since: 1, decode: decodeOrigin },
  R: { name: 'Relation', since: 1, decode: decodeRelation },
  Y: { name: 'Type', since: 1, decode: decodeType },
  I: { name: 'Insert', since: 1, decode: decodeInsert },
  U: { name: 'Update', since: 1, decode: decodeUpdate },
  D: { name: 'Delete', since: 1, decode: decodeDelete },
  T: { name: 'Truncate', since: 1, decode: decodeTruncate },
  M: { name: 'Message', since: 1, decode: decodeMessage },
  S: { name: 'Stream Start', since: 2, decode: decodeStreamStart },
  E: { name: 'Stream Stop', since: 2, decode: decodeStreamStop },
  c: { name: 'Stream Commit', since: 2, decode: decodeStreamCommit },
  A: { name: 'Stream Abort', since: 2, decode: decodeStreamAbort },
  b: { name: 'Begin Prepare', since: 3, decode: decodeBeginPrepare },
  P: { name: 'Prepare', since: 3, decode: decodePrepare },
  K: { name: 'Commit Prepared', since: 3, decode: decodeCommitPrepared },
  r: { name: 'Rollback Prepared', since: 3, decode: decodeRollbackPrepared },
  p: { name: 'Stream Prepare', since: 3, decode: decodeStreamPrepare },
};

// Indexed by the type byte; built once at load (never per message).
const BY_TYPE_BYTE: readonly (MessageKind | undefined)[] = (() => {
  const table = new Array<MessageKind | undefined>(256).fill(undefined);
  for (const [letter, kind] of Object.entries(MESSAGE_KINDS)) table[letter.charCodeAt(0)] = kind;
  return table;
})();

/** The documentation name of a message type ("Truncate" for 'T'), or undefined when unknown. */
export function pgoutputMessageName(type: string): string | undefined {
  return MESSAGE_KINDS[type]?.name;
}

/**
 * Decodes one pgoutput message. `data` may be a view into a buffer that is reused afterwards:
 * the result holds no reference to it (strings are decoded, bytes copied).
 * An unknown type byte, or one the negotiated protocol version does not have, throws
 * PgoutputDecodeError with `unknownType: true`, which a source should log and skip.
 */
export function decodePgoutput(data: Uint8Array, options: DecodeOptions): PgoutputMessage {
  if (data.length === 0) throw new PgoutputDecodeError('empty pgoutput message', { offset: 0, messageType: '' });
  const type = data[0] as number;
  const typeChar = String.fromCharCode(type);
  const kind = BY_TYPE_BYTE[type];
  const { protoVersion } = options;
  if (kind === undefined || protoVersion < kind.since) {
    const what = kind === undefined
      ? `unknown pgoutput message type 0x${type.toString(16).padStart(2, '0')} (${JSON.stringify(typeChar)})`
      : `pgoutput ${kind.name} message ('${typeChar}') needs protocol version ${kind.since}, the stream uses ${protoVersion}`;
    throw new PgoutputDecodeError(what, { offset: 0, messageType: typeChar, unknownType: true });
  }
  const streamed = options.inStream === true && protoVersion >= 2;
  return kind.decode(new Cursor(data, typeChar, 1), streamed, protoVersion);
}
