/**
 * `psql-streamer reset-position -config FILE --source NAME`: forgets what the state file holds for
 * one PostgreSQL source (its position and the cluster it came from), the remedy the refusals of
 * docs/operations.md name. The source then starts as on its first start: from its replication slot,
 * or with a new slot when there is none.
 */
import type { Config } from '../config/schema.ts';
import { describeError } from '../core/errors.ts';
import { formatLsn } from '../replication/lsn.ts';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from '../core/exit-codes.ts';
import { openSqliteStateStore } from '../state/sqlite-store.ts';

export function resetPosition(config: Config, sourceName: string): number {
  const source = config.sources.find((s) => s.name === sourceName);
  if (!source) {
    const names = config.sources.map((s) => s.name).join(', ') || 'none';
    process.stderr.write(`${config.file}: no source "${sourceName}" (sources: ${names})\n`);
    return EXIT_USAGE;
  }
  if (source.kind.needsStateFile !== true || config.stateFile === undefined) {
    process.stderr.write(`${config.file}: source "${sourceName}" keeps no position in a state file (a Kafka source commits its offsets to Kafka)\n`);
    return EXIT_USAGE;
  }
  const slot = (source.options as { replicationSlot?: string }).replicationSlot;
  try {
    const store = openSqliteStateStore(config.stateFile);
    try {
      let saved: string;
      try {
        const position = store.getPosition(sourceName);
        saved = position === undefined ? 'no position' : `position ${formatLsn(position)}`;
      } catch {
        saved = 'an unreadable position';
      }
      const identity = store.getServerIdentity(sourceName);
      if (!store.resetSource(sourceName)) {
        process.stdout.write(`${config.stateFile}: nothing saved for source "${sourceName}"; nothing to do\n`);
        return EXIT_OK;
      }
      const cluster = identity ? ` (cluster ${identity.systemId}, timeline ${identity.timeline})` : '';
      process.stdout.write(
        `${config.stateFile}: forgot ${saved}${cluster} of source "${sourceName}". ` +
        `On its next start it streams from replication slot "${slot}" at the slot's confirmed position, or creates the slot when it does not exist.\n`,
      );
      return EXIT_OK;
    } finally {
      store.close();
    }
  } catch (err) {
    process.stderr.write(`${describeError(err)}\n`);
    return EXIT_RUNTIME;
  }
}
