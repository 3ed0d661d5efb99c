import { describe, expect, test } from 'bun:test';
import { parseArgs } from '../../src/cli.ts';

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
