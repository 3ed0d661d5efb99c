/**
 * The PostgreSQL source's pipeline positions: commit LSNs, and the marks that follow a snapshot
 * chunk's rows. The pipeline acknowledges both in push order, so a mark comes back once every row
 * of its chunk (and everything before) reached every sink: then the chunk's progress is persisted.
 */
import type { Lsn } from '../../../replication/lsn.ts';

export class ChunkMark {
  /** Resolves true once the mark was acknowledged, false once given up (never rejects). */
  readonly delivered: Promise<boolean>;
  private resolve!: (delivered: boolean) => void;

  constructor() {
    this.delivered = new Promise<boolean>((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Called by the source when the pipeline acknowledged the mark. */
  settle(): void {
    this.resolve(true);
  }

  /** The source closed without the mark acknowledged: it never will be (a later settle() changes nothing). */
  abandon(): void {
    this.resolve(false);
  }
}

export type PgPosition = Lsn | ChunkMark;
