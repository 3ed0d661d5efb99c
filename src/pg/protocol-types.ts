/**
 * The contracts around a connection's state machine (protocol.ts): what it needs of the transport,
 * what callers get back (a simple query's results, or its rows as DataRow ranges; a copy-both
 * stream's receivers), and the queued request records it works through. Types only.
 */

/** The result of one statement of a simple query, values in text format. */
export interface QueryResult {
  /** Command tag, e.g. `SELECT 2`, `INSERT 0 1`, `IDENTIFY_SYSTEM`. */
  command: string;
  fields: string[];
  /** Type OID of each field. */
  typeOids: number[];
  rows: (string | null)[][];
}

/** Receivers of a copy-both stream. */
export interface CopyBothHandlers {
  /**
   * A CopyData payload: bytes[start, end) of a socket buffer, valid only during the call (a range,
   * not a view: the replication hot path reads it in place without making an object per message).
   */
  onData(bytes: Uint8Array, start: number, end: number): void;
  /** Called once: PgError (ErrorResponse), a socket or protocol error, or undefined on a clean end. */
  onEnd(err: Error | undefined): void;
}

/** What the state machine needs from the transport. */
export interface ProtocolIo {
  /** `127.0.0.1:5432` or `socket /path/.s.PGSQL.5432`, for messages. */
  readonly label: string;
  readonly host: string;
  readonly port: number;
  send(bytes: Uint8Array): void;
  /** Tears the transport down because of `err`; the transport then calls `ended`. */
  fail(err: Error): void;
  warn(message: string): void;
}

/**
 * Receives a DataRow payload as data[start, end) (Int16 count, then Int32 length and bytes per
 * column): a range of a received buffer, which FrameDecoder never writes again (pg/frames.ts), so
 * the handler may keep it without copying.
 */
export type RowHandler = (data: Uint8Array, start: number, end: number) => void;

export interface QueryRequest {
  kind: 'query';
  sql: string;
  /** When set, each DataRow's payload goes here (as a range of a buffer) instead of into the results. */
  onRow?: RowHandler;
  resolve(results: QueryResult[]): void;
  reject(err: Error): void;
  results: QueryResult[];
  current: QueryResult | undefined;
  error: Error | undefined;
  /** Its Query message, when encoded ahead (simpleQueries). */
  bytes?: Uint8Array;
  /** A request whose Query message goes out together with this one's (simpleQueries). */
  follower?: QueryRequest;
  /** Its Query message went out already, with the request before it: pump() only makes it active. */
  sent?: boolean;
}

export interface CopyRequest {
  kind: 'copy';
  sql: string;
  handlers: CopyBothHandlers;
  resolve(): void;
  reject(err: Error): void;
  error: Error | undefined;
  sentCopyDone: boolean;
}
