/**
 * What the config parser needs to know about one `type = "..."` of `[source.NAME]` or
 * `[sink.NAME]`: its keys and rules, not how to build it. The composition root (`src/components.ts`)
 * hands the parser these specs; `config/` itself imports no source or sink (docs/architecture.md).
 */
import type { Resolved, SectionSpec } from './fields.ts';

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

/** The config side of a component type: its `type` value, its keys (one source of truth for defaults and docs), its rules. */
export interface ComponentSpec<S extends SectionSpec = SectionSpec> {
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
}

/** The component types a config may use, by `type` value; each side keeps its own spec type. */
export interface ComponentSpecs<Src extends ComponentSpec = ComponentSpec, Snk extends ComponentSpec = ComponentSpec> {
  sources: Readonly<Record<string, Src>>;
  sinks: Readonly<Record<string, Snk>>;
}
