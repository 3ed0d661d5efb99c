import { describe, expect, test } from 'bun:test';
import { parseArgs } from '../../src/cli.ts';

describe('parseArgs', () => {
  test('the original -config FILE and the GNU spellings', () => {
    for (const argv of [['-config', 'a.toml'], ['--config', 'a.toml'], ['--config=a.toml'], ['-config=a.toml'], ['-c', 'a.toml']]) {
      expect(parseArgs(argv)).toEqual({ kind: 'run', configFile: 'a.toml' });
    }
  });

  test('check subcommand with a flag or a bare file', () => {
    expect(parseArgs(['check', '-config', 'a.toml'])).toEqual({ kind: 'check', configFile: 'a.toml' });
    expect(parseArgs(['check', 'a.toml'])).toEqual({ kind: 'check', configFile: 'a.toml' });
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
