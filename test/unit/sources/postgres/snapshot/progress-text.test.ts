import { describe, expect, test } from 'bun:test';
import { formatCount, formatSeconds, progressBar, progressLine, summaryLine } from '../../../../../src/sources/postgres/snapshot/progress-text.ts';
import { snapshotInfo, tableProgress } from '../../../../helpers/snapshot-fakes.ts';

/** Five tables, three done: 412,000 of 1,000,000 rows. */
function initial() {
  return snapshotInfo({
    id: 'initial',
    kind: 'initial',
    rowsPerSecond: 52_100,
    etaSeconds: 11.3,
    tables: [
      tableProgress('public.a', { state: 'done', rowsDone: 100_000, rowsEstimated: 90_000, chunks: 10 }),
      tableProgress('public.b', { state: 'done', rowsDone: 100_000, rowsEstimated: 100_000, chunks: 10 }),
      tableProgress('public.c', { state: 'done', rowsDone: 110_000, rowsEstimated: 120_000, chunks: 11 }),
      tableProgress('public.d', { state: 'running', rowsDone: 102_000, rowsEstimated: 200_000, chunks: 11 }),
      tableProgress('public.e', { state: 'pending', rowsDone: 0, rowsEstimated: 490_000 }),
    ],
  });
}

describe('formatting', () => {
  test('counts are grouped by thousands on any locale', () => {
    expect([0, 7, 999, 1000, 52_100, 1_000_000, 1234.6, -4200].map(formatCount)).toEqual(['0', '7', '999', '1,000', '52,100', '1,000,000', '1,235', '-4,200']);
  });

  test('seconds read as s, m+s, h+m', () => {
    expect([0, 11.3, 59.6, 187, 3600, 7500, -3].map(formatSeconds)).toEqual(['0s', '11s', '1m00s', '3m07s', '1h00m', '2h05m', '0s']);
  });
});

describe('progressLine', () => {
  test('a running snapshot: tables done, rows against the expected total, rate and ETA', () => {
    // Done tables count with their real rows: 100,000 + 100,000 + 110,000 + 200,000 + 490,000.
    expect(progressLine(initial())).toBe('snapshot initial: 3/5 tables, 412,000/1,000,000 rows (41%), 52,100 rows/s, ETA 11s');
  });

  test('no estimate for an unfinished table: total unknown; no rate yet: ETA unknown', () => {
    const info = snapshotInfo({ tables: [tableProgress('public.t', { rowsDone: 5000, rowsEstimated: 0 })] });
    expect(progressLine(info)).toBe('snapshot s-1: 0/1 tables, 5,000 rows (total unknown), 0 rows/s, ETA unknown');
  });

  test('a table past its estimate: the total grows with it and the percent stays below 100 until done', () => {
    const info = snapshotInfo({ tables: [tableProgress('public.t', { rowsDone: 1500, rowsEstimated: 1000 })], rowsPerSecond: 10, etaSeconds: 0 });
    expect(progressLine(info)).toBe('snapshot s-1: 0/1 tables, 1,500/1,500 rows (99%), 10 rows/s, ETA 0s');
  });

  test('other states are named; a finished one has no rate; failed tables are counted', () => {
    const pending = snapshotInfo({ state: 'pending', tables: [tableProgress('public.t', { state: 'pending' })] });
    expect(progressLine(pending)).toBe('snapshot s-1 (pending): 0/1 tables, 0/1,000 rows (0%), 0 rows/s, ETA unknown');
    const failed = snapshotInfo({
      state: 'failed',
      tables: [tableProgress('public.t', { state: 'done', rowsDone: 10 }), tableProgress('public.u', { state: 'failed', rowsDone: 3, error: 'no key' })],
    });
    expect(progressLine(failed)).toBe('snapshot s-1 (failed): 1/2 tables, 13/13 rows (99%), 1 failed');
    const done = snapshotInfo({ state: 'done', tables: [tableProgress('public.t', { state: 'done', rowsDone: 10 })] });
    expect(progressLine(done)).toBe('snapshot s-1 (done): 1/1 tables, 10/10 rows (100%)');
  });
});

describe('summaryLine', () => {
  test('done: rows, tables, chunks, duration and the average rate', () => {
    const info = snapshotInfo({
      id: 'initial',
      state: 'done',
      startedAt: '2026-12-07T02:00:00.000Z',
      finishedAt: '2026-12-07T02:00:19.200Z',
      tables: [
        tableProgress('public.a', { state: 'done', rowsDone: 600_000, chunks: 60 }),
        tableProgress('public.b', { state: 'done', rowsDone: 400_000, chunks: 41 }),
      ],
    });
    expect(summaryLine(info)).toBe('snapshot initial done: 1,000,000 rows from 2 tables in 101 chunks, 19.2s, 52,083 rows/s');
  });

  test('cancelled and failed say how far they got, with the where, the error and each failed table', () => {
    const cancelled = snapshotInfo({
      state: 'cancelled',
      where: 'id < 100',
      startedAt: '2026-12-07T02:00:00.000Z',
      finishedAt: '2026-12-07T02:02:05.000Z',
      tables: [tableProgress('public.a', { state: 'done', rowsDone: 1, chunks: 1 }), tableProgress('public.b', { state: 'cancelled' })],
    });
    expect(summaryLine(cancelled)).toBe('snapshot s-1 cancelled: 1 row from 1/2 tables in 1 chunk, 2m05s, 0 rows/s, where id < 100');
    const failed = snapshotInfo({
      state: 'failed',
      error: 'connection lost',
      startedAt: undefined,
      tables: [tableProgress('public.a', { state: 'failed', error: 'table public.a has no primary key' }), tableProgress('public.b', { state: 'failed' })],
    });
    expect(summaryLine(failed)).toBe(
      'snapshot s-1 failed: 0 rows from 0/2 tables in 0 chunks: connection lost; 2 tables failed: public.a (table public.a has no primary key), public.b (no reason given)',
    );
  });
});

describe('progressBar', () => {
  test('one line per table and an overall line, bars of one width, the longest line the full width', () => {
    const lines = progressBar(initial(), 100).split('\n');
    expect(lines).toHaveLength(6);
    expect(Math.max(...lines.map((l) => l.length))).toBe(100);
    expect(new Set(lines.map((l) => /\[[#.]+\]/.exec(l)![0].length)).size).toBe(1);
    expect(lines[0]).toMatch(/^public\.a \[#+\] 100%  100,000\/100,000  done$/);
    expect(lines[3]).toMatch(/^public\.d \[#+\.+\]  51%  102,000\/200,000$/);
    expect(lines[4]).toMatch(/^public\.e \[\.+\]   0%  0\/490,000  pending$/);
    expect(lines[5]).toMatch(/^overall  \[#+\.+\]  41%  412,000\/1,000,000 rows  52,100 rows\/s  ETA 11s$/);
    // The fill follows the fraction: 41% of the cells.
    const cells = /\[([#.]+)\]/.exec(lines[5]!)![1]!;
    expect(cells.split('#').length - 1).toBe(Math.floor(0.412 * cells.length));
  });

  test('a narrow terminal: lines are cut to the width, the bar keeps 10 cells', () => {
    for (const line of progressBar(initial(), 40).split('\n')) expect(line.length).toBeLessThanOrEqual(40);
    expect(progressBar(initial(), 40)).toContain('[##########]');
  });

  test('unknown estimate: a bar of ?, and ?% ', () => {
    const info = snapshotInfo({ tables: [tableProgress('public.t', { rowsDone: 5, rowsEstimated: 0 })] });
    expect(progressBar(info, 60).split('\n')[1]).toMatch(/^overall  \[\?+\]   \?%  5\/\? rows  0 rows\/s  ETA \?$/);
  });

  test('many tables: only running and failed ones get a line, the others are counted', () => {
    const tables = Array.from({ length: 20 }, (_, i) =>
      tableProgress(`public.t${i}`, { state: i < 10 ? 'done' : i === 10 ? 'running' : i === 11 ? 'failed' : 'pending', rowsDone: i < 10 ? 1000 : 0 }));
    const lines = progressBar(snapshotInfo({ tables }), 100).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toStartWith('public.t10 ');
    expect(lines[1]).toStartWith('public.t11 ');
    expect(lines[2]).toContain('(10 done, 8 pending; 18 more tables not shown)');
    expect(lines[3]).toStartWith('overall ');
  });
});
