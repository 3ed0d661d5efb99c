/** `[source.NAME]` with `type = "postgres"`: its keys, defaults and cross-key rules. */
import { defineComponentType, type OptionProblem, type ValidationContext } from '../../component/type.ts';
import { DsnError, resolveDsn, type DsnEnvironment } from '../../pg/conninfo/dsn.ts';
import { defineSection, nonNegative, positive, type Resolved } from '../../config/fields.ts';
import type { Source } from '../source.ts';

const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

export const postgresSourceOptions = defineSection({
  dsn: {
    kind: 'string', required: true, original: true, secret: true,
    doc: 'Connection string: libpq key=value ("host=db1 dbname=app user=streamer sslmode=require") or a postgres:// URL; PG* variables and ~/.pgpass apply',
  },
  publication: {
    kind: 'string', required: true, original: true,
    doc: 'Publication to stream (CREATE PUBLICATION ... first); a comma list "a,b" streams several',
  },
  replicationSlot: {
    kind: 'string', required: true, original: true,
    check: (v) => (SLOT_NAME.test(v) ? undefined : 'a slot name of 1 to 63 lower-case letters, digits and underscores'),
    doc: 'Logical replication slot (pgoutput); created when missing, never dropped',
  },
  startRetryInterval: {
    kind: 'duration', default: 5000, original: true, check: positive,
    doc: 'First wait before reconnecting after a replication error; later waits grow (capped exponential backoff)',
  },
  timeout: { kind: 'duration', default: 2000, original: true, check: positive, doc: 'Connect timeout of the PostgreSQL connection' },
  walPositionOverride: {
    kind: 'lsn', default: 0n, original: true,
    check: (v) => (v >= 0n ? undefined : '>= 0'),
    doc: 'If not 0, start from this LSN (decimal as in the original, or "X/Y") instead of the saved position, on every start until removed',
  },
  walRetain: {
    kind: 'size', default: 0, original: true, check: nonNegative,
    doc: 'Bytes of WAL to keep behind the delivered position (confirm delivered minus this), an extra margin for replays',
  },
  statusInterval: {
    kind: 'duration', default: 10_000, check: positive,
    doc: 'How often a standby status update (the confirmed position) is sent to PostgreSQL',
  },
  readCoalesce: {
    kind: 'duration', default: 1, check: nonNegative,
    doc: 'While streaming faster than ≈ 8 MB/s, wait this long after each read of the replication connection before the next, so one read takes what arrived meanwhile: ≈ 25% less CPU per event at high rates, at most this much added latency; slower streams and 0 read at once',
  },
  failoverSlot: {
    kind: 'bool', default: true,
    doc: 'PostgreSQL 17+: create the replication slot as a failover slot, so standbys with sync_replication_slots = on keep a copy and the source can resume on a promoted standby (docs/operations.md); ignored on older servers and on a standby; an existing slot is not changed',
  },
  applicationName: {
    kind: 'string', default: 'psql-streamer',
    doc: 'application_name of the replication connection (shows in pg_stat_replication)',
  },
  slotMonitorInterval: {
    kind: 'duration', default: 10_000, check: nonNegative,
    doc: 'How often an ordinary connection reads the server\'s WAL end and the slot (lag, retained WAL, wal_status, safe_wal_size; docs/operations.md); 0 = off',
  },
  walBudgetWarn: {
    kind: 'size', default: 0, check: nonNegative,
    doc: 'Soft limit on the WAL the slot makes the server keep (WAL end - restart_lsn): past it, a warning (log, metric, /status); 0 = off',
  },
  walBudgetMax: {
    kind: 'size', default: 0, check: nonNegative,
    doc: 'Hard limit on the WAL the slot makes the server keep: past it, walBudgetAction; 0 = off',
  },
  walBudgetAction: {
    kind: 'string', default: 'wait', choices: ['wait', 'stop'],
    doc: 'Past walBudgetMax: "wait" streams on and reports an error state; "stop" stops the streamer (exit code 3) so an operator decides',
  },
  heartbeatInterval: {
    kind: 'duration', default: 0, check: nonNegative,
    doc: 'Write a logical decoding message (pg_logical_emit_message) this often so the slot of a quiet database on a busy cluster advances; 0 = off',
  },
  heartbeatPrefix: {
    kind: 'string', default: 'psql-streamer-heartbeat',
    check: (v) => (v.length > 0 && !v.includes('\0') ? undefined : 'a non-empty prefix'),
    doc: 'Prefix of the heartbeat messages; messages with it are not delivered as events unless heartbeatEvents',
  },
  snapshot: {
    kind: 'string', default: 'never', choices: ['never', 'initial', 'initial_only'],
    doc: 'Copy the rows already in the published tables: "initial" on the first start (no saved position) copies every published table while streaming, then streams on; "initial_only" copies, then stops (exit 0); "never" streams changes only (docs/snapshots.md)',
  },
  snapshotChunkSize: {
    kind: 'int', default: 5_000, check: positive,
    doc: 'Most rows a snapshot reads per chunk (one short read-only transaction, keyset order on the key)',
  },
  snapshotChunkBytes: {
    kind: 'size', default: 8 * 1024 * 1024, check: positive,
    doc: 'A chunk also ends once its rows hold this many bytes of values, so memory stays bounded with wide rows',
  },
  snapshotMaxLag: {
    kind: 'size', default: 64 * 1024 * 1024, check: positive,
    doc: 'Snapshot chunks wait while the stream is this far behind (WAL received but not yet delivered, or behind the server\'s WAL end): live changes go first',
  },
  heartbeatEvents: {
    kind: 'bool', default: false,
    doc: 'Deliver heartbeat messages as events (PostgreSQL 14+, where messages are streamed) instead of only confirming their position',
  },
});

/** Resolved keys of a PostgreSQL source. */
export type PostgresSourceOptions = Resolved<typeof postgresSourceOptions>;

/** Cross-key rules: a budget needs the slot monitor; the soft limit is not above the hard one. */
export function validatePostgresSource(o: PostgresSourceOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (o.slotMonitorInterval === 0) {
    for (const key of ['walBudgetWarn', 'walBudgetMax'] as const) {
      if (o[key] > 0) problems.push({ key, message: 'needs slotMonitorInterval > 0 (the budget is checked by the slot monitor)' });
    }
  }
  if (o.walBudgetWarn > 0 && o.walBudgetMax > 0 && o.walBudgetWarn > o.walBudgetMax) {
    problems.push({ key: 'walBudgetWarn', message: `must not be above walBudgetMax (${o.walBudgetMax} bytes)` });
  }
  return problems;
}

/**
 * The connection string checked as startup resolves it (keywords, ports, sslmode and the other
 * values, unknown keys, `PG*` variables from `context.env`) without touching files or the network:
 * every error resolveDsn can raise is independent of them (the password file only warns).
 */
export function dsnProblems(dsn: string, context: ValidationContext): OptionProblem[] {
  const environment: DsnEnvironment = {
    env: context.env,
    osUser: context.env.USER ?? 'postgres',
    homeDir: context.env.HOME ?? '/',
    readFile: () => undefined,
    stat: () => undefined,
    warn: () => {},
  };
  try {
    resolveDsn(dsn, environment);
    return [];
  } catch (err) {
    if (err instanceof DsnError) return [{ key: 'dsn', message: err.message }];
    throw err;
  }
}

/** `type = "postgres"` sources. They keep their position in the state file (`boltdb`). */
export const postgresSourceType = defineComponentType<typeof postgresSourceOptions, Source>({
  type: 'postgres',
  componentType: 'Source-PSQL',
  options: postgresSourceOptions,
  needsStateFile: true,
  validate: (options, context) => [...dsnProblems(options.dsn, context), ...validatePostgresSource(options)],
  async create(name, options, deps) {
    // Imported here: a config without a postgres source never loads the replication code.
    const { createPostgresSource } = await import('./create.ts');
    return createPostgresSource(name, options, deps);
  },
});
