/**
 * One PostgreSQL connection of our wire client. It connects through transport.ts (TCP with
 * keepalive or a unix socket, TLS per libpq's sslmode), runs the startup, then the read loop, and
 * hands messages to the state machine in protocol.ts
 * (https://www.postgresql.org/docs/current/protocol-flow.html).
 *
 * The read loop (`drain`) pulls frames straight out of the received chunks (frames.ts). A CopyData of
 * a running copy-both stream goes to the caller as a view into the chunk, with no copy and no other
 * allocation; `pause()` stops both the loop and the socket, so the server's walsender blocks.
 */
import type net from 'node:net';
import { log } from '../core/logger.ts';
import { PgConnectError, type PgNotice } from './errors.ts';
import { FrameDecoder } from './frames.ts';
import { ReadPacing } from './read-pacing.ts';
import { encodeTerminate } from './frontend.ts';
import { Backend } from './messages.ts';
import type { ConnectOptions } from './options.ts';
import { PgProtocol } from './protocol.ts';
import type { CopyBothHandlers, ProtocolIo, QueryResult, RowHandler } from './protocol-types.ts';
import { connectErrorFrom, type Target } from './tls-options.ts';
import { type ConnectState, newConnectState, openTransport, sslPlan, targetOf, type TlsPolicy, withConnectTimeout } from './transport.ts';

export type { ConnectOptions, SslMode } from './options.ts';
export type { QueryResult } from './protocol-types.ts';

/** How long close() waits for the server to close before destroying the socket. */
const CLOSE_GRACE_MS = 1_000;

/** A connection to PostgreSQL; see the module comment. Create one with `PgConnection.connect`. */
export class PgConnection {
  private readonly protocol: PgProtocol;
  private readonly decoder = new FrameDecoder();
  private paused = false;
  private draining = false;
  private closing = false;
  private failure: Error | undefined;
  private readonly closeWaiters: (() => void)[] = [];
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** See setReadCoalescing: the wait after a read while copy-both streams (0: none). */
  private coalesceMs = 0;
  /** Set while reading waits (the socket is paused by us, not by pause()). */
  private coalesceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether data arrives fast enough for the wait to pay (read-pacing.ts). */
  private readonly pacing = new ReadPacing();
  private warningHandler: (message: string) => void;

  private constructor(private readonly socket: net.Socket, private readonly options: ConnectOptions, private readonly target: Target) {
    this.warningHandler = (message) => log.warn(`PostgreSQL ${target.label}: ${message}`);
    const io: ProtocolIo = {
      label: target.label,
      host: target.host,
      port: target.port,
      send: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      fail: (err) => this.fail(err),
      warn: (message) => this.warningHandler(message),
    };
    this.protocol = new PgProtocol(io, options.user, options.password);
    socket.on('data', (chunk: Uint8Array) => {
      this.decoder.push(chunk);
      this.drain();
      if (this.coalesceMs > 0 && this.protocol.copyHandlers !== undefined && this.pacing.read(chunk.length, performance.now())) this.waitBeforeNextRead();
    });
    socket.on('error', (err) => this.fail(connectErrorFrom(err, target)));
    socket.on('close', () => this.ended());
  }

  /**
   * Opens a connection: TCP (keepalive 30 s) or unix socket, TLS per `sslmode`, startup and
   * authentication, all within `connectTimeoutMs`. Rejects with PgConnectError (refused, timeout,
   * TLS, unsupported authentication) or PgError (the server refused, e.g. 28P01 wrong password).
   */
  static connect(options: ConnectOptions): Promise<PgConnection> {
    const target = targetOf(options);
    const state = newConnectState();
    const run = sslPlan(options, state, (policy) => PgConnection.attempt(options, target, state, policy));
    return withConnectTimeout(options, target, state, run, (conn) => void conn.close());
  }

  /** One attempt: transport (socket, optional TLS), then startup; the socket is destroyed on failure. */
  private static async attempt(options: ConnectOptions, target: Target, state: ConnectState, policy: TlsPolicy): Promise<PgConnection> {
    const socket = await openTransport(options, target, state, policy);
    try {
      state.stage = 'authentication';
      const conn = new PgConnection(socket, options, target);
      await conn.startup();
      await conn.checkTargetSession();
      return conn;
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  /** StartupMessage with user, database, replication, application_name, params and client_encoding=UTF8. */
  private startup(): Promise<void> {
    const params: Record<string, string> = { user: this.options.user, database: this.options.database };
    if (this.options.replication) params.replication = this.options.replication;
    if (this.options.applicationName) params.application_name = this.options.applicationName;
    Object.assign(params, this.options.params);
    // Every text value is decoded as UTF-8, so the server must send UTF-8.
    params.client_encoding = 'UTF8';
    return this.protocol.startup(params);
  }

  /** target_session_attrs as libpq checks it, after connecting to the one host. */
  private async checkTargetSession(): Promise<void> {
    const wanted = this.options.targetSessionAttrs ?? 'any';
    if (wanted === 'any' || wanted === 'prefer-standby') return;
    let ok: boolean;
    if (wanted === 'read-write' || wanted === 'read-only') {
      const [result] = await this.simpleQuery('SHOW transaction_read_only');
      ok = (result?.rows[0]?.[0] === 'on') === (wanted === 'read-only');
    } else {
      const hotStandby = this.parameters.get('in_hot_standby'); // reported since PostgreSQL 14
      const inRecovery = hotStandby !== undefined
        ? hotStandby === 'on'
        : (await this.simpleQuery('SELECT pg_is_in_recovery()'))[0]?.rows[0]?.[0] === 't';
      ok = inRecovery === (wanted === 'standby');
    }
    if (!ok) {
      await this.close();
      throw new PgConnectError('unreachable', `connection to ${this.target.label} failed: the server is not ${wanted} (target_session_attrs)`, this.target);
    }
  }

  /** ParameterStatus values reported by the server (server_version, TimeZone, ...). */
  get parameters(): ReadonlyMap<string, string> {
    return this.protocol.parameters;
  }

  /** Server version as a number, e.g. 150018 for 15.18, from server_version. */
  get serverVersionNum(): number {
    return this.protocol.serverVersionNum;
  }

  /** The backend's process id (BackendKeyData), e.g. for pg_terminate_backend. */
  get processId(): number {
    return this.protocol.processId;
  }

  /** `host:port` or `socket /dir/.s.PGSQL.port`. */
  get label(): string {
    return this.target.label;
  }

  /** True once close() was called or the connection ended. */
  get closed(): boolean {
    return this.closing || this.protocol.ended;
  }

  private endedError(): Error {
    return this.failure ?? new PgConnectError('closed', `connection to ${this.target.label} is closed`, this.target);
  }

  /**
   * Runs `sql` with the simple query protocol: one QueryResult per statement; PgError after
   * ReadyForQuery. With `onRow`, each row's DataRow payload (Int16 count, then Int32 length and
   * bytes per column) goes there instead, as a range of a received buffer that stays intact; it
   * must not throw.
   */
  simpleQuery(sql: string, onRow?: RowHandler): Promise<QueryResult[]> {
    if (this.closed) return Promise.reject(this.endedError());
    return this.protocol.simpleQuery(sql, onRow);
  }

  /** Two simple queries sent together, the second without waiting for the first (PgProtocol.simpleQueries). */
  simpleQueries(first: string, second: string, onRow?: RowHandler): [Promise<QueryResult[]>, Promise<QueryResult[]>] {
    if (this.closed) return [Promise.reject(this.endedError()), Promise.reject(this.endedError())];
    return this.protocol.simpleQueries(first, second, onRow);
  }

  /**
   * Sends `sql` (START_REPLICATION ...) and resolves once CopyBothResponse arrives. Every later
   * CopyData payload goes to onData as a range of a buffer, valid only during the call; onEnd is called once when
   * copy mode or the connection ends.
   */
  startCopyBoth(sql: string, handlers: CopyBothHandlers): Promise<void> {
    if (this.closed) return Promise.reject(this.endedError());
    return this.protocol.startCopyBoth(sql, handlers);
  }

  /** Sends a frontend CopyData ('d'), e.g. a StandbyStatusUpdate, during copy-both mode. */
  sendCopyData(payload: Uint8Array): void {
    this.protocol.sendCopyData(payload);
  }

  /** Ends copy-both mode from our side (CopyDone); onEnd(undefined) follows once the server has finished. */
  endCopy(): void {
    this.protocol.endCopy();
  }

  /**
   * While a copy-both stream runs, wait `ms` after each socket read before reading again (0: read
   * as soon as data arrives). A walsender sends each message as it is decoded, so a consumer that
   * keeps up reads a message or two per wake-up: a system call, a TLS record and a callback per
   * ≈ 1.5 KB. Waiting lets one read take what arrived meanwhile (tens of KB at high rates), which
   * cut the source's CPU per event by about a quarter (docs/benchmarks.md); a message arriving after a
   * quiet spell is still read at once, and none waits longer than `ms`. It waits only while data
   * arrives faster than read-pacing.ts's threshold: at a few thousand transactions a second the
   * wait saves nothing and costs CPU and latency.
   */
  setReadCoalescing(ms: number): void {
    this.coalesceMs = ms;
  }

  private waitBeforeNextRead(): void {
    // Chunks the stream already holds come next, at once: waiting is for data still to arrive.
    if (this.coalesceTimer !== undefined || this.paused || this.closing || this.socket.readableLength > 0) return;
    this.socket.pause();
    this.coalesceTimer = setTimeout(() => {
      this.coalesceTimer = undefined;
      if (!this.paused && !this.closing) this.socket.resume();
    }, this.coalesceMs);
  }

  private stopWaitingToRead(): void {
    clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
  }

  /** Stops reading: no more onData until resume(), and the server's sender blocks once the buffers fill. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  /** Restarts reading: messages already received are delivered first, then the socket is read again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // Buffered messages are delivered from a microtask, so resume() never re-enters onData.
    if (this.decoder.buffered > 0) queueMicrotask(() => this.drain());
    // A coalescing wait in progress resumes the socket itself when it ends.
    if (!this.closing && this.coalesceTimer === undefined) this.socket.resume();
  }

  /** Receives every NoticeResponse (default: ignored). A notice never ends anything. */
  onNotice(handler: (notice: PgNotice) => void): void {
    this.protocol.noticeHandler = handler;
  }

  /** Receives a description of each unexpected message, which is then skipped (default: a warning log line). */
  onProtocolWarning(handler: (message: string) => void): void {
    this.warningHandler = handler;
  }

  /** Sends Terminate and closes the socket; resolves once it is closed. Idempotent. */
  close(): Promise<void> {
    if (this.protocol.ended) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (!this.closing) {
      this.closing = true;
      this.stopWaitingToRead();
      // Reading again lets the server's FIN arrive: a paused socket might never report 'close'.
      this.socket.resume();
      if (!this.socket.destroyed) this.socket.end(encodeTerminate());
      this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    }
    return done;
  }

  /** The read loop: frames straight from the received chunks; stops while paused or closing. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    const decoder = this.decoder;
    const protocol = this.protocol;
    try {
      // A failure (a handler tore the connection down) stops the loop: nothing after it is trusted.
      while (!this.paused && !this.closing && this.failure === undefined && decoder.next()) {
        const handlers = protocol.copyHandlers;
        const type = decoder.type;
        if (type === Backend.CopyData && handlers !== undefined) {
          handlers.onData(decoder.chunk, decoder.payloadStart, decoder.payloadEnd);
          continue;
        }
        // A query's rows handed over as ranges (a snapshot chunk's): no view per row.
        const onRow = type === Backend.DataRow ? protocol.rowHandler() : undefined;
        if (onRow !== undefined) onRow(decoder.chunk, decoder.payloadStart, decoder.payloadEnd);
        else protocol.handle(type, decoder.payload);
      }
    } catch (err) {
      // A ProtocolError from the stream, or an exception from onData: the connection cannot go on.
      this.fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.draining = false;
    }
  }

  /** Records the first error and tears the connection down. */
  private fail(err: Error): void {
    this.failure ??= err;
    this.socket.destroy();
    this.ended();
  }

  /** The socket is closed: settle the protocol state, then close() callers. */
  private ended(): void {
    clearTimeout(this.closeTimer);
    this.stopWaitingToRead();
    this.protocol.transportEnded(this.failure, this.closing);
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }
}
