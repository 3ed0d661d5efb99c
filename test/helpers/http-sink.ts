/**
 * Building HTTP sinks for tests: on their own (resolved options from the spec's defaults), or
 * inside the real app in this process, fed by the counting test source (a real pipeline with its
 * retries and backoff, a SQLite state file) so delivery scenarios run without a database.
 */
import { parse } from 'smol-toml';
import { join } from 'node:path';
import type { App } from '../../src/app.ts';
import { startApp } from '../../src/app.ts';
import { sinkTypes, sourceTypes } from '../../src/components.ts';
import type { SectionSpec } from '../../src/config/fields.ts';
import { formatProblem, parseConfig } from '../../src/config/parse.ts';
import { Logger } from '../../src/core/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.ts';
import { createHttpSink } from '../../src/sinks/http/sink.ts';
import { httpSinkOptions, type HttpSinkOptions } from '../../src/sinks/http/spec.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import { countingSourceType } from './counting-source.ts';
import { readPersisted } from './streamer.ts';

/** The sink's resolved options: the config defaults, then `overrides`. */
export function httpOptions(overrides: Partial<HttpSinkOptions> & Pick<HttpSinkOptions, 'url'>): HttpSinkOptions {
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(httpSinkOptions as SectionSpec)) if (field.default !== undefined) defaults[key] = structuredClone(field.default);
  return { ...(defaults as HttpSinkOptions), ...overrides };
}

export function makeHttpSink(name: string, overrides: Partial<HttpSinkOptions> & Pick<HttpSinkOptions, 'url'>, metrics: Metrics = createMetrics()): Promise<Sink> {
  return createHttpSink(name, httpOptions(overrides), { log: Logger.for('Sink-HTTP', name), metrics });
}

/** The app running counting source `numbers` (1..count) → HTTP sink `hook`, in this process. */
export interface CountingApp {
  app: App;
  stateFile: string;
  /** The position the source persisted (the last acknowledged number). */
  persisted(): bigint;
  /** The pipeline's status line (null while healthy). */
  pipelineStatus(): string | null;
  /** The text of /metrics. */
  metrics(): Promise<string>;
}

/**
 * Starts counting source → HTTP sink with `sinkLines` (TOML lines of `[sink.hook]`, `url` and
 * `sources` are added) in `dir`; `pipeline` adds lines to the source (batch size, retry intervals).
 */
export async function startCountingToHttp(dir: string, c: { url: string; count: number; batchSize?: number; sinkLines?: string; sourceLines?: string; env?: Record<string, string> }): Promise<CountingApp> {
  const stateFile = join(dir, 'state.db');
  const text = `
http = "127.0.0.1:0"
boltdb = "${stateFile}"
shutdownTimeout = "20s"

[source.numbers]
type = "counting"
count = ${c.count}
batchSize = ${c.batchSize ?? 100}
batchFlushInterval = "20ms"
sendRetryInterval = "20ms"
maxRetryInterval = "200ms"
${c.sourceLines ?? ''}

[sink.hook]
type = "http"
url = "${c.url}"
sources = ["numbers"]
${c.sinkLines ?? ''}
`;
  const result = parseConfig(parse(text, { integersAsBigInt: true }), {
    file: join(dir, 'test.toml'),
    text,
    env: { ...process.env, ...c.env },
    types: { sources: { ...sourceTypes, counting: countingSourceType }, sinks: sinkTypes },
  });
  if ('errors' in result) throw new Error(result.errors.map(formatProblem).join('\n'));
  const app = await startApp(result.config);
  const pipeline = () => app.components().find((c) => c.type.startsWith('Pipeline'));
  return {
    app,
    stateFile,
    persisted: () => readPersisted(stateFile, 'numbers'),
    pipelineStatus: () => pipeline()?.status() ?? null,
    metrics: async () => (await fetch(`${app.httpUrl}/metrics`)).text(),
  };
}

/** The `n` column of received events (the counting source's numbers). */
export const numbersOf = (events: ReadonlyArray<Record<string, unknown>>): number[] => events.map((e) => (e.Columns as { n: number }).n);

/** Whether each number 1..count is in `numbers`, and their first occurrences are in order. */
export function firstOccurrences(numbers: readonly number[]): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (const n of numbers) {
    if (seen.has(n)) continue;
    seen.add(n);
    out.push(n);
  }
  return out;
}

/** The sum of a metric's samples whose labels include every `labels` pair, from /metrics text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
