/**
 * The list of component types: every `type = "..."` a `[source.NAME]` or `[sink.NAME]` may use.
 * Part of the composition root (with `app.ts`): the one place that names each source and sink,
 * and hands their specs to the config parser, so `config/` imports no implementation
 * (docs/architecture.md). Adding a source or sink: one folder exporting a type, one line here.
 */
import type { ComponentType } from './component/type.ts';
import type { ComponentSpecs } from './config/component-spec.ts';
import type { SectionSpec } from './config/fields.ts';
import type { Env } from './config/coerce.ts';
import { configFromText as configFromTextWith, loadConfig as loadConfigWith } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { fileSinkType } from './sinks/file/file.ts';
import { httpSinkType } from './sinks/http/spec.ts';
import { kafkaSinkType } from './sinks/kafka/spec.ts';
import { natsSinkType } from './sinks/nats/spec.ts';
import type { Sink } from './sinks/sink.ts';
import { stubDiscardSinkType, stubLogSinkType } from './sinks/stub.ts';
import { kafkaSourceType } from './sources/kafka/spec.ts';
import { postgresSourceType } from './sources/postgres/spec.ts';
import type { Source } from './sources/source.ts';

export type SourceType = ComponentType<SectionSpec, Source>;
export type SinkType = ComponentType<SectionSpec, Sink>;
/** A configuration whose sections carry buildable types: what the app starts from. */
export type AppConfig = Config<SourceType, SinkType>;

/** Every source type, by its config `type`. */
export const sourceTypes: Readonly<Record<string, SourceType>> = {
  postgres: postgresSourceType,
  kafka: kafkaSourceType,
};

/** Every sink type, by its config `type`. */
export const sinkTypes: Readonly<Record<string, SinkType>> = {
  kafka: kafkaSinkType,
  stub_log: stubLogSinkType,
  stub_discard: stubDiscardSinkType,
  file: fileSinkType,
  http: httpSinkType,
  nats: natsSinkType,
};

/** Both lists, as the config parser takes them. */
export const componentTypes: ComponentSpecs<SourceType, SinkType> = { sources: sourceTypes, sinks: sinkTypes };

/** Parses TOML text with every registered type (`config/load.ts`); throws a ConfigError naming every problem. */
export function configFromText(file: string, text: string, env: Env = process.env): AppConfig {
  return configFromTextWith(file, text, componentTypes, env);
}

/** Reads and validates the TOML config `file` with every registered type; throws a ConfigError naming every problem. */
export function loadConfig(file: string, env: Env = process.env): Promise<AppConfig> {
  return loadConfigWith(file, componentTypes, env);
}
