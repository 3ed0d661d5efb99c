/**
 * One ordinary (non-replication) SQL session over postgres.js: catalog reads, the slot monitor,
 * heartbeats, `check --live`. It connects through transport.ts (the same sockets, sslmode plan,
 * TLS checks and connect timeout as our replication connection, connection.ts), postgres.js runs
 * the startup, authentication and queries, and sql-options.ts maps the settings in and the errors
 * back out (PgError / PgConnectError). Values come back as the server's text, exactly as pgoutput
 * sends them, for the same type conversion (pgtypes/).
 *
 * postgres.js is imported on the first connect, not when this module loads: a streamer pays its
 * load time (≈ 6–9 ms, ≈ 1 MB of RSS) only once a source runs ordinary SQL.
 *
 * Where postgres.js's authentication differs from ours (auth.ts, startup.ts): a method it does not
 * know (GSS, SSPI, SCRAM-SHA-256-PLUS only) is not refused but waits for the connect timeout (and
 * prints "Postgres.js : Unknown Auth" on stderr); it accepts AuthenticationOk without SASLFinal (a
 * server that never proved it knows the password; libpq refuses); it runs PBKDF2 synchronously; a
 * malformed SCRAM message from the peer is an unhandled rejection (main.ts exits). Only a peer that
 * is not a sound PostgreSQL server can tell, and our replication connection refuses such a peer clearly.
 */
import type postgres from 'postgres';
import { saslPrep } from './auth.ts';
import { isSqlState, PgConnectError, type PgNotice, SqlState } from './errors.ts';
import type { ConnectOptions } from './options.ts';
import { sqlClientOptions, type SqlClientOptions, sqlError, type SqlErrorContext } from './sql-options.ts';
import type { Target } from './tls-options.ts';
import { type ConnectState, newConnectState, openTransport, sslPlan, targetOf, type TlsPolicy, withConnectTimeout } from './transport.ts';

/** One result row: each column's text, or null for NULL. */
export type SqlRow = (string | null)[];
/** A bound parameter: its text (the server casts it to the column's type), or null. */
export type SqlParam = string | null;

type Postgres = typeof postgres;

let postgresModule: Promise<Postgres> | undefined;
const loadPostgres = (): Promise<Postgres> => (postgresModule ??= import('postgres').then((m) => m.default));

/**
 * postgres.js reads PGTARGETSESSIONATTRS whenever its option is unset, which is how we say "any"
 * (it refuses "any" itself). dsn.ts already resolved that variable (a string's value wins), so it is
 * hidden while postgres.js parses its options: synchronously, nothing else runs meanwhile.
 */
function createHidingEnv(create: Postgres, settings: SqlClientOptions): postgres.Sql {
  const saved = process.env.PGTARGETSESSIONATTRS;
  delete process.env.PGTARGETSESSIONATTRS;
  try {
    return create(settings as unknown as postgres.Options<{}>);
  } finally {
    if (saved !== undefined) process.env.PGTARGETSESSIONATTRS = saved;
  }
}

/** An ordinary SQL session; create one with `SqlClient.connect`, end it with `close()`. */
export class SqlClient {
  private ended = false;

  private constructor(
    private readonly sql: postgres.Sql,
    private readonly context: SqlErrorContext,
    private readonly serverParameters: ReadonlyMap<string, string>,
  ) {}

  /**
   * Connects with `options` (its `replication` is ignored: this is an ordinary session). Rejects as
   * PgConnection.connect does: PgConnectError (refused, timeout, TLS, auth) or PgError (the server
   * refused, e.g. 28P01), naming the target.
   */
  static async connect(options: ConnectOptions, onNotice: (notice: PgNotice) => void = () => {}): Promise<SqlClient> {
    const create = await loadPostgres();
    const ordinary: ConnectOptions = { ...options, replication: undefined };
    const target = targetOf(ordinary);
    const state = newConnectState();
    const plan = (login: ConnectOptions) => sslPlan(login, state, (policy) => SqlClient.attempt(create, login, target, state, policy, onNotice));
    return withConnectTimeout(ordinary, target, state, SqlClient.withPreparedPassword(ordinary, plan), (client) => void client.close());
  }

  /**
   * postgres.js sends the password as given for every method, but SCRAM needs it SASLprep'd (as
   * auth.ts does): a password SASLprep changes (ligatures, full-width forms, non-ASCII spaces) is
   * tried as given (right for md5 and cleartext), then prepared when the server refused it.
   */
  private static async withPreparedPassword(options: ConnectOptions, plan: (login: ConnectOptions) => Promise<SqlClient>): Promise<SqlClient> {
    const prepared = options.password === undefined ? undefined : saslPrep(options.password);
    try {
      return await plan(options);
    } catch (err) {
      if (prepared === options.password || !isSqlState(err, SqlState.invalidPassword)) throw err;
      return plan({ ...options, password: prepared });
    }
  }

  /** One attempt: a postgres.js instance of one connection, whose one socket transport.ts opens. */
  private static async attempt(
    create: Postgres, options: ConnectOptions, target: Target, state: ConnectState, policy: TlsPolicy, onNotice: (notice: PgNotice) => void,
  ): Promise<SqlClient> {
    const context: SqlErrorContext = { target, connecting: true, options };
    const parameters = new Map<string, string>();
    let opened = false;
    let client: SqlClient | undefined;
    const settings = sqlClientOptions(options, {
      // postgres.js reconnects on its own when a connection drops; ours do not (the caller decides).
      socket: async () => {
        if (opened || state.timedOut) throw new PgConnectError('closed', `connection to ${target.label} is closed`, target);
        opened = true;
        const socket = await openTransport(options, target, state, policy);
        state.stage = 'authentication';
        return socket;
      },
      notice: onNotice,
      parameter: (key, value) => parameters.set(key, value),
      closed: () => {
        if (client !== undefined) client.ended = true;
      },
    });
    const sql = createHidingEnv(create, settings);
    try {
      // Connect now, so connection errors are reported as such: an empty statement, one round trip.
      // Not sql.reserve(): with fetch_types off it never settles (porsager/postgres#751); with
      // max = 1 every query takes the one connection, in order, anyway.
      await sql.unsafe('').simple();
      client = new SqlClient(sql, { ...context, connecting: false }, parameters);
      return client;
    } catch (err) {
      void sql.end({ timeout: 0 });
      throw sqlError(err, context);
    }
  }

  /** ParameterStatus values reported by the server (server_version, in_hot_standby, ...). */
  get parameters(): ReadonlyMap<string, string> {
    return this.serverParameters;
  }

  /** `host:port` or `socket /dir/.s.PGSQL.port`. */
  get label(): string {
    return this.context.target.label;
  }

  /** True once close() was called or the connection ended. */
  get closed(): boolean {
    return this.ended;
  }

  /**
   * Runs one statement (extended protocol, unnamed: nothing stays prepared) with `params` bound
   * to $1, $2, ...; resolves with its rows as text. Rejects with PgError for the server's errors.
   */
  async query(text: string, params: readonly SqlParam[] = []): Promise<SqlRow[]> {
    if (this.ended) throw new PgConnectError('closed', `connection to ${this.label} is closed`, this.context.target);
    try {
      const rows = (await this.sql.unsafe(text, params as SqlParam[], { prepare: false }).raw()) as unknown as (Buffer | null)[][];
      return rows.map((row) => row.map((value) => (value === null ? null : value.toString('utf8'))));
    } catch (err) {
      throw sqlError(err, this.context);
    }
  }

  /** Ends the session at once (Terminate; a query in progress fails). Idempotent. */
  async close(): Promise<void> {
    this.ended = true;
    await this.sql.end({ timeout: 0 }).catch(() => {});
  }
}
