/**
 * Config of the snapshot tests' streamer: PostgreSQL source `db1` with a snapshot mode and chunk
 * size, to the file sink or to Kafka (one topic), HTTP on a free port, SQLite state in the run's dir.
 */
import { join } from 'node:path';
import { postgresToFileToml, postgresToKafkaToml } from '../configs.ts';
import type { PgServer } from '../pg.ts';

export interface SnapshotRunConfig {
  server: PgServer;
  dir: string;
  publication: string;
  slot: string;
  mode: 'never' | 'initial' | 'initial_only';
  chunkSize: number;
  /** File sink output (default `<dir>/out.jsonl`), unless `kafka` is given. */
  out?: string;
  kafka?: { brokers: readonly string[]; topic: string };
  /** Extra lines of the source section. */
  source?: string;
  /** Extra top-level lines. */
  top?: string;
}

export const stateFileOf = (dir: string): string => join(dir, 'state.db');

export function snapshotConfig(c: SnapshotRunConfig): string {
  const source = `startRetryInterval = "100ms"
snapshot = "${c.mode}"
snapshotChunkSize = ${c.chunkSize}
${c.source ?? ''}`;
  const common = { server: c.server, publication: c.publication, slot: c.slot, state: stateFileOf(c.dir), source, top: `shutdownTimeout = "20s"\n${c.top ?? ''}` };
  if (c.kafka !== undefined) return postgresToKafkaToml({ ...common, brokers: c.kafka.brokers, sink: `topicFallback = "${c.kafka.topic}"` });
  return postgresToFileToml({ ...common, out: c.out ?? join(c.dir, 'out.jsonl') });
}
