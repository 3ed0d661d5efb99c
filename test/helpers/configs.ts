/**
 * Config files for tests that run the streamer as a child process: one builder per common shape, so
 * a change of a key or a default is made once.
 */
import type { PgServer } from './pg.ts';
import { dsnFor } from './postgres-source.ts';

export interface PostgresToFileConfig {
  server: PgServer;
  publication: string;
  slot: string;
  /** SQLite state file. */
  state: string;
  /** The file sink's output. */
  out: string;
  /** Extra top-level lines (e.g. `shutdownTimeout = "30s"`). */
  top?: string;
  /** Extra lines of `[source.db1]` (e.g. `startRetryInterval = "100ms"`). */
  source?: string;
  /** The DSN, when not the server's default (`dsnFor(server)`). */
  dsn?: string;
}

/** `[source.db1]` (postgres, quick flushes and status updates) → `[sink.out]` (file), HTTP on a free port. */
export function postgresToFileToml(c: PostgresToFileConfig): string {
  return `
http = "127.0.0.1:0"
boltdb = "${c.state}"
${c.top ?? ''}
[source.db1]
type = "postgres"
dsn = "${c.dsn ?? dsnFor(c.server)}"
publication = "${c.publication}"
replicationSlot = "${c.slot}"
batchFlushInterval = "20ms"
statusInterval = "200ms"
${c.source ?? ''}
[sink.out]
type = "file"
path = "${c.out}"
sources = ["db1"]
`;
}
