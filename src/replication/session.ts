/**
 * One replication session: connect, run the setup steps in order, START_REPLICATION, then hand
 * every CopyData payload to the caller. Each setup step is its own function; a failure names its
 * step and says what to do about it. The session knows nothing about events or positions policy:
 * `PostgresSource` drives it.
 */
import type { Logger } from '../core/logger.ts';
import { PgConnection, type ConnectOptions } from '../pg/connection.ts';
import { PgError } from '../pg/errors.ts';
import {
  SHOW_WAL_LEVEL,
  createSlotCommand,
  existingPublicationsSql,
  parseSlotInfo,
  protoVersionFor,
  slotInfoSql,
  startReplicationCommand,
  supportsMessages,
} from './commands.ts';
import { encodeStandbyStatusUpdate, pgTimeMicrosNow } from './copy-both.ts';
import { parseLsn, type Lsn } from './lsn.ts';

/** The step of the session setup that failed; shown in logs and `/status`. */
export type SetupStep = 'connect' | 'check wal_level' | 'check publication' | 'check slot' | 'create slot' | 'start replication';

/** A setup failure with the step, what happened and what the operator can do. Always retried by the source. */
export class SessionSetupError extends Error {
  constructor(readonly step: SetupStep, message: string, options: { cause?: unknown } = {}) {
    super(`${step}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SessionSetupError';
  }
}

export interface SessionOptions {
  connection: ConnectOptions;
  slot: string;
  /** Publication names as configured; each is matched exactly, then lower-cased as the server would. */
  publications: readonly string[];
  log: Logger;
  /** Wait after each read of the stream before reading again (PgConnection.setReadCoalescing); 0: none. */
  readCoalesceMs?: number;
  /**
   * Called when the slot is about to be created: PostgreSQL then waits for every transaction running
   * now to finish, which can take as long as the longest one (an idle-in-transaction session).
   */
  onCreatingSlot?: () => void;
}

export interface StreamHandlers {
  /** A CopyData payload (`w` XLogData or `k` keepalive): bytes[start, end), valid only during the call. */
  onCopyData(bytes: Uint8Array, start: number, end: number): void;
  /** The stream ended: `undefined` on a clean end, otherwise why. Called once. */
  onEnd(err: Error | undefined): void;
}

/** What the setup learnt, for logs and the start command. */
export interface SessionInfo {
  serverVersionNum: number;
  protoVersion: number;
  messages: boolean;
  publications: string[];
  slotCreated: boolean;
  /** The slot's confirmed_flush_lsn before we start (0 for a new slot). */
  slotConfirmedFlush: Lsn;
}

async function connect(options: ConnectOptions): Promise<PgConnection> {
  try {
    return await PgConnection.connect(options);
  } catch (err) {
    if (err instanceof PgError && err.code === '42501') {
      throw new SessionSetupError('connect', `${err.message}: grant it with ALTER ROLE ${options.user} REPLICATION`, { cause: err });
    }
    throw new SessionSetupError('connect', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

async function checkWalLevel(conn: PgConnection): Promise<void> {
  const [result] = await conn.simpleQuery(SHOW_WAL_LEVEL);
  const level = result?.rows[0]?.[0];
  if (level !== 'logical') {
    throw new SessionSetupError('check wal_level', `wal_level is "${level}", logical replication needs "logical": set wal_level = logical in postgresql.conf and restart PostgreSQL`);
  }
}

/** Resolves each configured publication to the name that exists (exact, else lower-cased like an unquoted identifier). */
async function checkPublications(conn: PgConnection, wanted: readonly string[]): Promise<string[]> {
  const candidates = [...new Set(wanted.flatMap((name) => [name, name.toLowerCase()]))];
  const [result] = await conn.simpleQuery(existingPublicationsSql(candidates));
  const existing = new Set(result?.rows.map((row) => row[0]));
  const missing: string[] = [];
  const resolved = wanted.map((name) => {
    if (existing.has(name)) return name;
    if (existing.has(name.toLowerCase())) return name.toLowerCase();
    missing.push(name);
    return name;
  });
  if (missing.length > 0) {
    const list = missing.map((m) => `"${m}"`).join(', ');
    throw new SessionSetupError('check publication', `publication ${list} does not exist in this database: create it, e.g. CREATE PUBLICATION ${missing[0]} FOR ALL TABLES`);
  }
  return resolved;
}

/** Makes sure a usable pgoutput slot exists; creates it only when missing (no ERROR noise in the server log). */
async function ensureSlot(conn: PgConnection, slot: string, database: string, onCreating?: () => void): Promise<{ created: boolean; confirmedFlush: Lsn }> {
  const [result] = await conn.simpleQuery(slotInfoSql(slot));
  const info = parseSlotInfo(result?.rows ?? [], parseLsn);
  if (!info) {
    onCreating?.();
    try {
      await conn.simpleQuery(createSlotCommand(slot));
    } catch (err) {
      const hint = err instanceof PgError && err.code === '55000' ? ' (is wal_level logical and max_replication_slots large enough?)' : '';
      throw new SessionSetupError('create slot', `cannot create replication slot "${slot}": ${err instanceof Error ? err.message : String(err)}${hint}`, { cause: err });
    }
    return { created: true, confirmedFlush: 0n };
  }
  if (info.slotType !== 'logical' || info.plugin !== 'pgoutput') {
    throw new SessionSetupError('check slot', `replication slot "${slot}" exists but is a ${info.slotType} slot with plugin ${info.plugin ?? 'none'}, not a logical pgoutput slot: choose another replicationSlot, or drop it if it is unused`);
  }
  if (info.database !== null && info.database !== database) {
    throw new SessionSetupError('check slot', `replication slot "${slot}" belongs to database "${info.database}", not "${database}": choose another replicationSlot`);
  }
  if (info.activePid !== null) {
    throw new SessionSetupError('check slot', `replication slot "${slot}" is in use by another process (PID ${info.activePid}); standing by until it is free`);
  }
  return { created: false, confirmedFlush: info.confirmedFlush ?? 0n };
}

export class ReplicationSession {
  private constructor(
    private readonly conn: PgConnection,
    readonly info: SessionInfo,
    private readonly options: SessionOptions,
  ) {}

  /** Connects and runs the setup steps; the connection is closed again when a step fails. */
  static async open(options: SessionOptions): Promise<ReplicationSession> {
    const conn = await connect(options.connection);
    try {
      await checkWalLevel(conn);
      const publications = await checkPublications(conn, options.publications);
      const slot = await ensureSlot(conn, options.slot, options.connection.database, options.onCreatingSlot);
      if (slot.created) options.log.info(`Created replication slot "${options.slot}" (pgoutput)`);
      const info: SessionInfo = {
        serverVersionNum: conn.serverVersionNum,
        protoVersion: protoVersionFor(conn.serverVersionNum),
        messages: supportsMessages(conn.serverVersionNum),
        publications,
        slotCreated: slot.created,
        slotConfirmedFlush: slot.confirmedFlush,
      };
      return new ReplicationSession(conn, info, options);
    } catch (err) {
      await conn.close().catch(() => {});
      if (err instanceof SessionSetupError) throw err;
      throw new SessionSetupError('check slot', err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  /** Sends START_REPLICATION from `start` and streams until the connection or copy mode ends. */
  async start(start: Lsn, handlers: StreamHandlers): Promise<void> {
    const command = startReplicationCommand({
      slot: this.options.slot,
      start,
      protoVersion: this.info.protoVersion,
      publications: this.info.publications,
      messages: this.info.messages,
    });
    this.conn.setReadCoalescing(this.options.readCoalesceMs ?? 0);
    try {
      await this.conn.startCopyBoth(command, { onData: handlers.onCopyData, onEnd: handlers.onEnd });
    } catch (err) {
      const inUse = err instanceof PgError && err.code === '55006';
      const message = err instanceof Error ? err.message : String(err);
      throw new SessionSetupError('start replication', inUse ? `${message}; standing by until the slot is free` : message, { cause: err });
    }
  }

  /** Standby status update: `write` received, `flush`/`apply` durably delivered (minus walRetain). */
  sendStatus(write: Lsn, flush: Lsn, replyRequested = false): void {
    if (this.conn.closed) return;
    try {
      this.conn.sendCopyData(encodeStandbyStatusUpdate({ write, flush, apply: flush, clientTime: pgTimeMicrosNow(), replyRequested }));
    } catch {
      // Not in copy mode: not started yet, or the server already ended the stream (an ErrorResponse
      // or CopyDone came before the connection closed). onEnd reports why; a status has no use here.
    }
  }

  pause(): void {
    this.conn.pause();
  }

  resume(): void {
    this.conn.resume();
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}
