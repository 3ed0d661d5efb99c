/**
 * In-process harness for PostgresSource integration tests: the real source and the real pipeline
 * against the throwaway PostgreSQL, with a collecting sink (records events, can block or fail) and
 * an in-memory or SQLite state store. Waits are event-driven (the sink wakes waiters on each write)
 * or poll cheaply with generous timeouts; nothing sleeps as an assertion.
 */
import { afterAll, beforeAll, setDefaultTimeout } from 'bun:test';
import type postgres from 'postgres';
import type { ChangeEvent } from '../../src/event/event.ts';
import { Logger } from '../../src/core/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { createPostgresSource } from '../../src/sources/postgres/create.ts';
import type { PostgresSource } from '../../src/sources/postgres/source.ts';
import { postgresSourceOptions, type PostgresSourceOptions } from '../../src/sources/postgres/spec.ts';
import { parseLsn, type Lsn } from '../../src/replication/lsn.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import type { SourceOutput } from '../../src/sources/source.ts';
import { createMemoryStateStore } from '../../src/state/memory-store.ts';
import type { StateStore } from '../../src/state/store.ts';
import { join } from 'node:path';
import { runScript } from './env.ts';
import { dropSlot, pgClient, pgServerFromEnv, uniqueName, usePostgres, type PgFixture, type PgServer } from './pg.ts';
import { waitFor } from './streamer.ts';

/** Polls `check` every 25 ms until it holds; throws with `detail()` after `timeoutMs`. */
export { waitFor };

interface Waiter {
  check: () => boolean;
  resolve: () => void;
}

/**
 * A sink that keeps every event it acknowledged, in order. `block()` holds writes until released;
 * `failWith(err)` rejects every write until `failWith(undefined)`.
 */
export class CollectingSink implements Sink {
  readonly type = 'Sink-Collect';
  readonly events: ChangeEvent[] = [];
  /** Every write call, including failed and blocked ones. */
  writes = 0;
  /** Events handed to write() that were not acknowledged yet (blocked or failing). */
  pending = 0;
  /** Each write takes at least this long (a slow sink). */
  delayMs = 0;
  private failure: Error | undefined;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private waiters: Waiter[] = [];

  constructor(readonly name = 'collect') {}

  async write(batch: readonly ChangeEvent[]): Promise<void> {
    this.writes++;
    this.pending = batch.length;
    this.notify();
    try {
      if (this.gate) await this.gate;
      if (this.delayMs > 0) await Bun.sleep(this.delayMs);
      if (this.failure) throw this.failure;
      this.events.push(...batch);
    } finally {
      this.pending = 0;
      this.notify();
    }
  }

  /** Holds every write until the returned function is called. */
  block(): () => void {
    if (!this.gate) this.gate = new Promise((resolve) => { this.openGate = resolve; });
    return () => this.unblock();
  }

  unblock(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  failWith(err: Error | undefined): void {
    this.failure = err;
  }

  /** Resolves once `check()` holds (checked after every write); rejects after `timeoutMs` with `what`. */
  until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { check, resolve: () => { clearTimeout(timer); resolve(); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; sink has ${this.events.length} events: ` +
          this.events.slice(-5).map((e) => `${e.action} ${e.table} ${JSON.stringify(e.columns, jsonBigint)}`).join(' | ')));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves when at least `count` events were acknowledged. */
  untilCount(count: number, timeoutMs = 20_000): Promise<void> {
    return this.until(`${count} events`, () => this.events.length >= count, timeoutMs);
  }

  /** Events of one table (bare name). */
  of(table: string): ChangeEvent[] {
    return this.events.filter((e) => e.table === table);
  }

  private notify(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.check()) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  stats(): string {
    return `events: ${this.events.length}`;
  }

  status(): string | null {
    return null;
  }

  setDebug(): void {}

  async close(): Promise<void> {
    this.unblock();
  }
}

/** A memory state store that also records every position set, in order. */
export function recordingStore(): StateStore & { positions: Lsn[] } {
  const inner = createMemoryStateStore();
  const positions: Lsn[] = [];
  return {
    ...inner,
    positions,
    async setPosition(source, position) {
      await inner.setPosition(source, position);
      positions.push(position);
    },
  };
}

/** JSON.stringify replacer for values that may hold bigints. */
export function jsonBigint(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

/** A libpq key=value DSN for the test server. */
export function dsnFor(server: PgServer, parts: { user?: string; password?: string; database?: string; host?: string; port?: number } = {}): string {
  const fields = [
    `host=${parts.host ?? server.host}`,
    `port=${parts.port ?? server.port}`,
    `user=${parts.user ?? server.user}`,
    `dbname=${parts.database ?? server.database}`,
    'sslmode=disable',
  ];
  if (parts.password !== undefined) fields.push(`password=${parts.password}`);
  return fields.join(' ');
}

export interface HarnessOptions {
  slot: string;
  publication: string;
  /** Source name (the state store key); unique by default. */
  name?: string;
  dsn?: string;
  store?: StateStore;
  sink?: CollectingSink;
  /** Overrides of the source's resolved config keys. */
  source?: Partial<PostgresSourceOptions>;
  /** Overrides of the pipeline settings (durations in ms). */
  pipeline?: Partial<{ batchSize: number; batchFlushIntervalMs: number; sendRetryIntervalMs: number; maxRetryIntervalMs: number; maxBufferedEvents: number; maxBufferedBytes: number }>;
  log?: Logger;
  /** Stands between the source and the pipeline (e.g. to watch every push). */
  wrapOutput?: (pipeline: Pipeline<Lsn>) => SourceOutput<Lsn>;
}

export interface Harness {
  name: string;
  source: PostgresSource;
  pipeline: Pipeline<Lsn>;
  sink: CollectingSink;
  store: StateStore;
  /** The metrics the source and the pipeline update (a fresh set per harness). */
  metrics: Metrics;
  /** Every position the pipeline acknowledged to the source, in order (the store keeps the last of each ack). */
  acked: Lsn[];
  /** Resolves once status() is null (streaming). */
  streaming(timeoutMs?: number): Promise<void>;
  /** The position the store holds, or 0n. */
  persisted(): Lsn;
  /** Graceful stop: stop reading, deliver what is queued, final status, close. Safe to call twice. */
  shutdown(): Promise<void>;
}

/** The resolved config of a test's PostgresSource: quick retries and status, no monitor, no budget, no heartbeats. */
export function testSourceOptions(server: PgServer, name: string, options: Pick<HarnessOptions, 'slot' | 'publication' | 'dsn' | 'source'>): PostgresSourceOptions {
  return {
    dsn: options.dsn ?? dsnFor(server),
    publication: options.publication,
    replicationSlot: options.slot,
    startRetryInterval: 100,
    timeout: 2000,
    walPositionOverride: 0n,
    walRetain: 0,
    statusInterval: 200,
    readCoalesce: postgresSourceOptions.readCoalesce.default,
    failoverSlot: postgresSourceOptions.failoverSlot.default,
    applicationName: name,
    // The slot monitor is off unless a test asks for it (one connection less per harness).
    slotMonitorInterval: 0,
    walBudgetWarn: 0,
    walBudgetMax: 0,
    walBudgetAction: 'wait',
    heartbeatInterval: 0,
    heartbeatPrefix: postgresSourceOptions.heartbeatPrefix.default,
    heartbeatEvents: false,
    snapshot: 'never',
    snapshotChunkSize: postgresSourceOptions.snapshotChunkSize.default,
    snapshotChunkBytes: postgresSourceOptions.snapshotChunkBytes.default,
    snapshotMaxLag: postgresSourceOptions.snapshotMaxLag.default,
    ...options.source,
  };
}

/** Builds and starts a PostgresSource → Pipeline → CollectingSink. */
export async function startHarness(server: PgServer, options: HarnessOptions): Promise<Harness> {
  const name = options.name ?? uniqueName('src');
  const store = options.store ?? createMemoryStateStore();
  const sink = options.sink ?? new CollectingSink();
  const log = options.log ?? Logger.for('Source-PSQL', name);
  const metrics = createMetrics();
  const source = createPostgresSource(name, testSourceOptions(server, name, options), { log, store, metrics });
  const acked: Lsn[] = [];
  const pipeline = new Pipeline<Lsn>({
    name,
    source: {
      ack(positions) {
        acked.push(...positions);
        return source.ack(positions);
      },
    },
    sinks: [sink],
    log: Logger.for('Pipeline', name),
    metrics,
    batchSize: 100,
    batchFlushIntervalMs: 20,
    sendRetryIntervalMs: 50,
    maxRetryIntervalMs: 500,
    maxBufferedEvents: 10_000,
    maxBufferedBytes: 64 * 2 ** 20,
    ...options.pipeline,
  });
  await source.start(options.wrapOutput ? options.wrapOutput(pipeline) : pipeline);
  let stopped: Promise<void> | undefined;
  return {
    name,
    source,
    pipeline,
    sink,
    store,
    metrics,
    acked,
    streaming: (timeoutMs = 20_000) =>
      waitFor(`source ${name} streaming`, () => source.status() === null, timeoutMs, () => `status: ${source.status()}`),
    persisted: () => store.getPosition(name) ?? 0n,
    shutdown() {
      stopped ??= (async () => {
        await source.stop();
        sink.unblock();
        sink.failWith(undefined);
        await pipeline.drain().catch(() => {});
        await source.close();
        pipeline.close();
      })();
      return stopped;
    },
  };
}

/** A fresh publication for `tables` (publishing `publish`, default all) and unless `createSlot` is false a pgoutput slot; unique names. */
export async function preparePublication(sql: postgres.Sql, tables: string[], createSlot = true, publish?: string): Promise<{ slot: string; publication: string }> {
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  const withPublish = publish === undefined ? '' : ` WITH (publish = '${publish}')`;
  await sql.unsafe(`CREATE PUBLICATION ${publication} FOR TABLE ${tables.join(', ')}${withPublish}`);
  if (createSlot) await sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  return { slot, publication };
}

/** pg_replication_slots.confirmed_flush_lsn of `slot` (0n when unset). */
export async function confirmedFlush(sql: postgres.Sql, slot: string): Promise<Lsn> {
  const [row] = await sql<{ lsn: string | null }[]>`
    SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = ${slot}`;
  return row?.lsn ? parseLsn(row.lsn) : 0n;
}

/** PID of the walsender holding `slot`, or null. */
export async function slotPid(sql: postgres.Sql, slot: string): Promise<number | null> {
  const [row] = await sql<{ pid: number | null }[]>`SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = ${slot}`;
  return row?.pid ?? null;
}

/** Current WAL insert position. */
export async function currentLsn(sql: postgres.Sql): Promise<Lsn> {
  const [row] = await sql<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`;
  return parseLsn(row!.lsn);
}

/** What useSourceTests gives a test file. */
export interface SourceTests {
  pg: PgFixture;
  /** The superuser's SQL client (available in tests). */
  readonly sql: postgres.Sql;
  /** Starts a harness that is shut down after the file. */
  start(options: HarnessOptions): Promise<Harness>;
  /** A publication for `tables` and a slot dropped after the file. */
  prepare(tables: string[], options?: { createSlot?: boolean; publish?: string }): Promise<{ slot: string; publication: string }>;
  /** Drops `slot` after the file. */
  dropLater(slot: string): void;
}

/**
 * usePostgres() (and a 60 s default test timeout) plus cleanup in the right order: harnesses shut down, then slots dropped, then the
 * SQL client ended, then usePostgres's own cleanup (its clients, the shared server).
 */
export function useSourceTests(): SourceTests {
  // As scripts/test does, so a direct `bun test <file>` does not cut the generous waits at 5 s.
  setDefaultTimeout(60_000);
  let client: postgres.Sql | undefined;
  const harnesses: Harness[] = [];
  const slots = new Set<string>();
  // Registered before usePostgres() so it runs before usePostgres's own afterAll (bun runs them in
  // order of registration): harnesses and their walsenders end while the server still runs, else
  // stopping a shared server waits for them (pg_ctl stop fails after 30 s and sends SIGQUIT).
  afterAll(async () => {
    for (const h of harnesses.splice(0)) await h.shutdown().catch(() => {});
    if (client === undefined) return;
    for (const slot of slots) await dropSlot(client, slot).catch(() => {});
    await client.end({ timeout: 5 });
  }, 60_000);
  const pg = usePostgres();
  beforeAll(() => {
    client = pgClient(pg.server);
  });
  const tests: SourceTests = {
    pg,
    get sql() {
      if (client === undefined) throw new Error('useSourceTests(): sql exists only inside hooks and tests');
      return client;
    },
    async start(options) {
      slots.add(options.slot);
      const h = await startHarness(pg.server, options);
      harnesses.push(h);
      return h;
    },
    async prepare(tables, options = {}) {
      const prepared = await preparePublication(tests.sql, tables, options.createSlot ?? true, options.publish);
      slots.add(prepared.slot);
      return prepared;
    },
    dropLater(slot) {
      slots.add(slot);
    },
  };
  return tests;
}

/** A throwaway cluster of a test's own (to restart it or change its settings without disturbing others). */
export interface PrivateCluster {
  server: PgServer;
  /** pg_ctl restart (mode fast), as the cluster's owner; waits until it accepts connections. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs a server binary as the cluster's owner (postgres when we are root, as scripts/pg does). */
export async function asOwner(command: string[]): Promise<void> {
  const argv = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...command] : command;
  const child = Bun.spawn(argv, { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${command.join(' ')} exited with ${code}: ${stderr}`);
}

/**
 * Starts `scripts/pg start --private` (≈0.7 s), of PostgreSQL `version` when given (fetched once,
 * see scripts/pg); stop() removes it.
 */
export async function startPrivateCluster(version?: number): Promise<PrivateCluster> {
  const args = ['start', '--private', ...(version === undefined ? [] : ['--version', String(version)])];
  const server = pgServerFromEnv(await runScript('pg', args));
  return {
    server,
    restart: () => asOwner([join(server.binDir, 'pg_ctl'), '-D', join(server.dir, 'data'), '-l', join(server.dir, 'postgres.log'), '-m', 'fast', '-w', '-t', '60', 'restart']),
    stop: async () => void (await runScript('pg', ['stop', '--dir', server.dir])),
  };
}
