/**
 * Snapshot bars below the log in a terminal (src/terminal-progress.ts): drawn while a snapshot is
 * active, every log line written above them (bars erased, line, bars again), nothing at all when
 * the output is not a terminal, and the log's writer given back on stop.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { configureLogging, log, logSettings } from '../../src/core/logger.ts';
import type { SnapshotInfo } from '../../src/sources/postgres/snapshot/types.ts';
import { showSnapshotProgress } from '../../src/terminal-progress.ts';

const original = logSettings().write;
afterEach(() => configureLogging({ write: original }));

function snapshot(rowsDone: number): SnapshotInfo {
  return {
    id: 'initial', source: 'db1', kind: 'initial', state: 'running', createdAt: '2026-12-07T08:00:00Z',
    tables: [{ table: 'public.orders', state: 'running', rowsDone, rowsEstimated: 1000, chunks: 1 }],
    rowsPerSecond: 100, etaSeconds: 5,
  } as SnapshotInfo;
}

function terminal(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { write: (text: string) => void writes.push(text), isTTY, columns: () => 80 } };
}

describe('showSnapshotProgress', () => {
  test('in a terminal: the bars are drawn, a log line goes above them, stop erases them and gives the log back', async () => {
    const logged: string[] = [];
    configureLogging({ write: (line) => void logged.push(line) });
    const { writes, out } = terminal(true);
    let active = [snapshot(500)];
    const stop = showSnapshotProgress(() => active, out, 10);
    await Bun.sleep(40);
    const drawn = writes.join('');
    expect(drawn).toContain('db1 initial snapshot');
    expect(drawn).toContain('public.orders');
    expect(drawn).toContain('50%');
    writes.length = 0;
    log.info('a line while copying');
    // Erased (cursor up, clear), the line through the log's own writer, then the bars again.
    expect(writes[0]).toMatch(/\r\x1b\[J$/);
    expect(logged.at(-1)).toContain('a line while copying');
    expect(writes.at(-1)).toContain('public.orders');
    active = [];
    await Bun.sleep(40);
    writes.length = 0;
    stop();
    log.info('after');
    expect(logged.at(-1)).toContain('after');
    expect(writes).toEqual([]);
  });

  test('not a terminal: nothing drawn, the log untouched', async () => {
    const { writes, out } = terminal(false);
    const before = logSettings().write;
    const stop = showSnapshotProgress(() => [snapshot(1)], out, 10);
    await Bun.sleep(30);
    expect(writes).toEqual([]);
    expect(logSettings().write).toBe(before);
    stop();
  });
});
