import type { Resolved, SectionSpec } from '../config/fields.ts';
import type { StreamerError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { StateStore } from '../state/store.ts';

/** A problem found by a component type's cross-key validation, reported with the config file's other errors. */
export interface OptionProblem {
  /** Key within the section, e.g. `topicFallback`. */
  key: string;
  /** What is wrong and what is expected. */
  message: string;
}

/** What cross-key validation may read besides the options: the environment `${VAR}` and `PG*` come from. */
export interface ValidationContext {
  env: Readonly<Record<string, string | undefined>>;
}

/** What a component gets from the composition root. */
export interface ComponentDeps {
  log: Logger;
  store: StateStore;
  /** For a source: the names of the sinks subscribed to it (the original's Kafka source lists them in its stats). */
  sinkNames?: readonly string[];
  /**
   * For a source: stops the whole process with exit code 3 after a graceful stop of everything else,
   * when it refuses to go on until an operator acts (a StreamerError with code REFUSED).
   */
  halt?: (err: StreamerError) => void;
  /** The config file, for commands named in messages (`reset-position -config FILE`). */
  configFile?: string;
  /** `--accept-gap` was given: a source may accept one gap in its changes at its first start (docs/operations.md). */
  acceptGap?: boolean;
}

/**
 * Declares one `type = "..."` of `[source.NAME]` or `[sink.NAME]`: its keys (one source of truth for
 * defaults and docs) and how to build it. `create` imports heavy modules lazily, so a config that
 * does not use Kafka never loads the Kafka client.
 */
export interface ComponentType<S extends SectionSpec, C> {
  /** Value of `type` in the config. */
  type: string;
  /** Type string for logs, stats and metric labels (`Sink-Stub`, `Source-PSQL`, ...). */
  componentType: string;
  /** Keys besides `type` (and `sources` for sinks). */
  options: S;
  /** True when the component keeps positions in the state file, so `boltdb`/`stateFile` is required. */
  needsStateFile?: boolean;
  /** Keys the original accepted but ignored; accepted here with a warning. */
  ignoredKeys?: readonly string[];
  /** Cross-key checks after every key parsed; no I/O (`check` must agree with startup). */
  validate?(options: Resolved<S>, context: ValidationContext): OptionProblem[];
  create(name: string, options: Resolved<S>, deps: ComponentDeps): Promise<C>;
}

/** Helper that keeps literal spec types while type-checking the declaration. */
export function defineComponentType<const S extends SectionSpec, C>(def: ComponentType<S, C>): ComponentType<S, C> {
  return def;
}
