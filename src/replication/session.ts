/**
 * One replication session: connect, run the setup steps in order, START_REPLICATION, then hand
 * every CopyData payload to the caller. Each setup step is its own function; a failure names its
 * step and says what to do about it. The session knows nothing about events or positions policy:
 * `PostgresSource` drives it.
 */
import type { Logger } from '../core/logger.ts';
import { PgConnection, type ConnectOptions, type QueryResult } from '../pg/connection.ts';
import { PgError, type PgNotice } from '../pg/errors.ts';
import {
  IDENTIFY_SYSTEM,
  IN_RECOVERY_SQL,
  SHOW_WAL_LEVEL,
  createSlotCommand,
  parseIdentifySystem,
  existingPublicationsSql,
  parseSlotInfo,
  protoVersionFor,
  slotInfoSql,
  startReplicationCommand,
  supportsMessages,
  type SlotInfo,
  type SystemIdentity,
} from './commands.ts';
import { encodeStandbyStatusUpdate, pgTimeMicrosNow } from './copy-both.ts';
import { parseLsn, type Lsn } from './lsn.ts';

/** The step of the session setup that failed; shown in logs and `/status`. */
export type SetupStep = 'connect' | 'identify system' | 'check wal_level' | 'check publication' | 'check slot' | 'create slot' | 'start replication';

/** A setup failure with the step, what happened and what the operator can do. Always retried by the source. */
export class SessionSetupError extends Error {
  /** The slot is held by another consumer (a warm standby's active instance): wait, do not escalate. */
  readonly slotInUse: boolean;

  constructor(readonly step: SetupStep, message: string, options: { cause?: unknown; slotInUse?: boolean } = {}) {
    // A failed connect says so itself ("connection to host:port refused", "password authentication
    // failed"), and /status already reads "connecting: ...": no "connect: " in front.
    super(step === 'connect' ? message : `${step}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SessionSetupError';
    this.slotInUse = options.slotInUse ?? false;
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
}

export interface StreamHandlers {
  /** A CopyData payload (`w` XLogData or `k` keepalive): bytes[start, end), valid only during the call. */
  onCopyData(bytes: Uint8Array, start: number, end: number): void;
  /** The stream ended: `undefined` on a clean end, otherwise why. Called once. */
  onEnd(err: Error | undefined): void;
  /** A NoticeResponse during the stream (PostgreSQL 18 warns of a missing publication this way). */
  onNotice?(notice: PgNotice): void;
}

/** What the setup learnt: the server's identity and WAL end, and the slot as it is (the caller decides). */
export interface SessionInfo {
  serverVersionNum: number;
  protoVersion: number;
  messages: boolean;
  publications: string[];
  system: SystemIdentity;
  /** The slot's row before we start; undefined when it does not exist (createSlot makes it). */
  slot: SlotInfo | undefined;
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

async function identifySystem(conn: PgConnection): Promise<SystemIdentity> {
  const [result] = await conn.simpleQuery(IDENTIFY_SYSTEM);
  try {
    return parseIdentifySystem(result?.rows ?? [], parseLsn);
  } catch (err) {
    throw new SessionSetupError('identify system', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * Reads the slot's row and rejects a slot we can never use (another type or plugin, another
 * database) or one in use. Whether a missing, invalidated, behind or ahead slot may be used is the
 * caller's decision (postgres/start-check.ts), made against its saved position.
 */
async function inspectSlot(conn: PgConnection, slot: string, database: string): Promise<SlotInfo | undefined> {
  const [result] = await conn.simpleQuery(slotInfoSql(slot, conn.serverVersionNum));
  const info = parseSlotInfo(result?.rows ?? [], parseLsn);
  if (!info) return undefined;
  if (info.slotType !== 'logical' || info.plugin !== 'pgoutput') {
    throw new SessionSetupError('check slot', `replication slot "${slot}" exists but is a ${info.slotType} slot with plugin ${info.plugin ?? 'none'}, not a logical pgoutput slot: choose another replicationSlot, or drop it if it is unused`);
  }
  if (info.database !== null && info.database !== database) {
    throw new SessionSetupError('check slot', `replication slot "${slot}" belongs to database "${info.database}", not "${database}": choose another replicationSlot`);
  }
  if (info.activePid !== null) {
    throw new SessionSetupError('check slot', `replication slot "${slot}" is in use by another process (PID ${info.activePid}); standing by until it is free`, { slotInUse: true });
  }
  return info;
}

export class ReplicationSession {
  private constructor(
    private readonly conn: PgConnection,
    readonly info: SessionInfo,
    private readonly options: SessionOptions,
  ) {}

  /** Connects and runs the setup steps; the connection is closed again when a step fails. Creates nothing. */
  static async open(options: SessionOptions): Promise<ReplicationSession> {
    const conn = await connect(options.connection);
    try {
      await checkWalLevel(conn);
      const publications = await checkPublications(conn, options.publications);
      const system = await identifySystem(conn);
      const slot = await inspectSlot(conn, options.slot, options.connection.database);
      const info: SessionInfo = {
        serverVersionNum: conn.serverVersionNum,
        protoVersion: protoVersionFor(conn.serverVersionNum),
        messages: supportsMessages(conn.serverVersionNum),
        publications,
        system,
        slot,
      };
      return new ReplicationSession(conn, info, options);
    } catch (err) {
      await conn.close().catch(() => {});
      if (err instanceof SessionSetupError) throw err;
      throw new SessionSetupError('check slot', err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  /**
   * Creates the slot (permanent, pgoutput). PostgreSQL waits for every transaction running now to
   * finish first, which can take as long as the longest one (an idle-in-transaction session).
   * Resolves with the slot's consistent point: where its stream begins.
   */
  async createSlot(options: { failover?: boolean } = {}): Promise<Lsn> {
    let result: QueryResult | undefined;
    try {
      [result] = await this.conn.simpleQuery(createSlotCommand(this.options.slot, options));
    } catch (err) {
      const hint = err instanceof PgError && err.code === '55000' ? ' (is wal_level logical and max_replication_slots large enough?)' : '';
      throw new SessionSetupError('create slot', `cannot create replication slot "${this.options.slot}": ${err instanceof Error ? err.message : String(err)}${hint}`, { cause: err });
    }
    this.options.log.info(`Created replication slot "${this.options.slot}" (pgoutput${options.failover ? ', failover' : ''})`);
    const point = result?.rows[0]?.[result.fields.indexOf('consistent_point')];
    if (typeof point !== 'string') throw new SessionSetupError('create slot', `CREATE_REPLICATION_SLOT "${this.options.slot}" returned no consistent_point`);
    return parseLsn(point);
  }

  /** Whether the server is a standby (pg_is_in_recovery()). */
  async inRecovery(): Promise<boolean> {
    const [result] = await this.conn.simpleQuery(IN_RECOVERY_SQL);
    return result?.rows[0]?.[0] === 't';
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
    if (handlers.onNotice) this.conn.onNotice(handlers.onNotice);
    try {
      await this.conn.startCopyBoth(command, { onData: handlers.onCopyData, onEnd: handlers.onEnd });
    } catch (err) {
      const inUse = err instanceof PgError && err.code === '55006';
      const message = err instanceof Error ? err.message : String(err);
      throw new SessionSetupError('start replication', inUse ? `${message}; standing by until the slot is free` : message, { cause: err, slotInUse: inUse });
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
