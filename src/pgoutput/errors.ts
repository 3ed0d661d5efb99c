/**
 * Errors of the pgoutput layer. Decoding errors carry where they happened, so a log line can point
 * at the byte; the source logs and skips an unknown message type instead of reconnecting (the
 * original's TRUNCATE loop).
 */

/** Options of a PgoutputDecodeError. */
export interface PgoutputDecodeErrorOptions {
  /** Byte offset in the message where decoding failed. */
  offset: number;
  /** The message type byte as a character ('' for an empty message). */
  messageType: string;
  /** True when the type byte is unknown (or not valid in the negotiated protocol version). */
  unknownType?: boolean;
}

/** A pgoutput message that is truncated, malformed, or of an unknown type. */
export class PgoutputDecodeError extends Error {
  readonly offset: number;
  readonly messageType: string;
  readonly unknownType: boolean;

  constructor(message: string, options: PgoutputDecodeErrorOptions) {
    super(message);
    this.name = 'PgoutputDecodeError';
    this.offset = options.offset;
    this.messageType = options.messageType;
    this.unknownType = options.unknownType ?? false;
  }
}

/** A change refers to a relation OID for which no Relation message has been seen. */
export class UnknownRelationError extends Error {
  constructor(readonly relationId: number) {
    super(`relation ${relationId} is unknown: no Relation message was received for it`);
    this.name = 'UnknownRelationError';
  }
}

/** A tuple does not fit its cached Relation (column count differs): the schema is out of date. */
export class TupleMismatchError extends Error {
  constructor(
    readonly relationId: number,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`relation ${relationId} has ${expected} columns but a tuple has ${actual}`);
    this.name = 'TupleMismatchError';
  }
}
