/** Builds a PostgresSource from its config section: resolves the DSN (libpq rules) into connection options. */
import type { ComponentDeps } from '../../component/type.ts';
import { StreamerError, describeError } from '../../core/errors.ts';
import type { ConnectOptions } from '../../pg/connection.ts';
import { loadDsn, type ResolvedDsn } from '../../pg/conninfo/dsn.ts';
import { PostgresSource, SESSION_PARAMS } from './source.ts';
import type { PostgresSourceOptions } from './spec.ts';
import type { SnapshotMode } from './snapshot/types.ts';

/** The replication connection of a source, from its resolved DSN and keys (`check --live` connects with the same). */
export function sourceConnectOptions(options: PostgresSourceOptions, dsn: ResolvedDsn): ConnectOptions {
  return {
    ...dsn.options,
    connectTimeoutMs: options.timeout,
    applicationName: dsn.applicationName ?? options.applicationName,
    replication: 'database',
    params: { ...dsn.options.params, ...SESSION_PARAMS },
  };
}

export function createPostgresSource(name: string, options: PostgresSourceOptions, deps: ComponentDeps): PostgresSource {
  let dsn;
  try {
    dsn = loadDsn(options.dsn, (message) => deps.log.warn(message));
  } catch (err) {
    throw new StreamerError('CONFIG', `source.${name}.dsn: ${describeError(err)}`, { cause: err, retryable: false });
  }
  return new PostgresSource(
    name,
    {
      connection: sourceConnectOptions(options, dsn),
      eventHost: dsn.eventHost,
      eventDatabase: dsn.eventDatabase,
      publication: options.publication,
      slot: options.replicationSlot,
      failoverSlot: options.failoverSlot,
      startRetryIntervalMs: options.startRetryInterval,
      statusIntervalMs: options.statusInterval,
      readCoalesceMs: options.readCoalesce,
      walRetain: options.walRetain,
      walPositionOverride: options.walPositionOverride,
      acceptGap: deps.acceptGap,
      configFile: deps.configFile,
      halt: deps.halt,
      wal: {
        slotMonitorIntervalMs: options.slotMonitorInterval,
        budget: { warnBytes: options.walBudgetWarn, maxBytes: options.walBudgetMax, action: options.walBudgetAction === 'stop' ? 'stop' : 'wait' },
        heartbeatIntervalMs: options.heartbeatInterval,
        heartbeatPrefix: options.heartbeatPrefix,
        heartbeatEvents: options.heartbeatEvents,
      },
      snapshot: {
        mode: options.snapshot as SnapshotMode,
        chunkRows: options.snapshotChunkSize,
        chunkBytes: options.snapshotChunkBytes,
        maxLagBytes: options.snapshotMaxLag,
        finished: options.snapshot === 'initial_only' ? deps.finishing?.() : undefined,
      },
    },
    deps.store,
    deps.log,
    deps.metrics,
  );
}
