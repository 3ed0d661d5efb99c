/**
 * The PostgreSQL source's pipeline positions: commit LSNs, and the marks that follow a snapshot
 * chunk's rows. The pipeline acknowledges both in push order, so a mark comes back once every row
 * of its chunk (and everything before) reached every sink: then the chunk's progress is persisted.
 */
import type { Lsn } from '../../../replication/lsn.ts';

export class ChunkMark {
  /** Resolves when the mark was acknowledged (never rejects). */
  readonly delivered: Promise<void>;
  private resolve!: () => void;

  constructor() {
    this.delivered = new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Called by the source when the pipeline acknowledged the mark. */
  settle(): void {
    this.resolve();
  }
}

export type PgPosition = Lsn | ChunkMark;
