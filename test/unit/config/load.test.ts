import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/components.ts';
import { ConfigError } from '../../../src/config/load.ts';
import { formatProblem } from '../../../src/config/problems.ts';
import { BASE } from '../../helpers/config-load.ts';

const dir = mkdtempSync(join(tmpdir(), 'psql-streamer-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadProblems(file: string): Promise<string[]> {
  try {
    await loadConfig(file, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  test('loads a file', async () => {
    const file = join(dir, 'ok.toml');
    writeFileSync(file, BASE);
    const config = await loadConfig(file, {});
    expect(config.file).toBe(file);
    expect(config.sources.map((s) => s.name)).toEqual(['db1']);
  });

  test('a missing file', async () => {
    const file = join(dir, 'missing.toml');
    expect(await loadProblems(file)).toEqual([`${file}: cannot read the configuration file: no such file`]);
  });

  test('a directory', async () => {
    const file = join(dir, 'conf.d.toml');
    rmSync(file, { force: true, recursive: true });
    mkdirSync(file);
    expect(await loadProblems(file)).toEqual([`${file}: cannot read the configuration file: is a directory, not a file`]);
  });

  test('an unreadable file', async () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const file = join(dir, 'secret.toml');
    writeFileSync(file, BASE);
    chmodSync(file, 0);
    expect(await loadProblems(file)).toEqual([`${file}: cannot read the configuration file: permission denied`]);
  });

  test('other formats of the original are refused clearly', async () => {
    expect(await loadProblems('/etc/psql-streamer/psql-streamer.yaml')).toEqual([
      '/etc/psql-streamer/psql-streamer.yaml: YAML configuration files are not supported: only TOML is (the original also read other formats); convert the file to TOML',
    ]);
    expect(await loadProblems('/etc/psql-streamer/psql-streamer.json')).toEqual([
      '/etc/psql-streamer/psql-streamer.json: JSON configuration files are not supported: only TOML is (the original also read other formats); convert the file to TOML',
    ]);
    expect(await loadProblems('/etc/psql-streamer/config')).toEqual(['/etc/psql-streamer/config: expected a TOML file name ending in .toml']);
  });

  test('the error message lists every problem', async () => {
    const file = join(dir, 'bad.toml');
    writeFileSync(file, 'http = 1\n');
    const err = await loadConfig(file, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CONFIG');
    expect((err as ConfigError).retryable).toBe(false);
    expect((err as Error).message).toBe(
      `invalid configuration (3 problems):\n` +
        `  ${file}:1:1: http: expected host:port, e.g. "127.0.0.1:12080", found 1\n` +
        `  ${file}: source: no sources defined: add at least one [source.NAME] table\n` +
        `  ${file}: sink: no sinks defined: add at least one [sink.NAME] table`,
    );
  });
});
