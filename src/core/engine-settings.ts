/**
 * The JavaScript engine (JavaScriptCore) settings the streamer runs with unless told otherwise
 * (docs/deploy.md, "Memory"). The engine reads them from `BUN_JSC_*` environment variables once, when
 * the runtime starts, so a process started without them replaces itself (execve: same pid, same
 * arguments, signals and file descriptors) with one that has them. An environment that sets any
 * `BUN_JSC_*` variable is left alone: whoever set it chose the engine's settings.
 */

/**
 * Plan the heap for 256 MiB of RAM (the engine sizes heap growth by the machine's RAM, and on a
 * large host lets garbage reach several times the live set), and let it grow 1.4× (not 2×) past the
 * live set after a full collection. Neither is a limit: a heap that needs more still grows.
 */
export const ENGINE_DEFAULTS: Readonly<Record<string, string>> = {
  BUN_JSC_forceRAMSize: '268435456',
  BUN_JSC_smallHeapGrowthFactor: '1.4',
};

/** The environment to run with, or undefined when it is to be left as it is. */
export function withEngineDefaults(env: Readonly<Record<string, string | undefined>>): Record<string, string> | undefined {
  if (Object.keys(env).some((name) => name.startsWith('BUN_JSC_'))) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return { ...out, ...ENGINE_DEFAULTS };
}

/** What started this process, to start it again: a standalone executable, or the runtime with its flags and script. */
export interface ProcessStart {
  readonly execPath: string;
  readonly argv: readonly string[];
  readonly execArgv: readonly string[];
  /** The entry script; inside a standalone executable a path under /$bunfs/. */
  readonly main: string;
}

/** The argument vector that starts the same command again. */
export function restartArgs(start: ProcessStart): string[] {
  // A standalone executable's argv is ["bun", "/$bunfs/root/<name>", ...arguments]; it takes the arguments alone.
  if (start.main.startsWith('/$bunfs/')) return [start.argv[0] ?? start.execPath, ...start.argv.slice(2)];
  return [start.execPath, ...start.execArgv, ...start.argv.slice(1)];
}

/** Replaces the process with one that has ENGINE_DEFAULTS when it lacks them; returns when it may not or cannot. */
export function applyEngineDefaults(): void {
  const env = withEngineDefaults(process.env);
  if (env === undefined || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, restartArgs({ execPath: process.execPath, argv: process.argv, execArgv: process.execArgv, main: Bun.main }), env);
  } catch (err) {
    process.stderr.write(`warning: could not restart with the engine's memory settings (${err instanceof Error ? err.message : String(err)}); running with its own (docs/deploy.md, "Memory")\n`);
  }
}

/** For the startup log: the `BUN_JSC_*` settings in effect and whose they are. */
export function describeEngineSettings(env: Readonly<Record<string, string | undefined>>): string {
  const set = Object.entries(env).filter(([name, value]) => name.startsWith('BUN_JSC_') && value !== undefined).sort(([a], [b]) => a.localeCompare(b));
  if (set.length === 0) return 'its own memory settings (no BUN_JSC_* variable; the restart with the defaults was not possible)';
  const list = set.map(([name, value]) => `${name}=${value}`).join(' ');
  const defaults = Object.entries(ENGINE_DEFAULTS);
  const isDefault = set.length === defaults.length && defaults.every(([name, value]) => env[name] === value);
  return `${list} (${isDefault ? "the streamer's defaults" : 'from the environment'}; docs/deploy.md, "Memory")`;
}
