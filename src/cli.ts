/**
 * Command-line parsing (pure). Accepts the original's `-config FILE` and the GNU-style
 * `--config FILE` / `--config=FILE`.
 */

export type Command =
  | { kind: 'run'; configFile: string }
  | { kind: 'check'; configFile: string }
  | { kind: 'version' }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

export const USAGE = `Usage:
  psql-streamer -config FILE          run the streamer with the TOML config FILE
  psql-streamer check -config FILE    validate FILE and exit (0 valid, 2 invalid)
  psql-streamer --version             print the version
  psql-streamer --help                print this help

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
`;

const CONFIG_FLAGS = new Set(['-config', '--config', '-c']);

/** Parses argv (without the program path). */
export function parseArgs(argv: readonly string[]): Command {
  let configFile: string | undefined;
  let subcommand: 'run' | 'check' = 'run';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--version' || arg === '-version' || arg === '-v' || (arg === 'version' && i === 0)) return { kind: 'version' };
    if (arg === '--help' || arg === '-help' || arg === '-h' || (arg === 'help' && i === 0)) return { kind: 'help' };
    if (arg === 'check' && i === 0) {
      subcommand = 'check';
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
    if (arg.startsWith('-')) return { kind: 'usage-error', message: `unknown option ${arg}` };
    if (subcommand === 'check' && configFile === undefined) {
      configFile = arg;
      continue;
    }
    return { kind: 'usage-error', message: `unexpected argument ${arg}` };
  }
  if (configFile === undefined) return { kind: 'usage-error', message: 'Config file not specified (use -config FILE)' };
  return { kind: subcommand, configFile };
}
