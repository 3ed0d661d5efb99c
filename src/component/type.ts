/**
 * The contract between the composition root and a component type: the config side
 * (`config/component-spec.ts`) plus how to build one. Every source and sink type implements it;
 * `src/components.ts` lists them (docs/architecture.md).
 */
import type { Resolved, SectionSpec } from '../config/fields.ts';
import type { ComponentSpec } from '../config/component-spec.ts';
import type { StreamerError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../metrics/catalogue.ts';
import type { StateStore } from '../state/store.ts';

export type { OptionProblem, ValidationContext } from '../config/component-spec.ts';

/** What a component gets from the composition root. */
export interface ComponentDeps {
  log: Logger;
  store: StateStore;
  /** The program's metrics (src/metrics/catalogue.ts): every component updates these, never a module-level set. */
  metrics: Metrics;
  /** For a source: the names of the sinks subscribed to it (the original's Kafka source lists them in its stats). */
  sinkNames?: readonly string[];
  /** For a source: asks its sinks to get ready for what it reads (Sink.prepareFor); never rejects. */
  prepareSinks?: () => Promise<void>;
  /**
   * For a source: stops the whole process with exit code 3 after a graceful stop of everything else,
   * when it refuses to go on until an operator acts (a StreamerError with code REFUSED).
   */
  halt?: (err: StreamerError) => void;
  /** The config file, for commands named in messages (`reset-position -config FILE`). */
  configFile?: string;
  /** `--accept-gap` was given: a source may accept one gap in its changes at its first start (docs/operations.md). */
  acceptGap?: boolean;
  /**
   * For a source whose work ends (`snapshot = "initial_only"`): registers it and returns what it
   * calls when done (`ok` false: it failed). Once every registered source is done, the process
   * stops gracefully: exit 0 when all went well, 1 otherwise.
   */
  finishing?: () => (ok: boolean) => void;
}

/**
 * Declares one `type = "..."` of `[source.NAME]` or `[sink.NAME]`: its spec and how to build it.
 * `create` imports heavy modules lazily, so a config that does not use Kafka never loads the Kafka
 * client.
 */
export interface ComponentType<S extends SectionSpec, C> extends ComponentSpec<S> {
  create(name: string, options: Resolved<S>, deps: ComponentDeps): Promise<C>;
}

/** Helper that keeps literal spec types while type-checking the declaration. */
export function defineComponentType<const S extends SectionSpec, C>(def: ComponentType<S, C>): ComponentType<S, C> {
  return def;
}
