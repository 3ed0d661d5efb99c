/**
 * Command-line parsing (pure). Accepts the original's `-config FILE` and the GNU-style
 * `--config FILE` / `--config=FILE`.
 */

export type Command =
  | { kind: 'run'; configFile: string; acceptGap: boolean }
  | { kind: 'check'; configFile: string; live: boolean; json: boolean }
  | { kind: 'reset-position'; configFile: string; source: string }
  | { kind: 'version' }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

export const USAGE = `Usage:
  psql-streamer -config FILE [--accept-gap]
                                      run the streamer with the TOML config FILE; --accept-gap lets
                                      each source accept, once, that changes are missing between
                                      its saved position and its slot (a dropped slot is created again)
  psql-streamer check -config FILE    validate FILE and exit (0 valid, 2 invalid)
  psql-streamer check --live [--json] -config FILE
                                      also connect to every source and sink and report each
                                      item OK, WARN or FAIL with its remedy (--json: one JSON
                                      document); exit 0 all OK, 1 a WARN and no FAIL, 2 a FAIL
                                      or an invalid FILE
  psql-streamer reset-position -config FILE --source NAME
                                      forget the saved position of source NAME in the state file (the
                                      streamer must be stopped); it then resumes from its slot
  psql-streamer --version             print the version
  psql-streamer --help                print this help

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error,
3 a source refused to stream until an operator acts (the log says why and what to run).
`;

const CONFIG_FLAGS = new Set(['-config', '--config', '-c']);

const SUBCOMMANDS = new Set(['check', 'reset-position']);

/** Parses argv (without the program path). */
export function parseArgs(argv: readonly string[]): Command {
  let configFile: string | undefined;
  let source: string | undefined;
  let acceptGap = false;
  let subcommand: 'run' | 'check' | 'reset-position' = 'run';
  let live = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--version' || arg === '-version' || arg === '-v' || (arg === 'version' && i === 0)) return { kind: 'version' };
    if (arg === '--help' || arg === '-help' || arg === '-h' || (arg === 'help' && i === 0)) return { kind: 'help' };
    if (SUBCOMMANDS.has(arg) && i === 0) {
      subcommand = arg as 'check' | 'reset-position';
      continue;
    }
    if (subcommand === 'check' && (arg === '--live' || arg === '-live')) {
      live = true;
      continue;
    }
    if (subcommand === 'check' && (arg === '--json' || arg === '-json')) {
      json = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (CONFIG_FLAGS.has(flag)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') return { kind: 'usage-error', message: `${flag} needs a file name` };
      if (configFile !== undefined) return { kind: 'usage-error', message: 'the config file is given twice' };
      configFile = value;
      continue;
    }
    if (flag === '--accept-gap' && eq < 0 && subcommand === 'run') {
      acceptGap = true;
      continue;
    }
    if ((flag === '--source' || flag === '-source') && subcommand === 'reset-position') {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') return { kind: 'usage-error', message: `${flag} needs a source name` };
      if (source !== undefined) return { kind: 'usage-error', message: 'the source is given twice' };
      source = value;
      continue;
    }
    if (arg.startsWith('-')) return { kind: 'usage-error', message: `unknown option ${arg}` };
    if (subcommand === 'check' && configFile === undefined) {
      configFile = arg;
      continue;
    }
    return { kind: 'usage-error', message: `unexpected argument ${arg}` };
  }
  if (configFile === undefined) return { kind: 'usage-error', message: 'Config file not specified (use -config FILE)' };
  if (subcommand === 'reset-position') {
    if (source === undefined) return { kind: 'usage-error', message: 'reset-position needs --source NAME' };
    return { kind: subcommand, configFile, source };
  }
  if (subcommand === 'check') {
    if (json && !live) return { kind: 'usage-error', message: '--json goes with --live (check --live --json)' };
    return { kind: 'check', configFile, live, json };
  }
  return { kind: subcommand, configFile, acceptGap };
}
