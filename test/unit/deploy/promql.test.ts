/** The PromQL name extractor (test/helpers/promql.ts) the dashboard and alert tests rely on. */
import { describe, expect, test } from 'bun:test';
import { promqlNames, tokenize } from '../../helpers/promql.ts';

/** Metric → sorted labels, for comparing. */
const names = (expr: string) => {
  const { metrics, grouping } = promqlNames(expr);
  return {
    metrics: Object.fromEntries([...metrics].map(([name, labels]) => [name, [...labels].sort()])),
    grouping: [...grouping].sort(),
  };
};

describe('promqlNames', () => {
  test('a bare name, and a selector with every matcher operator', () => {
    expect(names('up')).toEqual({ metrics: { up: [] }, grouping: [] });
    expect(names('source_events{sourceName="db1", table!="x", sourceType=~"Source.*", instance!~"a|b"}')).toEqual({
      metrics: { source_events: ['instance', 'sourceName', 'sourceType', 'table'] },
      grouping: [],
    });
  });

  test('functions and aggregations are not metrics; by/without/on/group_left lists are grouping labels', () => {
    expect(names('histogram_quantile(0.99, sum by (le, source) (rate(pipeline_delivery_seconds_bucket{source=~"$source"}[$__rate_interval])))')).toEqual({
      metrics: { pipeline_delivery_seconds_bucket: ['source'] },
      grouping: ['le', 'source'],
    });
    expect(names('sum(rate(sink_events[5m])) without (table)')).toEqual({ metrics: { sink_events: [] }, grouping: ['table'] });
    expect(names('source_slot_retained_bytes > ignoring(limit) group_left source_wal_budget_bytes{limit="warn"}')).toEqual({
      metrics: { source_slot_retained_bytes: [], source_wal_budget_bytes: ['limit'] },
      grouping: ['limit'],
    });
    expect(names('a * on(instance, job) group_right(sourceName) b')).toEqual({
      metrics: { a: [], b: [] },
      grouping: ['instance', 'job', 'sourceName'],
    });
  });

  test('ranges, subqueries, offsets, numbers, durations, keywords, comments and variables are skipped', () => {
    expect(names('max_over_time(source_refused[15m:1m] offset 1h30m) > 0 and bool 1e3 # comment up\n or vector(0)')).toEqual({
      metrics: { source_refused: [] },
      grouping: [],
    });
    expect(names('predict_linear(source_slot_safe_wal_size_bytes{sourceName=~"${source}"}[1h], 4 * 3600) < 0')).toEqual({
      metrics: { source_slot_safe_wal_size_bytes: ['sourceName'] },
      grouping: [],
    });
    // Every selector of a name adds to its labels; a name with a colon (recording rules) is one name.
    expect(names('a{x="1"} / a{y="2"} + job:a:rate5m')).toEqual({ metrics: { a: ['x', 'y'], 'job:a:rate5m': [] }, grouping: [] });
  });

  test('strings keep escaped quotes inside them', () => {
    expect(tokenize('x{a="q\\"}{"}').map((t) => t.text)).toEqual(['x', '{', 'a', '=', 'q\\"}{', '}']);
  });

  test('bad input gets a clear error', () => {
    expect(() => promqlNames('x{a="b"')).toThrow(/unclosed '\{'/);
    expect(() => promqlNames('x{a}')).toThrow(/bad label matcher near 'a'/);
    expect(() => promqlNames('rate(x[5m]) ; drop')).toThrow(/unexpected ';'/);
    expect(() => promqlNames('x{a="b}')).toThrow(/unterminated string/);
    expect(() => promqlNames('{__name__="x"}')).toThrow(/without a metric name/);
  });
});
