/**
 * The command line after main.ts: argv → command, config → app, signals → graceful stop, outcome → exit code
 * (0 success, 1 runtime failure, 2 usage or configuration error; `check --live`: 0 OK, 1 WARN, 2 FAIL;
 * `snapshot`: 0 done, 1 failed or cancelled, 130 when Ctrl-C stops following; `status`: 0 all OK,
 * 1 a warning or a problem, 2 no answer).
 */
import { USAGE, parseArgs } from './cli.ts';
import { loadConfig, type AppConfig } from './components.ts';
import { ConfigError } from './config/load.ts';
import { formatProblem } from './config/parse.ts';
import { describeError } from './core/errors.ts';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from './core/exit-codes.ts';
import { log } from './core/logger.ts';
import { runUntilSignal } from './run.ts';
import { VERSION_LINE } from './version.ts';
import { describeEngineSettings } from './core/engine-settings.ts';

async function load(file: string): Promise<AppConfig | undefined> {
  try {
    const config = await loadConfig(file);
    for (const warning of config.warnings) process.stderr.write(`warning: ${formatProblem(warning)}\n`);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) process.stderr.write(`${formatProblem(problem)}\n`);
      process.stderr.write(`${err.problems.length} problem(s) in ${file}\n`);
    } else {
      process.stderr.write(`${describeError(err)}\n`);
    }
    return undefined;
  }
}

/** `check --live`: exit 0 all OK, 1 a WARN and no FAIL, 2 a FAIL (docs/operations.md). */
async function checkLive(config: AppConfig, json: boolean): Promise<number> {
  const [{ runLiveCheck }, { renderHuman, renderJson }, { exitCodeOf }, { CheckProgress, showProgress }] = await Promise.all([
    import('./commands/check/run.ts'), import('./commands/check/report.ts'), import('./commands/check/result.ts'), import('./commands/check/progress.ts'),
  ]);
  // Progress on stderr: a redrawn bar in a terminal, a plain line every 5 s elsewhere (the report on stdout stays as it is).
  const err = process.stderr;
  const progress = new CheckProgress(config.sources.length + config.sinks.length, () => performance.now());
  const stopProgress = showProgress(progress, { write: (text) => err.write(text), isTTY: err.isTTY === true, columns: () => err.columns || 80 }, { redrawMs: 100, lineEveryMs: 5000 });
  let report;
  try {
    report = await runLiveCheck(config, progress);
  } finally {
    stopProgress();
  }
  process.stdout.write(json ? renderJson(report) : renderHuman(report));
  return exitCodeOf(report);
}

export async function main(argv: readonly string[]): Promise<number> {
  const command = parseArgs(argv);
  switch (command.kind) {
    case 'version':
      process.stdout.write(`${VERSION_LINE}\n`);
      return EXIT_OK;
    case 'help':
      process.stdout.write(USAGE);
      return EXIT_OK;
    case 'usage-error':
      process.stderr.write(`${command.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    case 'check': {
      const config = await load(command.configFile);
      if (!config) return EXIT_USAGE;
      if (command.live) return checkLive(config, command.json);
      process.stdout.write(`${command.configFile}: OK (${config.sources.length} source(s), ${config.sinks.length} sink(s))\n`);
      return EXIT_OK;
    }
    case 'reset-position': {
      const config = await load(command.configFile);
      if (!config) return EXIT_USAGE;
      const { resetPosition } = await import('./commands/reset-position.ts');
      return resetPosition(config, command.source);
    }
    case 'snapshot': {
      const config = await load(command.configFile);
      if (!config) return EXIT_USAGE;
      const { abortableSleep, runSnapshot } = await import('./commands/snapshot.ts');
      // Ctrl-C stops following (the snapshot goes on in the streamer); a request in flight is not waited for long.
      const interrupt = new AbortController();
      process.once('SIGINT', () => {
        interrupt.abort();
        setTimeout(() => process.exit(130), 1000).unref();
      });
      const out = process.stdout;
      return runSnapshot(config, command.source, command.action, {
        out: { write: (text) => out.write(text), isTTY: out.isTTY === true, columns: () => out.columns ?? 80 },
        err: { write: (text) => process.stderr.write(text) },
        sleep: abortableSleep,
        now: () => performance.now(),
        pollMs: 1000,
        lineEveryMs: 5000,
        signal: interrupt.signal,
      });
    }
    case 'status': {
      const { runStatus, TOKEN_VARIABLE } = await import('./commands/status.ts');
      const io = { out: { write: (text: string) => process.stdout.write(text) }, err: { write: (text: string) => process.stderr.write(text) } };
      if (command.configFile === undefined) return runStatus({ url: command.url ?? '', token: process.env[TOKEN_VARIABLE] }, command.json, io);
      const config = await load(command.configFile);
      if (!config) return EXIT_USAGE;
      return runStatus({ config }, command.json, io);
    }
    case 'run': {
      const config = await load(command.configFile);
      if (!config) return EXIT_USAGE;
      log.info(`${VERSION_LINE}: configuration loaded from ${command.configFile}`);
      log.info(`JavaScript engine: ${describeEngineSettings(process.env)}`);
      if (command.acceptGap) log.warn('--accept-gap: each source may accept once that changes between its saved position and its slot are missing');
      return runUntilSignal(config, undefined, { acceptGap: command.acceptGap, version: VERSION_LINE });
    }
  }
}

// A rejection nobody handled is a bug; crash loudly rather than run in an unknown state. Nothing is
// lost: positions only ever advance after delivery, so a restart re-reads what was in flight.
process.on('unhandledRejection', (reason) => {
  log.error(`Internal error (unhandled rejection): ${describeError(reason)}`);
  process.exit(EXIT_RUNTIME);
});
