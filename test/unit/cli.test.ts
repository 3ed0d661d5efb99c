import { describe, expect, test } from 'bun:test';
import { parseArgs, USAGE } from '../../src/cli.ts';

describe('parseArgs', () => {
  test('the original -config FILE and the GNU spellings', () => {
    for (const argv of [['-config', 'a.toml'], ['--config', 'a.toml'], ['--config=a.toml'], ['-config=a.toml'], ['-c', 'a.toml']]) {
      expect(parseArgs(argv)).toEqual({ kind: 'run', configFile: 'a.toml', acceptGap: false });
    }
  });

  test('check subcommand with a flag or a bare file', () => {
    expect(parseArgs(['check', '-config', 'a.toml'])).toEqual({ kind: 'check', configFile: 'a.toml', live: false, json: false });
    expect(parseArgs(['check', 'a.toml'])).toEqual({ kind: 'check', configFile: 'a.toml', live: false, json: false });
  });

  test('check --live and --json, in any order around the file', () => {
    expect(parseArgs(['check', '--live', '-config', 'a.toml'])).toEqual({ kind: 'check', configFile: 'a.toml', live: true, json: false });
    expect(parseArgs(['check', 'a.toml', '--json', '--live'])).toEqual({ kind: 'check', configFile: 'a.toml', live: true, json: true });
    expect(parseArgs(['check', '--json', 'a.toml'])).toEqual({ kind: 'usage-error', message: '--json goes with --live (check --live --json)' });
    // Only check has them: the streamer itself refuses them.
    expect(parseArgs(['--live', '-config', 'a.toml'])).toEqual({ kind: 'usage-error', message: 'unknown option --live' });
  });

  test('--accept-gap belongs to a run, before or after the config', () => {
    expect(parseArgs(['-config', 'a.toml', '--accept-gap'])).toEqual({ kind: 'run', configFile: 'a.toml', acceptGap: true });
    expect(parseArgs(['--accept-gap', '--config=a.toml'])).toEqual({ kind: 'run', configFile: 'a.toml', acceptGap: true });
    expect(parseArgs(['check', '-config', 'a.toml', '--accept-gap'])).toEqual({ kind: 'usage-error', message: 'unknown option --accept-gap' });
    expect(parseArgs(['-config', 'a.toml', '--accept-gap=yes'])).toEqual({ kind: 'usage-error', message: 'unknown option --accept-gap=yes' });
  });

  test('reset-position needs a config and one source', () => {
    expect(parseArgs(['reset-position', '-config', 'a.toml', '--source', 'db1'])).toEqual({ kind: 'reset-position', configFile: 'a.toml', source: 'db1' });
    expect(parseArgs(['reset-position', '--source=db1', '-c', 'a.toml'])).toEqual({ kind: 'reset-position', configFile: 'a.toml', source: 'db1' });
    expect(parseArgs(['reset-position', '-config', 'a.toml'])).toEqual({ kind: 'usage-error', message: 'reset-position needs --source NAME' });
    expect(parseArgs(['reset-position', '-config', 'a.toml', '--source'])).toEqual({ kind: 'usage-error', message: '--source needs a source name' });
    expect(parseArgs(['-config', 'a.toml', '--source', 'db1'])).toEqual({ kind: 'usage-error', message: 'unknown option --source' });
  });

  test('version and help', () => {
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' });
    expect(parseArgs(['-version'])).toEqual({ kind: 'version' });
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
  });

  test('usage errors say what is wrong', () => {
    expect(parseArgs([])).toEqual({ kind: 'usage-error', message: 'Config file not specified (use -config FILE)' });
    expect(parseArgs(['-config'])).toEqual({ kind: 'usage-error', message: '-config needs a file name' });
    expect(parseArgs(['--bogus'])).toEqual({ kind: 'usage-error', message: 'unknown option --bogus' });
    expect(parseArgs(['-config', 'a', '--config', 'b'])).toEqual({ kind: 'usage-error', message: 'the config file is given twice' });
    expect(parseArgs(['run'])).toEqual({ kind: 'usage-error', message: 'unexpected argument run' });
  });
});

describe('parseArgs: snapshot', () => {
  const cfg = ['-config', 'a.toml', '--source', 'db1'];

  test('--table (repeated), --where and --no-wait, in either spelling', () => {
    expect(parseArgs(['snapshot', ...cfg, '--table', 'public.orders', '--table=items', '--where', 'id > 5'])).toEqual({
      kind: 'snapshot', configFile: 'a.toml', source: 'db1', action: { kind: 'start', tables: ['public.orders', 'items'], where: 'id > 5', wait: true },
    });
    expect(parseArgs(['snapshot', '--config=a.toml', '-source=db1', '-table', 'orders', '--no-wait'])).toEqual({
      kind: 'snapshot', configFile: 'a.toml', source: 'db1', action: { kind: 'start', tables: ['orders'], wait: false },
    });
  });

  test('--list and --cancel ID', () => {
    expect(parseArgs(['snapshot', ...cfg, '--list'])).toEqual({ kind: 'snapshot', configFile: 'a.toml', source: 'db1', action: { kind: 'list' } });
    expect(parseArgs(['snapshot', ...cfg, '--cancel', 's-1'])).toEqual({ kind: 'snapshot', configFile: 'a.toml', source: 'db1', action: { kind: 'cancel', id: 's-1' } });
  });

  test('usage errors: what is missing, given twice, or does not go together', () => {
    const error = (argv: string[]) => (parseArgs(['snapshot', ...argv]) as { message?: string }).message;
    expect(error(['--source', 'db1', '--list'])).toBe('Config file not specified (use -config FILE)');
    expect(error(['-config', 'a.toml', '--list'])).toBe('snapshot needs --source NAME (a PostgreSQL source of the config)');
    expect(error(cfg)).toBe('snapshot needs exactly one of --table T (start), --list, --cancel ID');
    expect(error([...cfg, '--list', '--table', 't'])).toBe('snapshot needs exactly one of --table T (start), --list, --cancel ID');
    expect(error([...cfg, '--list', '--where', 'x'])).toBe('--where goes with --table');
    expect(error([...cfg, '--cancel', 's-1', '--no-wait'])).toBe('--no-wait goes with --table');
    expect(error([...cfg, '--table'])).toBe('--table needs a value');
    expect(error([...cfg, '--table', 't', '--where', 'a', '--where', 'b'])).toBe('--where is given twice');
    expect(error([...cfg, '--source', 'db2', '--list'])).toBe('--source is given twice');
    expect(error([...cfg, '--list', '--json'])).toBe('unknown option --json');
    expect(error([...cfg, '--list', 'extra'])).toBe('unexpected argument extra');
  });

  test('--help still prints the help; the usage text names the command', () => {
    expect(parseArgs(['snapshot', '--help'])).toEqual({ kind: 'help' });
    expect(USAGE).toContain('psql-streamer snapshot -config FILE --source NAME --table T');
  });
});

describe('parseArgs: status', () => {
  test('one of -config FILE and --url URL, and --json', () => {
    expect(parseArgs(['status', '-config', 'a.toml'])).toEqual({ kind: 'status', configFile: 'a.toml', json: false });
    expect(parseArgs(['status', '--url=http://h:1', '--json'])).toEqual({ kind: 'status', url: 'http://h:1', json: true });
    expect(parseArgs(['status', '--url', 'http://h:1'])).toEqual({ kind: 'status', url: 'http://h:1', json: false });
  });

  test('usage errors name the problem', () => {
    const error = (argv: string[]) => (parseArgs(['status', ...argv]) as { message?: string }).message;
    expect(error([])).toBe("status needs -config FILE (the running streamer's config) or --url URL");
    expect(error(['-config', 'a.toml', '--url', 'http://h:1'])).toBe('status takes one of -config FILE and --url URL, once');
    expect(error(['--url'])).toBe('--url needs a value');
    expect(error(['-config', 'a.toml', '--live'])).toBe('unknown option --live');
    expect(error(['-config', 'a.toml', 'extra'])).toBe('unexpected argument extra');
  });

  test('--help prints the help; the usage text names the command', () => {
    expect(parseArgs(['status', '--help'])).toEqual({ kind: 'help' });
    expect(USAGE).toContain('psql-streamer status -config FILE | --url URL [--json]');
  });
});
