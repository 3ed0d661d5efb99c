/**
 * A parsed TOML document → a validated `Config`, or every problem found in it. Pure: the text is
 * used only to locate problems (`FILE:LINE:COL`), the environment only for `${VAR}`. The component
 * types come from the caller (the composition root, `src/components.ts`), never from an import.
 */
import type { ComponentSpec, ComponentSpecs } from './component-spec.ts';
import { coerceValue, isTable, type Env } from './coerce.ts';
import type { Resolved, SectionSpec } from './fields.ts';
import { locate, scanKeys, type KeyEntry } from './locate.ts';
import { formatPath, type ConfigProblem } from './problems.ts';
import {
  flagsSpec, globalSpec, needsStateFile, pipelineSpec, resolveHttpSecurity, resolvePipeline, subscriptionSpec,
  type Config, type SinkConfig, type SourceConfig,
} from './schema.ts';
import { parseSection, type Finding, type SectionPlace } from './section.ts';
import { didYouMean } from '../core/suggest.ts';

export { formatProblem } from './problems.ts';

export interface ParseContext<Src extends ComponentSpec = ComponentSpec, Snk extends ComponentSpec = ComponentSpec> {
  /** File name used in problems. */
  file: string;
  /** The TOML text the document came from, to locate problems; may be empty. */
  text: string;
  env: Env;
  /** The component types a config may use, by `type` value. */
  types: ComponentSpecs<Src, Snk>;
}

export type ParseResult<Src extends ComponentSpec = ComponentSpec, Snk extends ComponentSpec = ComponentSpec> =
  | { config: Config<Src, Snk> }
  | { errors: ConfigProblem[]; warnings: ConfigProblem[] };

type Side = 'source' | 'sink';

/** One `[source.NAME]` or `[sink.NAME]` table as found in the document. */
interface Entry {
  name: string;
  table: unknown;
  place: SectionPlace;
}

class Findings {
  readonly errors: Finding[] = [];
  readonly warnings: Finding[] = [];

  error(raw: string[], shown: string[], message: string): void {
    this.errors.push({ raw, shown, message });
  }

  add(result: { errors: Finding[]; warnings: Finding[] }): void {
    this.errors.push(...result.errors);
    this.warnings.push(...result.warnings);
  }
}

/** The tables under `source`/`sink` (any case: keys are case-insensitive), names kept as written. */
function collectEntries(root: Record<string, unknown>, side: Side, findings: Findings): Entry[] {
  const entries: Entry[] = [];
  for (const [key, value] of Object.entries(root)) {
    if (key.toLowerCase() !== side) continue;
    if (!isTable(value)) {
      findings.error([key], [side], `expected [${side}.NAME] tables, found ${Array.isArray(value) ? 'an array' : 'a value'}`);
      continue;
    }
    for (const [name, table] of Object.entries(value)) {
      const place = { raw: [key, name], shown: [side, name] };
      if (entries.some((e) => e.name === name)) findings.error(place.raw, place.shown, `${side} "${name}" is defined twice`);
      else if (name.trim() === '') findings.error(place.raw, place.shown, `expected a ${side} name, found ""`);
      else entries.push({ name, table, place });
    }
  }
  return entries;
}

interface ParsedSection<K extends ComponentSpec> {
  name: string;
  type: string;
  kind: K;
  /** Keys that parsed; a key with an error is absent. */
  values: Record<string, unknown>;
  /** True when every key parsed and the type's own rules hold. */
  ok: boolean;
  place: SectionPlace;
  written: Map<string, string>;
}

/** Parses one section: its `type`, then its keys against the type's spec plus `commonSpec`. */
function parseComponent<K extends ComponentSpec>(
  entry: Entry,
  side: Side,
  types: Readonly<Record<string, K>>,
  commonSpec: SectionSpec,
  env: Env,
  findings: Findings,
): ParsedSection<K> | undefined {
  const { place } = entry;
  if (!isTable(entry.table)) {
    findings.error(place.raw, place.shown, `expected a table ([${side}.${formatPath([entry.name])}]), found a value`);
    return undefined;
  }
  const table = entry.table;
  const typeKey = Object.keys(table).find((k) => k.toLowerCase() === 'type');
  const known = Object.keys(types);
  const choices = known.map((t) => `"${t}"`).join(', ');
  if (typeKey === undefined) {
    findings.error([...place.raw, 'type'], [...place.shown, 'type'], `required key is missing: the ${side} type, one of ${choices}`);
    return undefined;
  }
  const type = coerceValue({ kind: 'string', doc: '', choices: known }, table[typeKey], env);
  if (!type.ok || typeof type.value !== 'string') {
    findings.error([...place.raw, typeKey], [...place.shown, 'type'], `unknown ${side} type: ${type.ok ? '' : type.message}`);
    return undefined;
  }
  const kind = types[type.value]!;
  const spec: SectionSpec = side === 'source' ? { ...kind.options, ...commonSpec } : { ...commonSpec, ...kind.options };
  const section = parseSection({ spec, table, place, env, ignoredKeys: kind.ignoredKeys, reservedKeys: ['type'] });
  findings.add(section);
  const parsed = { name: entry.name, type: type.value, kind, values: section.values, ok: section.errors.length === 0, place, written: section.written };
  // Cross-key rules assume every key parsed; with key errors they would only add noise.
  if (!parsed.ok) return parsed;
  const options = pick(section.values, Object.keys(kind.options));
  for (const problem of kind.validate?.(options as Resolved<SectionSpec>, { env }) ?? []) {
    findings.error([...place.raw, section.written.get(problem.key) ?? problem.key], [...place.shown, problem.key], problem.message);
    parsed.ok = false;
  }
  return parsed;
}

function pick(values: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in values).map((k) => [k, values[k]]));
}

/** Validates a parsed TOML document; every problem is reported, none thrown. */
export function parseConfig<Src extends ComponentSpec, Snk extends ComponentSpec>(raw: unknown, ctx: ParseContext<Src, Snk>): ParseResult<Src, Snk> {
  const types = ctx.types;
  const findings = new Findings();
  const keys = scanKeys(ctx.text);
  const located = (f: Finding): ConfigProblem => ({ file: ctx.file, ...locate(keys, f.raw), path: formatPath(f.shown), message: f.message });
  const fail = (): ParseResult<Src, Snk> => ({ errors: sortByPosition(findings.errors.map(located)), warnings: findings.warnings.map(located) });

  if (!isTable(raw)) {
    findings.error([], [], 'expected a TOML document with key = value pairs and [tables]');
    return fail();
  }
  const top = parseSection({ spec: globalSpec, table: raw, place: { raw: [], shown: [] }, env: ctx.env, reservedKeys: ['source', 'sink'] });
  findings.add(top);
  const global = top.values as Partial<Resolved<typeof globalSpec>>;
  const http = resolveHttpSecurity(top.values);
  // A key that failed on its own (absent from values) would only add noise to the rules between keys.
  const brokenKey = [...top.written.keys()].some((k) => !(k in top.values));
  if (!brokenKey) for (const p of http.problems) findings.error([top.written.get(p.key) ?? p.key], [p.key], p.message);

  const sourceEntries = byPosition(collectEntries(raw, 'source', findings), keys);
  const sinkEntries = byPosition(collectEntries(raw, 'sink', findings), keys);
  const malformed = (side: Side) => findings.errors.some((f) => f.raw.length === 1 && f.shown[0] === side);
  if (sourceEntries.length === 0 && !malformed('source')) findings.error(['source'], ['source'], 'no sources defined: add at least one [source.NAME] table');
  if (sinkEntries.length === 0 && !malformed('sink')) findings.error(['sink'], ['sink'], 'no sinks defined: add at least one [sink.NAME] table');

  const sourceCommon = { ...pipelineSpec, ...flagsSpec };
  const sinkCommon = { ...subscriptionSpec, ...flagsSpec };
  const parsedSources = sourceEntries.map((e) => parseComponent(e, 'source', types.sources, sourceCommon, ctx.env, findings));
  const parsedSinks = sinkEntries.map((e) => parseComponent(e, 'sink', types.sinks, sinkCommon, ctx.env, findings));
  const sourceNames = sourceEntries.map((e) => e.name);
  const keyOf = (p: ParsedSection<ComponentSpec>, key: string) => ({ raw: [...p.place.raw, p.written.get(key) ?? key], shown: [...p.place.shown, key] });

  const sources: SourceConfig<Src>[] = [];
  for (const parsed of parsedSources) {
    if (!parsed) continue;
    const stateFileBroken = top.written.has('boltdb') && global.boltdb === undefined;
    if (!global.boltdb && !stateFileBroken && needsStateFile(parsed.kind)) {
      findings.error(parsed.place.raw, parsed.place.shown, `${parsed.type} source "${parsed.name}" needs a state file to keep its position: set boltdb = "/var/lib/psql-streamer/state.db" (or stateFile = ...) at the top of the file`);
    }
    // Only when every sink's subscriptions are known: a broken sink may be the one that lists it.
    const subscriptionsKnown = parsedSinks.every((sink) => sink?.values.sources !== undefined);
    if (subscriptionsKnown && sinkEntries.length > 0 && !parsedSinks.some((sink) => (sink?.values.sources as string[]).includes(parsed.name))) {
      findings.warnings.push({ ...parsed.place, message: 'no sink lists this source in its sources: its events will be read and dropped' });
    }
    if (!parsed.ok) continue;
    const { pipeline, problems } = resolvePipeline(pick(parsed.values, Object.keys(pipelineSpec)));
    for (const p of problems) {
      const at = keyOf(parsed, p.key);
      findings.error(at.raw, at.shown, p.message);
    }
    sources.push({
      name: parsed.name,
      type: parsed.type,
      kind: parsed.kind,
      options: pick(parsed.values, Object.keys(parsed.kind.options)) as Resolved<SectionSpec>,
      pipeline,
      verbose: parsed.values.verbose as boolean,
      debug: parsed.values.debug as boolean,
      location: locate(keys, parsed.place.raw),
    });
  }

  const sinks: SinkConfig<Snk>[] = [];
  for (const parsed of parsedSinks) {
    if (!parsed) continue;
    const subscribed = parsed.values.sources as string[] | undefined;
    for (const name of (subscribed ?? []).filter((n) => !sourceNames.includes(n))) {
      const hint = didYouMean(name, sourceNames) || `; defined sources: ${sourceNames.map((n) => `"${n}"`).join(', ') || 'none'}`;
      const at = keyOf(parsed, 'sources');
      findings.error(at.raw, at.shown, `source "${name}" is not defined${hint}`);
    }
    if (!parsed.ok || subscribed === undefined) continue;
    sinks.push({
      name: parsed.name,
      type: parsed.type,
      kind: parsed.kind,
      options: pick(parsed.values, Object.keys(parsed.kind.options)) as Resolved<SectionSpec>,
      sources: subscribed,
      verbose: parsed.values.verbose as boolean,
      debug: parsed.values.debug as boolean,
      location: locate(keys, parsed.place.raw),
    });
  }

  if (findings.errors.length > 0) return fail();
  return {
    config: {
      file: ctx.file,
      http: global.http!,
      httpSecurity: http.security,
      tickerIntervalMs: global.tickerInterval!,
      stateFile: global.boltdb === '' ? undefined : global.boltdb,
      logLevel: global.logLevel as Config['logLevel'],
      logFormat: global.logFormat as Config['logFormat'],
      shutdownTimeoutMs: global.shutdownTimeout!,
      memoryTargetBytes: global.memoryTarget!,
      sources,
      sinks,
      warnings: sortByPosition(findings.warnings.map(located)),
    },
  };
}

/** Sections in the order they are written (object order puts integer-like names first). */
function byPosition(entries: Entry[], keys: readonly KeyEntry[]): Entry[] {
  const line = (e: Entry) => locate(keys, e.place.raw)?.line ?? Infinity;
  return entries.map((e) => ({ e, line: line(e) })).sort((a, b) => a.line - b.line).map(({ e }) => e);
}

/** Problems in file order; those without a position last. */
function sortByPosition(problems: ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem) => [p.line ?? Infinity, p.column ?? 0] as const;
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p)[0] - rank(b.p)[0] || rank(a.p)[1] - rank(b.p)[1] || a.i - b.i)
    .map(({ p }) => p);
}
