/**
 * Command-line parsing (pure). Accepts the original's `-config FILE` and the GNU-style
 * `--config FILE` / `--config=FILE`.
 */
import type { SnapshotAction } from './commands/snapshot.ts';

export type Command =
  | { kind: 'run'; configFile: string; acceptGap: boolean }
  | { kind: 'check'; configFile: string; live: boolean; json: boolean }
  | { kind: 'reset-position'; configFile: string; source: string }
  | { kind: 'snapshot'; configFile: string; source: string; action: SnapshotAction }
  | { kind: 'status'; configFile?: string; url?: string; json: boolean }
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
  psql-streamer snapshot -config FILE --source NAME --table T [--table T2 ...] [--where SQL] [--no-wait]
                                      ask the running streamer (its HTTP API, from FILE) to copy the
                                      rows of tables T... (only those matching SQL) into the stream,
                                      and follow it to the end with a progress bar (--no-wait: start
                                      it and exit); exit 0 done, 1 failed or cancelled
  psql-streamer snapshot -config FILE --source NAME --list
                                      list the snapshots of source NAME with their progress
  psql-streamer snapshot -config FILE --source NAME --cancel ID
                                      cancel snapshot ID
  psql-streamer status -config FILE | --url URL [--json]
                                      print the running streamer's status (its HTTP API, from FILE
                                      or at URL with the token in $PSQL_STREAMER_HTTP_TOKEN) as a
                                      table (--json: the /status.json document); exit 0 all OK,
                                      1 a warning or a problem, 2 no answer
  psql-streamer --version             print the version
  psql-streamer --help                print this help

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error,
3 a source refused to stream until an operator acts (the log says why and what to run).
`;

const CONFIG_FLAGS = new Set(['-config', '--config', '-c']);

const SUBCOMMANDS = new Set(['check', 'reset-position']);

const VERSION_FLAGS = new Set(['--version', '-version', '-v']);
const HELP_FLAGS = new Set(['--help', '-help', '-h']);

/** Parses argv (without the program path). */
export function parseArgs(argv: readonly string[]): Command {
  if (argv[0] === 'status') {
    if (argv.some((a) => HELP_FLAGS.has(a))) return { kind: 'help' };
    return argv.some((a) => VERSION_FLAGS.has(a)) ? { kind: 'version' } : parseStatus(argv.slice(1));
  }
  if (argv[0] === 'snapshot') {
    if (argv.some((a) => HELP_FLAGS.has(a))) return { kind: 'help' };
    return argv.some((a) => VERSION_FLAGS.has(a)) ? { kind: 'version' } : parseSnapshot(argv.slice(1));
  }
  let configFile: string | undefined;
  let source: string | undefined;
  let acceptGap = false;
  let subcommand: 'run' | 'check' | 'reset-position' = 'run';
  let live = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (VERSION_FLAGS.has(arg) || (arg === 'version' && i === 0)) return { kind: 'version' };
    if (HELP_FLAGS.has(arg) || (arg === 'help' && i === 0)) return { kind: 'help' };
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

/** The flags of `snapshot` that take a value (`--flag VALUE` or `--flag=VALUE`; one dash works too). */
const SNAPSHOT_VALUES = new Set(['source', 'table', 'where', 'cancel']);

/** `snapshot` (argv after the word): exactly one of --table..., --list, --cancel ID. */
function parseSnapshot(argv: readonly string[]): Command {
  let configFile: string | undefined;
  let source: string | undefined;
  let where: string | undefined;
  let cancel: string | undefined;
  let list = false;
  let noWait = false;
  const tables: string[] = [];
  const usage = (message: string): Command => ({ kind: 'usage-error', message });
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const name = flag.replace(/^--?/, '');
    if (CONFIG_FLAGS.has(flag) || (flag.startsWith('-') && SNAPSHOT_VALUES.has(name))) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') return usage(`${flag} needs a value`);
      if (CONFIG_FLAGS.has(flag)) {
        if (configFile !== undefined) return usage('the config file is given twice');
        configFile = value;
      } else if (name === 'table') {
        tables.push(value);
      } else {
        const given = { source, where, cancel }[name];
        if (given !== undefined) return usage(`--${name} is given twice`);
        if (name === 'source') source = value;
        else if (name === 'where') where = value;
        else cancel = value;
      }
      continue;
    }
    if ((flag === '--list' || flag === '-list') && eq < 0) list = true;
    else if ((flag === '--no-wait' || flag === '-no-wait') && eq < 0) noWait = true;
    else if (arg.startsWith('-')) return usage(`unknown option ${arg}`);
    else return usage(`unexpected argument ${arg}`);
  }
  if (configFile === undefined) return usage('Config file not specified (use -config FILE)');
  if (source === undefined) return usage('snapshot needs --source NAME (a PostgreSQL source of the config)');
  const actions = [tables.length > 0, list, cancel !== undefined].filter(Boolean).length;
  if (actions !== 1) return usage('snapshot needs exactly one of --table T (start), --list, --cancel ID');
  if (tables.length === 0 && (where !== undefined || noWait)) return usage(`${where !== undefined ? '--where' : '--no-wait'} goes with --table`);
  if (list) return { kind: 'snapshot', configFile, source, action: { kind: 'list' } };
  if (cancel !== undefined) return { kind: 'snapshot', configFile, source, action: { kind: 'cancel', id: cancel } };
  const action: SnapshotAction = { kind: 'start', tables, wait: !noWait, ...(where === undefined ? {} : { where }) };
  return { kind: 'snapshot', configFile, source, action };
}

/** `status` (argv after the word): exactly one of -config FILE and --url URL; --json. */
function parseStatus(argv: readonly string[]): Command {
  let configFile: string | undefined;
  let url: string | undefined;
  let json = false;
  const usage = (message: string): Command => ({ kind: 'usage-error', message });
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (CONFIG_FLAGS.has(flag) || flag === '--url' || flag === '-url') {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') return usage(`${flag} needs a value`);
      if (configFile !== undefined || url !== undefined) return usage('status takes one of -config FILE and --url URL, once');
      if (CONFIG_FLAGS.has(flag)) configFile = value;
      else url = value;
      continue;
    }
    if ((flag === '--json' || flag === '-json') && eq < 0) json = true;
    else if (arg.startsWith('-')) return usage(`unknown option ${arg}`);
    else return usage(`unexpected argument ${arg}`);
  }
  if (configFile === undefined && url === undefined) return usage('status needs -config FILE (the running streamer\'s config) or --url URL');
  return { kind: 'status', ...(configFile === undefined ? {} : { configFile }), ...(url === undefined ? {} : { url }), json };
}
