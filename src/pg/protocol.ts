/**
 * The message-level state machine of one connection, without the socket
 * (https://www.postgresql.org/docs/current/protocol-flow.html): startup and authentication, simple
 * queries (queued, one at a time, or two sent together: simpleQueries), copy-both mode, and the
 * messages that may arrive at any time.
 * connection.ts feeds it backend messages (`handle`) and gives it a way to send (`ProtocolIo`);
 * tests can drive it with hand-built messages.
 *
 * Every backend message is dispatched through one table (`HANDLERS`, built once) to a handler named
 * after the message: a method here, or for the messages that only record what the server reports
 * (NoticeResponse, ParameterStatus, NotificationResponse, ...) a function of async-messages.ts.
 * An unexpected message is reported to `warn` and skipped. The types around it: protocol-types.ts.
 */
import { AuthError } from './auth.ts';
import { PgConnectError, PgError, type PgNotice, ProtocolError } from './errors.ts';
import { encodeCopyData, encodeCopyDone, encodeCopyFail, encodeQuery, encodeStartup } from './frontend.ts';
import { Backend, decodeAuthentication, decodeCommandComplete, decodeDataRow, decodeErrorFields, decodeReadyForQuery, decodeRowDescription } from './messages.ts';
import { BackendKeyData, NegotiateProtocolVersion, NoticeResponse, NotificationResponse, ParameterStatus } from './async-messages.ts';
import type { CopyBothHandlers, CopyRequest, ProtocolIo, QueryRequest, QueryResult, RowHandler } from './protocol-types.ts';
import { Authenticator } from './startup.ts';

type Phase = 'startup' | 'ready' | 'query' | 'copy-start' | 'copy' | 'copy-end' | 'closed';

type Handler = (this: PgProtocol, payload: Uint8Array) => void;

/** Backend type byte → handler; filled once by PgProtocol's static block (its private methods, and async-messages.ts). */
const HANDLERS: (Handler | undefined)[] = new Array(256).fill(undefined);

/** Connection state after the socket (and TLS) is up; see the module comment. */
export class PgProtocol {
  /** ParameterStatus values reported by the server (server_version, TimeZone, ...). */
  readonly parameters = new Map<string, string>();
  serverVersionNum = 0;
  processId = 0;
  /** Transaction status of the last ReadyForQuery: 'I' idle, 'T' in transaction, 'E' failed. */
  transactionStatus: 'I' | 'T' | 'E' = 'I';
  /** Receivers of the running copy-both stream; the transport hands CopyData straight to them. */
  copyHandlers: CopyBothHandlers | undefined;
  noticeHandler: (notice: PgNotice) => void = () => {};

  private phase: Phase = 'startup';
  private readonly waiting: (QueryRequest | CopyRequest)[] = [];
  private active: QueryRequest | CopyRequest | undefined;
  private startupWaiter: { resolve(): void; reject(err: Error): void } | undefined;
  private readonly authenticator: Authenticator;
  /** A FATAL the server sent outside any request, reported when the connection ends. */
  private lastFatal: PgError | undefined;

  /** @param io the transport; public for the handlers of async-messages.ts, which warn through it. */
  constructor(readonly io: ProtocolIo, user: string, password: string | undefined) {
    this.authenticator = new Authenticator(user, password);
  }

  /** True once the transport ended. */
  get ended(): boolean {
    return this.phase === 'closed';
  }

  /** Sends the StartupMessage; resolves at the first ReadyForQuery, after authentication. */
  startup(params: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.startupWaiter = { resolve, reject };
      this.io.send(encodeStartup(params));
    });
  }

  /**
   * Queues a simple query: one QueryResult per statement; PgError after ReadyForQuery. With
   * `onRow`, rows are handed over as their DataRow payloads instead (the results have none).
   */
  simpleQuery(sql: string, onRow?: RowHandler): Promise<QueryResult[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ kind: 'query', sql, onRow, resolve, reject, results: [], current: undefined, error: undefined });
      this.pump();
    });
  }

  /**
   * Two simple queries whose Query messages go out together: the server starts on the second as
   * soon as the first is done, without waiting a round trip for us to send it (a snapshot chunk's
   * transaction and its cursor, chunk-reader.ts). Each settles as simpleQuery's; the server runs the
   * second whatever became of the first (after an error there it fails too, e.g. in an aborted
   * transaction). `onRow` is the second's. A NUL in either text rejects both, with nothing sent.
   */
  simpleQueries(first: string, second: string, onRow?: RowHandler): [Promise<QueryResult[]>, Promise<QueryResult[]>] {
    let bytes: [Uint8Array, Uint8Array];
    try {
      bytes = [encodeQuery(first), encodeQuery(second)];
    } catch (err) {
      return [Promise.reject(err as Error), Promise.reject(err as Error)];
    }
    let following!: QueryRequest;
    const later = new Promise<QueryResult[]>((resolve, reject) => {
      following = { kind: 'query', sql: second, onRow, resolve, reject, results: [], current: undefined, error: undefined, bytes: bytes[1] };
    });
    const sooner = new Promise<QueryResult[]>((resolve, reject) => {
      this.waiting.push({ kind: 'query', sql: first, resolve, reject, results: [], current: undefined, error: undefined, bytes: bytes[0], follower: following });
      this.waiting.push(following);
      this.pump();
    });
    return [sooner, later];
  }

  /** Queues `sql` (START_REPLICATION ...); resolves once CopyBothResponse arrives. */
  startCopyBoth(sql: string, handlers: CopyBothHandlers): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ kind: 'copy', sql, handlers, resolve, reject, error: undefined, sentCopyDone: false });
      this.pump();
    });
  }

  /** Frontend CopyData during copy-both mode. */
  sendCopyData(payload: Uint8Array): void {
    const copy = this.active;
    if (this.phase !== 'copy' || copy?.kind !== 'copy' || copy.sentCopyDone) throw new Error('sendCopyData: not in copy-both mode');
    this.io.send(encodeCopyData(payload));
  }

  /** Ends copy-both mode from our side (CopyDone); onEnd follows once the server has finished. */
  endCopy(): void {
    const copy = this.active;
    if (this.phase !== 'copy' || copy?.kind !== 'copy' || copy.sentCopyDone) return;
    copy.sentCopyDone = true;
    this.io.send(encodeCopyDone());
  }

  /** Handles one backend message (CopyData of a running stream may bypass this for speed). */
  handle(type: number, payload: Uint8Array): void {
    const handler = HANDLERS[type];
    if (handler === undefined) this.unexpected(type, payload);
    else handler.call(this, payload);
  }

  /**
   * The transport ended: settles everything still waiting, exactly once. `failure` is why; with none,
   * the end is clean if we closed the connection and "closed by the server" otherwise. A running
   * stream gets the reason in onEnd; requests still waiting are rejected.
   */
  transportEnded(failure: Error | undefined, closedByUs: boolean): void {
    if (this.phase === 'closed') return;
    const startup = this.phase === 'startup';
    this.phase = 'closed';
    const why = failure ?? this.lastFatal ?? (closedByUs
      ? undefined
      : new PgConnectError('closed', `connection to ${this.io.label} closed by the server${startup ? ' during startup' : ''}`, this.io));
    const lost = why ?? new PgConnectError('closed', `connection to ${this.io.label} is closed`, this.io);
    this.startupWaiter?.reject(lost);
    this.startupWaiter = undefined;
    const active = this.active;
    this.active = undefined;
    if (active !== undefined && this.copyHandlers !== undefined) this.endCopyStream(active.error ?? why);
    else if (active !== undefined) active.reject(active.error ?? lost);
    for (const request of this.waiting.splice(0)) request.reject(lost);
  }

  /** Sends the next queued request when the connection is idle. */
  private pump(): void {
    if (this.phase !== 'ready' || this.active !== undefined) return;
    const next = this.waiting.shift();
    if (next === undefined) return;
    if (next.kind === 'query' && next.sent === true) {
      // Sent with the request before it (simpleQueries): its answers come next.
      this.active = next;
      this.phase = 'query';
      return;
    }
    let query: Uint8Array;
    try {
      query = next.kind === 'query' && next.bytes !== undefined ? next.bytes : encodeQuery(next.sql);
    } catch (err) {
      // A NUL in the text: nothing was sent, the connection stays usable.
      next.reject(err as Error);
      return this.pump();
    }
    this.active = next;
    this.phase = next.kind === 'query' ? 'query' : 'copy-start';
    const follower = next.kind === 'query' ? next.follower : undefined;
    if (follower !== undefined) {
      follower.sent = true;
      const both = new Uint8Array(query.length + follower.bytes!.length);
      both.set(query);
      both.set(follower.bytes!, query.length);
      query = both;
    }
    this.io.send(query);
  }

  private unexpected(type: number, payload: Uint8Array): void {
    this.io.warn(`unexpected message '${String.fromCharCode(type)}' (${payload.length} bytes) while ${this.phase}; skipped`);
  }

  /** Calls onEnd once and stops delivering CopyData. */
  private endCopyStream(err: Error | undefined): void {
    const handlers = this.copyHandlers;
    this.copyHandlers = undefined;
    if (handlers === undefined) return;
    try {
      handlers.onEnd(err);
    } catch (callbackErr) {
      this.io.warn(`onEnd threw: ${(callbackErr as Error).message}`);
    }
  }

  // --- Message handlers, named as in protocol-message-formats.html -----------------------------

  private Authentication(payload: Uint8Array): void {
    if (this.phase !== 'startup') return this.unexpected(Backend.Authentication, payload);
    const failed = (err: Error) => this.io.fail(err instanceof AuthError
      ? new PgConnectError('auth', `connection to ${this.io.label} failed: ${err.message}`, this.io, err)
      : err);
    let reply: Uint8Array | Promise<Uint8Array> | undefined;
    try {
      reply = this.authenticator.respond(decodeAuthentication(payload));
    } catch (err) {
      // At once, so nothing after this message (AuthenticationOk, ReadyForQuery) is handled.
      return failed(err as Error);
    }
    if (reply instanceof Promise) {
      reply.then((bytes) => this.phase === 'startup' && this.io.send(bytes), failed);
    } else if (reply !== undefined) {
      this.io.send(reply);
    }
  }

  private ReadyForQuery(payload: Uint8Array): void {
    this.transactionStatus = decodeReadyForQuery(payload);
    const active = this.active;
    switch (this.phase) {
      case 'startup':
        this.phase = 'ready';
        this.startupWaiter?.resolve();
        this.startupWaiter = undefined;
        return;
      case 'query':
        if (active?.kind === 'query') {
          if (active.error) active.reject(active.error);
          else active.resolve(active.results);
        }
        break;
      case 'copy-start':
        // An error (or an ordinary result) instead of CopyBothResponse: copy mode never started.
        active?.reject(active.error ?? new ProtocolError('the server did not enter copy-both mode'));
        break;
      case 'copy-end':
        this.endCopyStream(active?.error);
        break;
      default:
        return this.unexpected(Backend.ReadyForQuery, payload);
    }
    this.phase = 'ready';
    this.active = undefined;
    this.pump();
  }

  private ErrorResponse(payload: Uint8Array): void {
    const fields = decodeErrorFields(payload);
    const active = this.active;
    switch (this.phase) {
      case 'startup':
        // Startup errors are FATAL and end the connection; name the server, as libpq does.
        return this.io.fail(new PgError(fields, `connection to ${this.io.label} failed`));
      case 'query':
      case 'copy-start':
        if (active) active.error ??= new PgError(fields);
        return;
      case 'copy':
      case 'copy-end':
        // The stream is over; onEnd gets the error at ReadyForQuery, or when a FATAL closes the socket.
        if (active) active.error ??= new PgError(fields);
        this.phase = 'copy-end';
        return;
      default:
        // Outside any request: a FATAL before the server closes (shutdown, pg_terminate_backend).
        this.lastFatal ??= new PgError(fields);
    }
  }

  private RowDescription(payload: Uint8Array): void {
    const active = this.active;
    if (this.phase !== 'query' || active?.kind !== 'query') return this.unexpected(Backend.RowDescription, payload);
    const fields = decodeRowDescription(payload);
    active.current = { command: '', fields: fields.map((f) => f.name), typeOids: fields.map((f) => f.typeOid), rows: [] };
  }

  private DataRow(payload: Uint8Array): void {
    const active = this.active;
    if (this.phase !== 'query' || active?.kind !== 'query' || active.current === undefined) return this.unexpected(Backend.DataRow, payload);
    if (active.onRow !== undefined) active.onRow(payload, 0, payload.length);
    else active.current.rows.push(decodeDataRow(payload));
  }

  /**
   * Where a DataRow goes right now without a view of its payload (the read loop's fast path), or
   * undefined when it must go through handle() (no query with onRow in progress: handle() checks).
   */
  rowHandler(): RowHandler | undefined {
    const active = this.active;
    return this.phase === 'query' && active?.kind === 'query' && active.current !== undefined ? active.onRow : undefined;
  }

  private CommandComplete(payload: Uint8Array): void {
    const active = this.active;
    const command = decodeCommandComplete(payload);
    // After copy-both ends (a timeline switch) the server may send a result set: not a query's.
    if (this.phase === 'copy-end') return;
    // A walsender shutting down (fast shutdown, restart) ends the command without CopyDone.
    if (this.phase === 'copy') {
      this.phase = 'copy-end';
      return;
    }
    if (this.phase !== 'query' || active?.kind !== 'query') return this.unexpected(Backend.CommandComplete, payload);
    const result = active.current ?? { command: '', fields: [], typeOids: [], rows: [] };
    result.command = command;
    active.results.push(result);
    active.current = undefined;
  }

  private EmptyQueryResponse(): void {
    // An empty query string: no statement, so no result.
  }

  private CopyBothResponse(payload: Uint8Array): void {
    const active = this.active;
    if (this.phase === 'copy-start' && active?.kind === 'copy') {
      this.phase = 'copy';
      this.copyHandlers = active.handlers;
      active.resolve();
      return;
    }
    // Copy-both outside startCopyBoth (START_REPLICATION sent as simpleQuery) cannot be served.
    this.io.fail(new ProtocolError(`CopyBothResponse (${payload.length} bytes) outside startCopyBoth`));
  }

  private CopyInResponse(payload: Uint8Array): void {
    if (this.phase !== 'query') return this.unexpected(Backend.CopyInResponse, payload);
    // COPY FROM STDIN: refused; the server answers with ErrorResponse and ReadyForQuery.
    this.io.send(encodeCopyFail('COPY FROM STDIN is not supported by this client'));
  }

  private CopyOutResponse(payload: Uint8Array): void {
    // COPY TO STDOUT in a simple query: its CopyData are dropped; CommandComplete reports the count.
    if (this.phase !== 'query') this.unexpected(Backend.CopyOutResponse, payload);
  }

  private CopyData(payload: Uint8Array): void {
    if (this.copyHandlers !== undefined) this.copyHandlers.onData(payload, 0, payload.length);
    else if (this.phase !== 'query') this.unexpected(Backend.CopyData, payload);
  }

  private CopyDone(payload: Uint8Array): void {
    const active = this.active;
    if (this.phase === 'query') return;
    if ((this.phase === 'copy' || this.phase === 'copy-end') && active?.kind === 'copy') {
      // The server ended the stream; CopyDone back unless we sent ours already.
      if (!active.sentCopyDone) {
        active.sentCopyDone = true;
        this.io.send(encodeCopyDone());
      }
      this.phase = 'copy-end';
      return;
    }
    this.unexpected(Backend.CopyDone, payload);
  }

  static {
    const table: Record<number, Handler> = {
      [Backend.Authentication]: PgProtocol.prototype.Authentication,
      [Backend.ParameterStatus]: ParameterStatus,
      [Backend.BackendKeyData]: BackendKeyData,
      [Backend.ReadyForQuery]: PgProtocol.prototype.ReadyForQuery,
      [Backend.ErrorResponse]: PgProtocol.prototype.ErrorResponse,
      [Backend.NoticeResponse]: NoticeResponse,
      [Backend.NotificationResponse]: NotificationResponse,
      [Backend.NegotiateProtocolVersion]: NegotiateProtocolVersion,
      [Backend.RowDescription]: PgProtocol.prototype.RowDescription,
      [Backend.DataRow]: PgProtocol.prototype.DataRow,
      [Backend.CommandComplete]: PgProtocol.prototype.CommandComplete,
      [Backend.EmptyQueryResponse]: PgProtocol.prototype.EmptyQueryResponse,
      [Backend.CopyBothResponse]: PgProtocol.prototype.CopyBothResponse,
      [Backend.CopyInResponse]: PgProtocol.prototype.CopyInResponse,
      [Backend.CopyOutResponse]: PgProtocol.prototype.CopyOutResponse,
      [Backend.CopyData]: PgProtocol.prototype.CopyData,
      [Backend.CopyDone]: PgProtocol.prototype.CopyDone,
    };
    for (const [type, handler] of Object.entries(table)) HANDLERS[Number(type)] = handler;
  }
}
