/**
 * The JavaScript engine's memory settings (docs/deploy.md, "Memory"): a streamer started without
 * `BUN_JSC_*` variables replaces itself, same pid, with the defaults; one started with any keeps
 * the environment it was given. Both say which in the startup log.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStream, dropSlot, usePostgres } from '../../helpers/pg.ts';
import { startStreamer, useTempDirs } from '../../helpers/streamer.ts';
import { streamerConfig } from '../../helpers/crash/harness.ts';
import { ENGINE_DEFAULTS } from '../../../src/core/engine-settings.ts';

const pg = usePostgres();
const newDir = useTempDirs('psql-streamer-engine-');

/** The `BUN_JSC_*` variables of a running process, read from the kernel. */
function engineEnvironment(pid: number): Record<string, string> {
  const found: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (entry.startsWith('BUN_JSC_') && eq > 0) found[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return found;
}

describe('engine settings', () => {
  test('defaults by restarting in place; an environment with its own is left alone', async () => {
    const sql = pg.sql({ max: 1 });
    const stream = await createStream(sql, 'engine_settings', 'id int primary key');
    try {
      for (const [name, env, expected, says] of [
        ['defaults', {}, ENGINE_DEFAULTS, "(the streamer's defaults"],
        ['own', { BUN_JSC_forceRAMSize: '0' }, { BUN_JSC_forceRAMSize: '0' }, '(from the environment'],
      ] as const) {
        const dir = newDir();
        const config = streamerConfig({ server: pg.server, stateFile: join(dir, 'state.db'), outFile: join(dir, 'out.jsonl'),
          publication: stream.publication, slot: stream.slot, batchSize: 100, batchFlushInterval: '10ms' });
        const streamer = startStreamer(dir, config, name, env);
        await streamer.waitForLog('Streaming from');
        expect(engineEnvironment(streamer.proc.pid)).toEqual({ ...expected });
        expect(streamer.stderr()).toContain(`JavaScript engine: ${Object.entries(expected).map(([k, v]) => `${k}=${v}`).join(' ')} ${says}`);
        streamer.proc.kill('SIGTERM');
        expect(await streamer.exited).toBe(0);
      }
    } finally {
      await dropSlot(sql, stream.slot);
    }
  }, 60_000);
});
