/**
 * Runs the app until SIGTERM/SIGINT, then stops it gracefully. A second signal, or a stop that
 * outlasts `shutdownTimeout`, ends the wait with a failure exit code (what was in flight is
 * re-read on the next start, so nothing is lost; it may be delivered twice). A source that refuses
 * to go on (docs/operations.md) stops the app the same way, with exit code 3.
 *
 * SIGHUP (whose default action would kill the process with no drain) reopens the file sinks'
 * output files for logrotate and changes nothing else: the configuration is not reloaded
 * (docs/operations.md, "Signals").
 */
import type { AppConfig } from './components.ts';
import { describeError, StreamerError } from './core/errors.ts';
import { EXIT_OK, EXIT_REFUSED, EXIT_RUNTIME } from './core/exit-codes.ts';
import { log } from './core/logger.ts';
import type { App, StartOptions } from './app.ts';
import { showSnapshotProgress } from './terminal-progress.ts';

type StartApp = (config: AppConfig, options?: StartOptions) => Promise<App>;

/** Starts the app and resolves with the process exit code once it has stopped. */
export async function runUntilSignal(config: AppConfig, start?: StartApp, options: StartOptions = {}): Promise<number> {
  let app: App | undefined;
  let signals = 0;
  let stopRequested = false;
  let refused = false;
  /** snapshot = "initial_only" ended without copying everything: exit 1 even after a clean stop. */
  let failedWork = false;
  /** Erases the terminal's snapshot bars (terminal-progress.ts); set once the app runs. */
  let stopProgress = () => {};
  let finish!: (code: number) => void;
  const exitCode = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const beginStop = (running: App) => {
    const timer = setTimeout(() => {
      log.error(`Shutdown did not finish within ${config.shutdownTimeoutMs}ms: exiting (undelivered events will be re-read on restart)`);
      finish(refused ? EXIT_REFUSED : EXIT_RUNTIME);
    }, config.shutdownTimeoutMs);
    running.stop().then(
      (clean) => {
        clearTimeout(timer);
        finish(refused ? EXIT_REFUSED : clean && !failedWork ? EXIT_OK : EXIT_RUNTIME);
      },
      (err) => {
        clearTimeout(timer);
        log.error(`Shutdown failed: ${describeError(err)}`);
        finish(EXIT_RUNTIME);
      },
    );
  };

  // Handlers go in before startup so a signal during startup is never lost to the default action.
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.error(`${signal} received again: exiting without finishing the shutdown`);
      finish(EXIT_RUNTIME);
      return;
    }
    log.info(`${signal} received`);
    stopRequested = true;
    if (app) beginStop(app);
  };
  const onHangup = () => {
    if (!app || stopRequested) {
      log.info('SIGHUP received while starting or stopping: nothing to do');
      return;
    }
    app.reopen().then(
      (count) => log.info(`SIGHUP received: ${count === 0 ? 'no output files to reopen' : `reopened the output files of ${count} file sink(s)`}; ` +
        'the configuration is not reloaded (restart to apply changes)'),
      (err) => log.error(`SIGHUP: ${describeError(err)}`),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHangup);

  try {
    // Imported lazily so `--version` and `check` never load the app's modules.
    const startApp = start ?? (await import('./app.ts')).startApp;
    const running = await startApp(config, options);
    app = running;
    const err = process.stderr;
    stopProgress = showSnapshotProgress(() => running.activeSnapshots(), { write: (text) => err.write(text), isTTY: err.isTTY === true, columns: () => err.columns || 80 });
    if (stopRequested) beginStop(running);
    void running.finished.then((ok) => {
      if (stopRequested) return;
      stopRequested = true;
      if (ok) {
        log.info('The initial snapshot is done (snapshot = "initial_only"): stopping');
      } else {
        failedWork = true;
        log.error(`The initial snapshot failed (snapshot = "initial_only"): stopping (exit code ${EXIT_RUNTIME})`);
      }
      beginStop(running);
    });
    void running.halted.then(() => {
      // The source logged why; stop the rest gracefully and exit with 3.
      refused = true;
      if (stopRequested) return;
      stopRequested = true;
      log.error(`Stopping: a source refused to stream until an operator acts (exit code ${EXIT_REFUSED})`);
      beginStop(running);
    });
  } catch (err) {
    if (err instanceof StreamerError && err.code === 'REFUSED') {
      log.error(`Refusing to start: ${describeError(err)}`);
      finish(EXIT_REFUSED);
    } else {
      log.error(`Startup failed: ${describeError(err)}`);
      finish(EXIT_RUNTIME);
    }
  }
  const code = await exitCode;
  stopProgress();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onHangup);
  return code;
}
