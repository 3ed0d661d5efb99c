import { describe, expect, test } from 'bun:test';
import { skippedLines, skippedNames, summarizeJUnit } from '../../../scripts/lib/junit-summary.ts';

// Shaped like bun 1.4's report: nested suites, self-closing passes, failure bodies, skip/todo.
const report = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="bun test" tests="6" failures="2" skipped="2">
  <testsuite name="test/a.test.ts" file="test/a.test.ts" tests="6">
    <testsuite name="a &gt; b" file="test/a.test.ts" line="2" tests="5">
      <testcase name="ok" classname="grp" time="0.000022" file="test/a.test.ts" line="3" assertions="1" />
      <testcase name="x > y" classname="grp" time="0.000035" file="test/a.test.ts" line="4" assertions="1">
        <failure type="AssertionError" message="Expected: 2&#10;Received: 1">AssertionError: Expected: 2</failure>
      </testcase>
      <testcase name="skipped" classname="grp" time="0" file="test/a.test.ts" line="5" assertions="0">
        <skipped />
      </testcase>
      <testcase name="todo" classname="grp" time="0" file="test/a.test.ts" line="6" assertions="0">
        <skipped message="TODO" />
      </testcase>
      <testcase name="errored" classname="grp" time="0" file="test/a.test.ts" line="7">
        <error type="Error" message="boom">Error: boom</error>
      </testcase>
    </testsuite>
    <testcase name="top" classname="" time="0.000006" file="test/a.test.ts" line="8" assertions="0" />
  </testsuite>
</testsuites>`;

describe('summarizeJUnit', () => {
  test('counts passed, failed (failure or error) and skipped (skip and todo) testcases', () => {
    expect(summarizeJUnit(report)).toEqual({ passed: 2, failed: 2, skipped: 2 });
  });

  test('finds no tests in an empty report', () => {
    expect(summarizeJUnit('<?xml version="1.0"?><testsuites name="bun test" tests="0"></testsuites>')).toEqual({
      passed: 0,
      failed: 0,
      skipped: 0,
    });
  });

  test('does not mistake escaped markup in names or messages for elements', () => {
    const xml = `<testcase name="&lt;failure&gt;" message="'<error>'" />
      <testcase name="b"><system-out>&lt;failure/&gt;</system-out></testcase>`;
    expect(summarizeJUnit(xml)).toEqual({ passed: 2, failed: 0, skipped: 0 });
  });
});

describe('skippedNames', () => {
  test('names each skipped or todo testcase with its file, entities decoded', () => {
    expect(skippedNames(report)).toEqual(['test/a.test.ts: skipped', 'test/a.test.ts: todo']);
    expect(skippedNames('<testcase name="x [skipped: needs PostgreSQL 14+; it&apos;s 13]" file="f.ts"><skipped /></testcase>')).toEqual(["f.ts: x [skipped: needs PostgreSQL 14+; it's 13]"]);
  });
});

describe('skippedLines', () => {
  test('a test skipped on several versions is one line naming them', () => {
    expect(skippedLines([
      'f.ts: x [skipped: multiranges: needs PostgreSQL 14+; the server is PostgreSQL 13]',
      'g.ts: y [skipped: v4: needs PostgreSQL 16+; the server is PostgreSQL 13]',
      'g.ts: y [skipped: v4: needs PostgreSQL 16+; the server is PostgreSQL 14]',
      'h.ts: z [skipped: the broker restart test stalls]',
    ])).toEqual([
      'skipped: f.ts: x [skipped: multiranges: needs PostgreSQL 14+] (on PostgreSQL 13)',
      'skipped: g.ts: y [skipped: v4: needs PostgreSQL 16+] (on PostgreSQL 13, 14)',
      'skipped: h.ts: z [skipped: the broker restart test stalls]',
    ]);
  });
});
