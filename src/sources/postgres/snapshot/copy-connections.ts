/**
 * The connections a snapshot reads over, each opened on first use and again once lost, with the
 * source's settings (TLS, password file, session parameters): postgres.js for the catalog and
 * table shapes, our own protocol code for the chunks (chunk-reader.ts says why; docs/snapshots.md,
 * "How a chunk is read"). Also the server's WAL geometry, read once per connection.
 */
import { PgConnection } from '../../../pg/connection.ts';
import type { ConnectOptions } from '../../../pg/options.ts';
import { SqlClient } from '../../../pg/sql-client.ts';
import type { WalGeometry } from './pg-snapshot.ts';

export class CopyConnections {
  private client: SqlClient | undefined;
  private reader: PgConnection | undefined;
  private geometry: WalGeometry | undefined;

  constructor(private readonly connection: ConnectOptions) {}

  /** A connection was lost: the next use opens another. */
  get closed(): boolean {
    return (this.client?.closed ?? false) || (this.reader?.closed ?? false);
  }

  async sql(): Promise<SqlClient> {
    if (this.client === undefined || this.client.closed) {
      this.client = await SqlClient.connect(this.connection);
      this.geometry = undefined;
    }
    return this.client;
  }

  /** The connection chunks are read on. */
  async chunks(): Promise<PgConnection> {
    if (this.reader === undefined || this.reader.closed) this.reader = await PgConnection.connect({ ...this.connection, replication: undefined });
    return this.reader;
  }

  async close(): Promise<void> {
    const client = this.client;
    const reader = this.reader;
    this.client = undefined;
    this.reader = undefined;
    await client?.close();
    await reader?.close().catch(() => {});
  }

  /** wal_block_size and wal_segment_size (pg-snapshot.ts walTarget). */
  async walGeometry(): Promise<WalGeometry> {
    const client = await this.sql();
    if (this.geometry !== undefined) return this.geometry;
    const rows = await client.query("SELECT name, setting FROM pg_catalog.pg_settings WHERE name IN ('wal_block_size', 'wal_segment_size')");
    const setting = (name: string) => Number(rows.find((r) => r[0] === name)?.[1]);
    const geometry = { blockSize: setting('wal_block_size'), segmentSize: setting('wal_segment_size') };
    if (!(geometry.blockSize > 0 && geometry.segmentSize > 0)) throw new Error(`cannot read wal_block_size and wal_segment_size (got ${JSON.stringify(rows)})`);
    this.geometry = geometry;
    return geometry;
  }
}
