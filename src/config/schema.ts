/**
 * The shape of a loaded configuration and the keys that are not specific to one component type:
 * the global keys, the pipeline keys of every `[source.NAME]`, and the keys every source or sink
 * carries. Component keys live next to their component (each source and sink folder has its spec);
 * the composition root hands their specs in, so the shapes here are generic in the spec type.
 */
import type { ComponentSpec, OptionProblem } from './component-spec.ts';
import type { LogFormat, LogLevel } from '../core/logger.ts';
import { defineSection, nonNegative, positive, type Resolved, type SectionSpec } from './fields.ts';
import { formatDuration } from './duration.ts';
import type { ConfigProblem, Location } from './problems.ts';

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.%\w]+\]|[^\s:[\]]*):(\d{1,5})$/;

/** Checks a `host:port` address (host may be empty for all interfaces, or a bracketed IPv6 address). */
export function hostPort(value: string): string | undefined {
  const m = HOST_PORT.exec(value);
  return m && Number(m[1]) <= 65535 ? undefined : 'host:port, e.g. "127.0.0.1:12080"';
}

const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/** A bearer token (RFC 6750 b64token) long enough not to be guessed; "" means none. */
export function bearerToken(value: string): string | undefined {
  if (value === '') return undefined;
  if (!TOKEN.test(value)) return 'letters, digits and -._~+/ only (e.g. the output of "openssl rand -hex 32")';
  return value.length >= 16 ? undefined : 'at least 16 characters (e.g. the output of "openssl rand -hex 32")';
}

/** Top-level keys (besides the `[source.*]` and `[sink.*]` tables). */
export const globalSpec = defineSection({
  http: {
    kind: 'string', required: true, original: true, check: hostPort,
    doc: 'Listen address of the HTTP API (the status page at /, /health, /status, /stats, /debug, /metrics) as host:port; 127.0.0.1 keeps it local',
  },
  httpToken: {
    kind: 'string', secret: true, check: bearerToken,
    doc: 'Bearer token the HTTP API asks for (`Authorization: Bearer TOKEN`) on the control endpoints (/debug/on, /debug/off), or on more with httpAuth; empty or unset = no token. Keep it out of the file: "${PSQL_STREAMER_HTTP_TOKEN}"',
  },
  httpAuth: {
    kind: 'string', default: 'control', choices: ['control', 'all'],
    doc: 'What httpToken guards: "control" (the endpoints that change something) or "all" (everything but /health and /metrics, which probes and scrapers read; the status page at / loads, but shows the status only once given the token)',
  },
  httpTlsCertFile: {
    kind: 'path',
    doc: 'PEM certificate (chain) of the HTTP API: with httpTlsKeyFile the API is served over HTTPS only',
  },
  httpTlsKeyFile: {
    kind: 'path', secret: true,
    doc: 'PEM private key of httpTlsCertFile',
  },
  tickerInterval: {
    kind: 'duration', default: 0, original: true, check: nonNegative,
    doc: 'How often every source and sink logs its statistics; "0" turns it off',
  },
  boltdb: {
    kind: 'path', aliases: ['stateFile'], original: true,
    doc: 'Path of the state file (SQLite) that keeps each source\'s position across restarts; required when a postgres source is configured',
  },
  logLevel: {
    kind: 'string', default: 'info', choices: ['error', 'warn', 'info', 'debug'],
    doc: 'Least severe log level written to stderr',
  },
  logFormat: {
    kind: 'string', default: 'text', choices: ['text', 'json'],
    doc: 'Log line format: "text" (the original\'s layout, with levels) or "json" (one object per line)',
  },
  shutdownTimeout: {
    kind: 'duration', default: 30_000, check: positive,
    doc: 'On SIGTERM/SIGINT, how long to wait for in-flight batches to be delivered and persisted before forcing exit',
  },
  memoryTarget: {
    kind: 'size', default: 0, check: nonNegative,
    doc: 'RSS above which the streamer forces full garbage collections (at most 10% of the time) instead of letting garbage pile up to the engine\'s own limit: a lower peak for some CPU (docs/deploy.md, "Memory"); "0" leaves it to the engine',
  },
});

/** How the HTTP API is protected, resolved from the global keys. */
export interface HttpSecurity {
  /** Bearer token; undefined when none is configured. */
  token?: string;
  /** What the token guards: the control endpoints, or everything but /health and /metrics. */
  auth: 'control' | 'all';
  /** Serve HTTPS with these PEM files. */
  tls?: { certFile: string; keyFile: string };
}

/** The HTTP security settings from the parsed global keys, with the rules between them. */
export function resolveHttpSecurity(values: Record<string, unknown>): { security: HttpSecurity; problems: OptionProblem[] } {
  const v = values as Partial<Resolved<typeof globalSpec>>;
  const problems: OptionProblem[] = [];
  const security: HttpSecurity = { auth: (v.httpAuth ?? 'control') as HttpSecurity['auth'] };
  if (v.httpToken) security.token = v.httpToken;
  if (security.auth === 'all' && !security.token) {
    problems.push({ key: 'httpAuth', message: 'httpAuth = "all" needs httpToken (empty or unset here): set the token, or remove httpAuth' });
  }
  const certFile = v.httpTlsCertFile || undefined;
  const keyFile = v.httpTlsKeyFile || undefined;
  if (certFile && !keyFile) problems.push({ key: 'httpTlsCertFile', message: 'needs httpTlsKeyFile (the private key of the certificate)' });
  if (keyFile && !certFile) problems.push({ key: 'httpTlsKeyFile', message: 'needs httpTlsCertFile (the certificate of this key)' });
  if (certFile && keyFile) security.tls = { certFile, keyFile };
  return { security, problems };
}

/** Batching, retry and memory keys of every `[source.NAME]`: they configure the source's pipeline. */
export const pipelineSpec = defineSection({
  batchSize: {
    kind: 'int', default: 100, original: true, check: positive,
    doc: 'Events per batch delivered to the sinks; a full batch is flushed at once',
  },
  batchFlushInterval: {
    kind: 'duration', default: 1000, original: true, check: positive,
    doc: 'A batch that is not full is flushed after this long',
  },
  sendRetryInterval: {
    kind: 'duration', default: 100, original: true, check: positive,
    doc: 'First wait before retrying a batch a sink failed; later waits double up to maxRetryInterval',
  },
  maxRetryInterval: {
    kind: 'duration', defaultText: 'max(30s, sendRetryInterval)', check: positive,
    doc: 'Cap of the exponential retry backoff; at least sendRetryInterval',
  },
  maxBufferedEvents: {
    kind: 'int', defaultText: 'max(10000, 4 × batchSize)', check: positive,
    doc: 'Events held between the source and its sinks before the source stops reading (back-pressure); at least batchSize',
  },
  maxBufferedBytes: {
    kind: 'size', default: 64 * 2 ** 20, check: positive,
    doc: 'Bytes of events held between the source and its sinks before the source stops reading (back-pressure)',
  },
});

/** Keys every source and sink accepts. */
export const flagsSpec = defineSection({
  verbose: { kind: 'bool', default: false, original: true, doc: 'Log one line per event' },
  debug: { kind: 'bool', default: false, original: true, doc: 'Debug logging for this component; can be toggled at runtime with /debug/on and /debug/off' },
});

/** Keys every sink accepts besides the flags. */
export const subscriptionSpec = defineSection({
  sources: {
    kind: 'stringList', required: true, unique: true, original: true,
    doc: 'Names of the sources whose events this sink receives (exact, case-sensitive)',
  },
});

/** The pipeline of one source, resolved. Durations in milliseconds. */
export interface PipelineSettings {
  batchSize: number;
  batchFlushIntervalMs: number;
  sendRetryIntervalMs: number;
  maxRetryIntervalMs: number;
  maxBufferedEvents: number;
  maxBufferedBytes: number;
}

/** One `[source.NAME]`. `options` holds the values of `kind.options` (as `Resolved<typeof kind.options>`). */
export interface SourceConfig<K extends ComponentSpec = ComponentSpec> {
  name: string;
  type: string;
  /** The registered type this section uses, as the composition root handed it to the parser. */
  kind: K;
  options: Resolved<SectionSpec>;
  pipeline: PipelineSettings;
  verbose: boolean;
  debug: boolean;
  /** Where the section starts in the file, for runtime messages. */
  location?: Location;
}

/** One `[sink.NAME]`. `options` holds the values of `kind.options` (as `Resolved<typeof kind.options>`). */
export interface SinkConfig<K extends ComponentSpec = ComponentSpec> {
  name: string;
  type: string;
  kind: K;
  options: Resolved<SectionSpec>;
  /** Names of the sources it subscribes to, each defined in `Config.sources`. */
  sources: string[];
  verbose: boolean;
  debug: boolean;
  location?: Location;
}

/**
 * A loaded, validated configuration file. Sections are in file order. `Src`/`Snk` are the spec types
 * the parser was given (the composition root's carry `create`).
 */
export interface Config<Src extends ComponentSpec = ComponentSpec, Snk extends ComponentSpec = ComponentSpec> {
  file: string;
  http: string;
  /** Token, scope and TLS of the HTTP API (docs/operations.md, "HTTP API security"). */
  httpSecurity: HttpSecurity;
  tickerIntervalMs: number;
  /** Path of the SQLite state file (`boltdb`/`stateFile`); undefined when not set. */
  stateFile?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  shutdownTimeoutMs: number;
  /** `memoryTarget` in bytes; 0 = the engine decides alone (core/heap-guard.ts). */
  memoryTargetBytes: number;
  sources: SourceConfig<Src>[];
  sinks: SinkConfig<Snk>[];
  /** Accepted but worth telling the operator (ignored keys, a source no sink reads, ...). */
  warnings: ConfigProblem[];
}

/**
 * A component type that keeps positions in the state file (the postgres source) declares
 * `needsStateFile: true`; a config using it without `boltdb`/`stateFile` is rejected.
 */
export function needsStateFile(kind: ComponentSpec): boolean {
  return kind.needsStateFile === true;
}

/**
 * The pipeline settings of a source from its parsed `pipelineSpec` values, with the defaults that
 * depend on other keys and the rules between keys.
 */
export function resolvePipeline(values: Record<string, unknown>): { pipeline: PipelineSettings; problems: OptionProblem[] } {
  const v = values as Resolved<typeof pipelineSpec>;
  const problems: OptionProblem[] = [];
  let maxRetryIntervalMs = v.maxRetryInterval ?? Math.max(30_000, v.sendRetryInterval);
  if (maxRetryIntervalMs < v.sendRetryInterval) {
    problems.push({ key: 'maxRetryInterval', message: `expected at least sendRetryInterval (${formatDuration(v.sendRetryInterval)}), found ${formatDuration(maxRetryIntervalMs)}` });
    maxRetryIntervalMs = v.sendRetryInterval;
  }
  const maxBufferedEvents = v.maxBufferedEvents ?? Math.max(10_000, 4 * v.batchSize);
  if (maxBufferedEvents < v.batchSize) {
    problems.push({ key: 'maxBufferedEvents', message: `expected at least batchSize (${v.batchSize}) so that a full batch fits, found ${maxBufferedEvents}` });
  }
  return {
    pipeline: {
      batchSize: v.batchSize,
      batchFlushIntervalMs: v.batchFlushInterval,
      sendRetryIntervalMs: v.sendRetryInterval,
      maxRetryIntervalMs,
      maxBufferedEvents,
      maxBufferedBytes: v.maxBufferedBytes,
    },
    problems,
  };
}
