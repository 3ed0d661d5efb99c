/** Rendering of a check --live report (human and JSON) and the exit code it adds up to. */
import { describe, expect, test } from 'bun:test';
import { renderHuman, renderJson } from '../../../../src/commands/check/report.ts';
import { exitCodeOf, fail, ok, warn, type LiveReport } from '../../../../src/commands/check/result.ts';

const report = (results: LiveReport['groups'][number]['results'][]): LiveReport => ({
  configFile: 'app.toml',
  groups: results.map((r, i) => ({ kind: i === 0 ? 'source' : 'sink', name: `c${i}`, type: i === 0 ? 'postgres' : 'kafka', results: r })),
});

describe('exit code', () => {
  test('0 all OK, 1 a WARN and no FAIL, 2 any FAIL; no results is OK', () => {
    expect(exitCodeOf(report([[ok('a', 'x')]]))).toBe(0);
    expect(exitCodeOf(report([]))).toBe(0);
    expect(exitCodeOf(report([[ok('a', 'x'), warn('b', 'y', 'z')]]))).toBe(1);
    expect(exitCodeOf(report([[warn('b', 'y', 'z')], [fail('c', 'y', 'z')]]))).toBe(2);
  });
});

describe('human', () => {
  test('grouped, aligned on the longest label, remedy under its line, summary last', () => {
    const r = report([
      [ok('wal_level', 'logical'), fail('table', 'no replica identity', 'ALTER TABLE t REPLICA IDENTITY FULL;', 'public.t')],
      [warn('topic', 'missing', 'create it', 'events')],
    ]);
    r.groups[0]!.target = '127.0.0.1:5432 dbname=app user=s';
    expect(renderHuman(r)).toBe([
      'source c0 (postgres, 127.0.0.1:5432 dbname=app user=s)',
      '  OK    wal_level       logical',
      '  FAIL  table public.t  no replica identity',
      '                        remedy: ALTER TABLE t REPLICA IDENTITY FULL;',
      '',
      'sink c1 (kafka)',
      '  WARN  topic events    missing',
      '                        remedy: create it',
      '',
      'FAIL: 1 OK, 1 WARN, 1 FAIL in 2 source(s)/sink(s) of app.toml (exit 2)',
      '',
    ].join('\n'));
  });
});

describe('json', () => {
  test('one document with stable keys; absent values are null', () => {
    const r = report([[ok('wal_level', 'logical'), warn('topic', 'missing', 'create it', 'events')]]);
    const document = JSON.parse(renderJson(r));
    expect(document).toEqual({
      format: 1,
      config: 'app.toml',
      verdict: 'WARN',
      exitCode: 1,
      summary: { ok: 1, warn: 1, fail: 0 },
      groups: [{
        kind: 'source', name: 'c0', type: 'postgres', target: null,
        results: [
          { check: 'wal_level', subject: null, verdict: 'OK', reason: 'logical', remedy: null },
          { check: 'topic', subject: 'events', verdict: 'WARN', reason: 'missing', remedy: 'create it' },
        ],
      }],
    });
  });
});
