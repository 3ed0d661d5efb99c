/**
 * What the stream learns from the catalog before it converts rows (catalog.ts), and the stream held
 * back meanwhile (catalog-gate.ts): the dispatch's side of catalog lookups. A lookup that fails is
 * logged and counted; the values of those types stay text and the key columns stay as PostgreSQL
 * flags them (docs/types.md).
 */
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ConnectOptions } from '../../pg/connection.ts';
import type { TypeRegistry } from '../../pgtypes/index.ts';
import { learnCatalog, unknownTypes } from './catalog.ts';
import { CatalogGate, type CatalogGateHooks } from './catalog-gate.ts';
import type { EventFactory } from './events.ts';

export interface CatalogLearnerHooks extends CatalogGateHooks {
  /** A lookup failed (the source counts it as an error). */
  lookupFailed(): void;
  /** The source was stopped: held frames are not replayed (they are re-read on the next start). */
  stopped(): boolean;
}

export class CatalogLearner {
  /** Frames held while a lookup runs (read on the hot path: `gate.held`). */
  readonly gate: CatalogGate;

  constructor(
    private readonly connection: ConnectOptions,
    private readonly types: TypeRegistry,
    private readonly events: EventFactory,
    private readonly log: Logger,
    private readonly hooks: CatalogLearnerHooks,
  ) {
    this.gate = new CatalogGate(hooks);
  }

  /**
   * Before any row of a relation is converted, learn what the Relation message does not say:
   * user-defined types (domains, enums, ...) and, for REPLICA IDENTITY FULL, the primary key
   * (pgoutput then flags every column as key, which would make a poor event key). Later frames are
   * held, in order, until the lookup finished.
   */
  learnFrom(typeOids: readonly number[], fullIdentityRelation?: number): void {
    const unknown = unknownTypes(this.types, typeOids);
    if (unknown.length === 0 && fullIdentityRelation === undefined) return;
    this.gate.wait(this.query(unknown, fullIdentityRelation), () => this.hooks.stopped());
  }

  /** Makes sure the types of these OIDs are known (user-defined ones are looked up), without holding the stream. */
  async learnTypes(typeOids: readonly number[]): Promise<void> {
    const unknown = unknownTypes(this.types, typeOids);
    if (unknown.length > 0) await this.query(unknown, undefined);
  }

  private async query(typeOids: number[], fullIdentityRelation: number | undefined): Promise<void> {
    try {
      await learnCatalog(this.connection, this.types, this.events, this.log, typeOids, fullIdentityRelation);
    } catch (err) {
      this.hooks.lookupFailed();
      this.log.warn(`Unable to read the catalog (user-defined types ${typeOids.join(', ') || 'none'} stay text; key columns as PostgreSQL flags them): ${describeError(err)}`);
    }
  }
}
