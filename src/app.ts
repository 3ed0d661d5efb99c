/**
 * The composition root (with its list of component types, `components.ts`): builds the state
 * store, sinks, sources and one pipeline per source from a validated config, serves HTTP, runs the
 * stats ticker, and stops everything in the order that keeps the delivery contract
 * (docs/delivery.md). Each section's type arrives with the config; `create` builds it
 * (docs/architecture.md).
 */
import { readFileSync } from 'node:fs';
import type { AppConfig } from './components.ts';
import { parseListenAddress } from './config/listen-address.ts';
import type { Component } from './core/component.ts';
import { describeError, StreamerError } from './core/errors.ts';
import { startHeapGuard, type HeapGuard } from './core/heap-guard.ts';
import type { HeapPolicy } from './core/heap-policy.ts';
import { Logger, configureLogging, log } from './core/logger.ts';
import { createHttpApp, renderStats } from './http/app.ts';
import { SAMPLE_INTERVAL_MS, StatusReporter } from './http/status-reporter.ts';
import { createMetrics } from './metrics/catalogue.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import type { Sink } from './sinks/sink.ts';
import type { SnapshotControl, SnapshotInfo } from './sources/postgres/snapshot/types.ts';
import type { Source } from './sources/source.ts';
import { createMemoryStateStore, openSqliteStateStore } from './state/sqlite-store.ts';
import type { StateStore } from './state/store.ts';

export interface App {
  /** Address the HTTP API listens on, e.g. `http://127.0.0.1:12080`. */
  readonly httpUrl: string;
  /** Sources, pipelines, then sinks: what `/status` and `/stats` list. */
  components(): readonly Component[];
  /** Resolves when a source refused to go on until an operator acts: the caller stops and exits with 3. */
  readonly halted: Promise<StreamerError>;
  /**
   * Resolves when every source whose work ends (`snapshot = "initial_only"`) is done, with true
   * when all of them succeeded: the caller stops, exit 0 (or 1).
   */
  readonly finished: Promise<boolean>;
  /**
   * Graceful stop: HTTP, ticker, sources stop reading, pipelines deliver and acknowledge what is in
   * flight, sources close (final confirmation), sinks close, store closes. Resolves true when
   * everything drained cleanly within `shutdownTimeout`.
   */
  stop(): Promise<boolean>;
  /** SIGHUP: every sink with output files reopens them; resolves with how many did (failures are logged). */
  reopen(): Promise<number>;
  /** Snapshots (initial copies and backfills) waiting or running now, of every source: the terminal's progress. */
  activeSnapshots(): SnapshotInfo[];
}

interface Running {
  source: Source;
  pipeline: Pipeline<unknown>;
}

/** True for addresses only this host reaches. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || hostname.startsWith('127.');
}

/** The PEM files of `httpTlsCertFile`/`httpTlsKeyFile`, read now so a missing one names itself. */
function readTls(tls: NonNullable<AppConfig['httpSecurity']['tls']>): { cert: string; key: string } {
  const read = (key: string, path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new StreamerError('CONFIG', `${key} = "${path}": cannot read it: ${describeError(err)}`, { cause: err, retryable: false });
    }
  };
  return { cert: read('httpTlsCertFile', tls.certFile), key: read('httpTlsKeyFile', tls.keyFile) };
}

/** The snapshot control of a source that has one (a PostgreSQL source's `snapshots`: docs/snapshots.md). */
function snapshotsOf(source: Source): SnapshotControl | undefined {
  const control = (source as { snapshots?: Partial<SnapshotControl> }).snapshots;
  return control !== undefined && typeof control.list === 'function' && typeof control.start === 'function' ? (control as SnapshotControl) : undefined;
}

/** Run-time choices from the command line. */
export interface StartOptions {
  /** `--accept-gap`: sources may accept one gap in their changes at their first start. */
  acceptGap?: boolean;
  /** The version line the status page and `/status.json` show (main.ts passes VERSION_LINE). */
  version?: string;
}

/** Builds and starts everything described by `config`. Throws (after cleaning up) when start fails. */
export async function startApp(config: AppConfig, options: StartOptions = {}): Promise<App> {
  configureLogging({ level: config.logLevel, format: config.logFormat });
  let haltedWith: StreamerError | undefined;
  let resolveHalted!: (err: StreamerError) => void;
  const halted = new Promise<StreamerError>((resolve) => {
    resolveHalted = resolve;
  });
  const halt = (err: StreamerError) => {
    if (haltedWith) return;
    haltedWith = err;
    resolveHalted(err);
  };
  let resolveFinished!: (ok: boolean) => void;
  const finished = new Promise<boolean>((resolve) => {
    resolveFinished = resolve;
  });
  let finishers = 0;
  let finishedCount = 0;
  let allOk = true;
  const finishing = () => {
    finishers++;
    let done = false;
    return (ok: boolean) => {
      if (done) return;
      done = true;
      allOk &&= ok;
      if (++finishedCount === finishers) resolveFinished(allOk);
    };
  };
  const store: StateStore = config.stateFile ? openSqliteStateStore(config.stateFile) : createMemoryStateStore();
  const metrics = createMetrics({ processMetrics: true });
  const sinks: Sink[] = [];
  const running: Running[] = [];
  let server: ReturnType<typeof Bun.serve> | undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let sampler: ReturnType<typeof setInterval> | undefined;
  let heapGuard: HeapGuard | undefined;

  const components = (): Component[] => [
    ...running.map((r) => r.source),
    ...running.map((r) => r.pipeline),
    ...sinks,
  ];

  const closeAll = async (): Promise<void> => {
    for (const sink of sinks) await sink.close().catch((err) => log.error(`Unable to close sink '${sink.name}': ${describeError(err)}`));
    store.close();
  };

  try {
    const sinksBySource = new Map<string, Sink[]>();
    for (const sinkConfig of config.sinks) {
      const logger = Logger.for(sinkConfig.kind.componentType, sinkConfig.name, { debug: sinkConfig.debug, verbose: sinkConfig.verbose });
      const sink = await sinkConfig.kind.create(sinkConfig.name, sinkConfig.options, { log: logger, store, metrics });
      sinks.push(sink);
      for (const sourceName of sinkConfig.sources) {
        sinksBySource.set(sourceName, [...(sinksBySource.get(sourceName) ?? []), sink]);
      }
      log.info(`Sink '${sinkConfig.name}' loaded (subscribed to: ${sinkConfig.sources.join(', ')})`);
    }

    for (const sourceConfig of config.sources) {
      const logger = Logger.for(sourceConfig.kind.componentType, sourceConfig.name, { debug: sourceConfig.debug, verbose: sourceConfig.verbose });
      const sourceSinks = sinksBySource.get(sourceConfig.name) ?? [];
      const source = await sourceConfig.kind.create(sourceConfig.name, sourceConfig.options, {
        log: logger,
        store,
        metrics,
        sinkNames: sourceSinks.map((s) => s.name),
        prepareSinks: async () => {
          await Promise.allSettled(sourceSinks.map((sink) => sink.prepareFor?.(sourceConfig.name)));
        },
        halt,
        acceptGap: options.acceptGap ?? false,
        configFile: config.file,
        finishing,
      });
      const pipeline = new Pipeline<unknown>({
        name: sourceConfig.name,
        source,
        sinks: sourceSinks,
        log: Logger.for('Pipeline', sourceConfig.name, { debug: sourceConfig.debug }),
        metrics,
        ...sourceConfig.pipeline,
      });
      running.push({ source, pipeline });
      log.info(`Source '${sourceConfig.name}' loaded`);
    }

    metrics.onCollect(() => {
      for (const c of components()) metrics.componentUp.set({ name: c.name, type: c.type }, c.status() === null ? 1 : 0);
    });
    // The source registers its snapshot metrics itself; the API only needs the control.
    const snapshots = new Map<string, SnapshotControl>();
    for (const { source } of running) {
      const control = snapshotsOf(source);
      if (control !== undefined) snapshots.set(source.name, control);
    }
    const haltedReason = () => (haltedWith ? haltedWith.message : null);
    const status = new StatusReporter({
      components,
      metrics: (names) => Promise.all(names.map(async (name) => (await metrics.registry.getSingleMetric(name)?.get()) ?? { name, values: [] })),
      snapshots: (name) => snapshots.get(name),
      halted: haltedReason,
      version: options.version ?? 'psql-streamer',
      startedAtMs: Math.round(performance.timeOrigin),
    });
    const http = createHttpApp({
      components,
      halted: haltedReason,
      status: () => status.document(),
      security: config.httpSecurity,
      metrics: () => metrics.scrape(),
      snapshots: (name) => snapshots.get(name),
      snapshotSources: () => [...snapshots.keys()],
    });
    const { hostname, port } = parseListenAddress(config.http);
    const tls = config.httpSecurity.tls ? readTls(config.httpSecurity.tls) : undefined;
    try {
      server = Bun.serve({ hostname, port, fetch: http.fetch, ...(tls ? { tls } : {}) });
    } catch (err) {
      const hint = (err as { code?: string }).code === 'EADDRINUSE'
        ? ' (address in use: another instance? a warm standby needs its own http address, docs/operations.md "Warm standby")' : '';
      throw new StreamerError('INTERNAL', `HTTP: unable to listen on ${config.http}${hint}`, { cause: err, retryable: false });
    }
    log.info(`HTTP listening to ${server.url.origin}`);
    if (!isLoopback(hostname) && config.httpSecurity.token === undefined) {
      log.warn(`HTTP API on ${config.http} without httpToken: anyone who reaches it can POST /debug/on|off (docs/operations.md, "HTTP API security")`);
    }

    for (const { source } of running) await source.start(running.find((r) => r.source === source)!.pipeline);
    // Events/s in the status are known before the first request (http/status-rates.ts).
    sampler = setInterval(() => void status.sample().catch(() => {}), SAMPLE_INTERVAL_MS);

    if (config.tickerIntervalMs > 0) {
      ticker = setInterval(() => {
        for (const line of renderStats(components()).trimEnd().split('\n')) if (line) log.info(line);
      }, config.tickerIntervalMs);
      log.info(`Ticker started with ${config.tickerIntervalMs}ms interval`);
    }
    if (config.memoryTargetBytes > 0) heapGuard = startHeapGuard(config.memoryTargetBytes);
    countForcedCollections(metrics, () => heapGuard?.policy);
  } catch (err) {
    if (sampler) clearInterval(sampler);
    server?.stop(true);
    for (const { source, pipeline } of running) {
      await source.stop().catch(() => {});
      pipeline.close();
      await source.close().catch(() => {});
    }
    await closeAll();
    throw err;
  }

  const httpServer = server;
  let stopping: Promise<boolean> | undefined;

  const stop = async (): Promise<boolean> => {
    log.info('Performing graceful shutdown');
    await httpServer.stop();
    if (ticker) clearInterval(ticker);
    if (sampler) clearInterval(sampler);
    if (heapGuard) {
      heapGuard.stop();
      const { collections, spentMs } = heapGuard.policy;
      log.info(`memoryTarget: ${collections} full garbage collection(s) forced, ${Math.round(spentMs)} ms`);
    }
    let clean = true;
    await Promise.all(
      running.map(async ({ source, pipeline }) => {
        try {
          await source.stop();
          await pipeline.drain();
        } catch (err) {
          clean = false;
          log.error(`Source '${source.name}': shutdown did not deliver everything in flight (it will be re-read on restart): ${describeError(err)}`);
        } finally {
          pipeline.close();
          await source.close().catch((err) => {
            clean = false;
            log.error(`Unable to close source '${source.name}': ${describeError(err)}`);
          });
          log.info(`Source '${source.name}' closed: ${source.stats()}`);
        }
      }),
    );
    await closeAll();
    log.info('Service shutdown complete');
    return clean;
  };

  const reopen = async (): Promise<number> => {
    let reopened = 0;
    for (const sink of sinks) {
      if (!sink.reopen) continue;
      try {
        await sink.reopen();
        reopened++;
      } catch (err) {
        log.error(`Sink '${sink.name}': ${describeError(err)}`);
      }
    }
    return reopened;
  };

  return {
    httpUrl: httpServer.url.origin,
    halted,
    finished,
    components,
    stop: () => (stopping ??= stop()),
    reopen,
    activeSnapshots: () => running.flatMap(({ source }) => (snapshotsOf(source)?.list() ?? []).filter((s) => s.state === 'pending' || s.state === 'running')),
  };
}

/** `gc_forced_total` and `gc_forced_seconds_total` from the heap guard's counts, at each scrape (0 without memoryTarget). */
function countForcedCollections(metrics: ReturnType<typeof createMetrics>, policy: () => HeapPolicy | undefined): void {
  let collections = 0;
  let spentMs = 0;
  metrics.gcForced.inc(0);
  metrics.gcForcedSeconds.inc(0);
  metrics.onCollect(() => {
    const p = policy();
    if (p === undefined) return;
    metrics.gcForced.inc(p.collections - collections);
    metrics.gcForcedSeconds.inc((p.spentMs - spentMs) / 1000);
    collections = p.collections;
    spentMs = p.spentMs;
  });
}
