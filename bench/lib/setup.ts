/** The start every benchmark script shares: `--help` from its header comment, the servers from the environment. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';

/** With `--help`, prints the script's header comment (its usage) and exits. */
export function exitWithHelpIf(help: boolean | undefined, scriptPath: string): void {
  if (!help) return;
  process.stdout.write(readFileSync(scriptPath, 'utf8').split('*/')[0]!.replace(/^#!.*\n/, '') + '*/\n');
  process.exit(0);
}

/** An environment variable the script cannot run without; `runVia` says how to get it set. */
export function requiredEnv(name: string, runVia: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through ${runVia}`);
  return value;
}

/** The PostgreSQL server `scripts/pg start` describes (PG* variables and its bin directory). */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  /** Directory of pg_recvlogical, pgbench, ... of the server's version. */
  bin: string;
}

export function pgTargetFromEnv(runVia: string): PgTarget {
  return {
    host: requiredEnv('PGHOST', runVia),
    port: Number(requiredEnv('PGPORT', runVia)),
    user: requiredEnv('PGUSER', runVia),
    database: requiredEnv('PGDATABASE', runVia),
    bin: requiredEnv('PSQL_STREAMER_PG_BIN', runVia),
  };
}

/** One SQL connection to the target, notices ignored. */
export function pgAdminClient(pg: PgTarget): postgres.Sql {
  return postgres({ host: pg.host, port: pg.port, user: pg.user, database: pg.database, max: 1, onnotice: () => {} });
}

/** The top of a benchmark streamer's config: HTTP on a free port, state in `dir`, and source `bench` on `pg` (sinks follow). */
export function benchSourceToml(o: {
  dir: string; pg: PgTarget; publication: string; slot: string; batchSize: number; flushInterval?: string; sslmode?: string; extra?: string;
}): string {
  return `
http = "127.0.0.1:0"
boltdb = "${join(o.dir, 'state.db')}"
logLevel = "info"
shutdownTimeout = "30s"

[source.bench]
type = "postgres"
dsn = "host=${o.pg.host} port=${o.pg.port} dbname=${o.pg.database} user=${o.pg.user}${o.sslmode ? ` sslmode=${o.sslmode}` : ''}"
publication = "${o.publication}"
replicationSlot = "${o.slot}"
startRetryInterval = "100ms"
statusInterval = "200ms"
batchSize = ${o.batchSize}
batchFlushInterval = "${o.flushInterval ?? '100ms'}"
${o.extra ?? ''}
`;
}

/** Drops a replication slot, ending the walsender that holds it first (a consumer that just exited may still hold it); no slot, nothing. */
export async function dropSlotWhenFree(sql: postgres.Sql, slot: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [row] = await sql<{ pid: number | null }[]>`select active_pid as pid from pg_replication_slots where slot_name = ${slot}`;
    if (row === undefined) return;
    if (row.pid === null) {
      await sql`select pg_drop_replication_slot(${slot})`;
      return;
    }
    await sql`select pg_terminate_backend(${row.pid})`;
    await Bun.sleep(50);
  }
}
