import { describe, expect, test } from 'bun:test';
import { describeEngineSettings, ENGINE_DEFAULTS, restartArgs, withEngineDefaults } from '../../../src/core/engine-settings.ts';

describe('withEngineDefaults', () => {
  test('adds the defaults to an environment without engine settings, keeping the rest', () => {
    const env = withEngineDefaults({ PATH: '/bin', HOME: '/root', UNSET: undefined });
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', ...ENGINE_DEFAULTS });
  });

  test('leaves an environment that sets any BUN_JSC_ variable alone', () => {
    expect(withEngineDefaults({ PATH: '/bin', BUN_JSC_forceRAMSize: '0' })).toBeUndefined();
    expect(withEngineDefaults({ BUN_JSC_logGC: '1' })).toBeUndefined();
  });

  test('an environment with the defaults is not restarted again', () => {
    expect(withEngineDefaults({ ...ENGINE_DEFAULTS })).toBeUndefined();
  });
});

describe('restartArgs', () => {
  test('the runtime with its flags, the script and its arguments', () => {
    expect(restartArgs({ execPath: '/usr/bin/bun', argv: ['/usr/bin/bun', '/app/src/main.ts', 'run', '-config', 'a.toml'], execArgv: ['--cpu-prof'], main: '/app/src/main.ts' }))
      .toEqual(['/usr/bin/bun', '--cpu-prof', '/app/src/main.ts', 'run', '-config', 'a.toml']);
  });

  test('a standalone executable: its arguments alone', () => {
    expect(restartArgs({ execPath: '/usr/bin/psql-streamer', argv: ['bun', '/$bunfs/root/psql-streamer', '-config', 'a.toml'], execArgv: [], main: '/$bunfs/root/psql-streamer' }))
      .toEqual(['bun', '-config', 'a.toml']);
  });
});

describe('describeEngineSettings', () => {
  test('names the defaults as such', () => {
    expect(describeEngineSettings({ PATH: '/bin', ...ENGINE_DEFAULTS })).toBe(
      `BUN_JSC_forceRAMSize=${ENGINE_DEFAULTS.BUN_JSC_forceRAMSize} BUN_JSC_smallHeapGrowthFactor=${ENGINE_DEFAULTS.BUN_JSC_smallHeapGrowthFactor} (the streamer's defaults; docs/deploy.md, "Memory")`);
  });

  test('settings from the environment', () => {
    expect(describeEngineSettings({ BUN_JSC_forceRAMSize: '0' })).toBe('BUN_JSC_forceRAMSize=0 (from the environment; docs/deploy.md, "Memory")');
  });

  test('none at all', () => {
    expect(describeEngineSettings({ PATH: '/bin' })).toContain('its own memory settings');
  });
});
