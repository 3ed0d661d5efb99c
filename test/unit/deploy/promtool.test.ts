/**
 * The alert rules of deploy/prometheus/ (docs/operations.md, "Dashboards and alerts"):
 * `promtool check rules` accepts them, `promtool test rules` passes their unit tests, every alert
 * is tested firing and not firing, and every alert has what an operator needs (severity, for:
 * where a blip must not page, summary, description, a runbook anchor that exists). promtool comes
 * from Debian's prometheus package, which scripts/setup installs.
 */
import { describe, expect, test } from 'bun:test';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertCases, alertRules, markdownAnchors, RULES_FILE, RULES_TEST_FILE } from '../../helpers/deploy.ts';

const promtool = Bun.which('promtool');

/** Runs promtool; fails the test with a clear message when it is not installed. */
async function runPromtool(args: string[], cwd?: string): Promise<{ code: number; output: string }> {
  if (promtool === null) {
    throw new Error("promtool is not on PATH: run scripts/setup (it installs Debian's prometheus package, which ships promtool)");
  }
  const child = Bun.spawn([promtool, ...args], { cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, output: stdout + stderr };
}

const rules = alertRules();

describe('deploy/prometheus/alerts.yml', () => {
  test('promtool check rules accepts it', async () => {
    const { code, output } = await runPromtool(['check', 'rules', RULES_FILE]);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(code).toBe(0);
  });

  test('promtool test rules passes alerts.test.yml', async () => {
    const { code, output } = await runPromtool(['test', 'rules', RULES_TEST_FILE]);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  test('every alert is tested firing and not firing', () => {
    const cases = alertCases();
    for (const rule of rules) {
      const own = cases.filter((c) => c.alertname === rule.alert);
      expect({ alert: rule.alert, firing: own.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({ alert: rule.alert, firing: true });
      expect({ alert: rule.alert, silent: own.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({ alert: rule.alert, silent: true });
    }
    // And no case names an alert that does not exist (promtool would just expect nothing of it).
    const names = new Set(rules.map((r) => r.alert));
    expect(cases.map((c) => c.alertname).filter((name) => !names.has(name))).toEqual([]);
  });

  test('every alert has a severity, a summary, a description and a runbook anchor that exists', () => {
    const anchors = new Map<string, Set<string>>();
    for (const rule of rules) {
      expect({ alert: rule.alert, severity: ['critical', 'warning'].includes(rule.labels.severity ?? '') }).toEqual({ alert: rule.alert, severity: true });
      expect(rule.annotations.summary?.length ?? 0).toBeGreaterThan(10);
      expect(rule.annotations.description?.length ?? 0).toBeGreaterThan(40);
      const [file, anchor] = (rule.annotations.runbook ?? '').split('#') as [string, string | undefined];
      expect({ alert: rule.alert, runbook: file }).toEqual({ alert: rule.alert, runbook: expect.stringMatching(/^docs\/[a-z-]+\.md$/) });
      if (!anchors.has(file)) anchors.set(file, markdownAnchors(file));
      expect({ alert: rule.alert, anchor, exists: anchors.get(file)!.has(anchor ?? '') }).toEqual({ alert: rule.alert, anchor, exists: true });
    }
  });

  test('an alert on a gauge that may blip waits with for:, an alert on a counter increase may not need to', () => {
    // Counter alerts (increase/rate over a window) already look back; the others need `for:`.
    const withoutFor = rules.filter((r) => r.for === undefined).map((r) => r.alert);
    for (const name of withoutFor) {
      const rule = rules.find((r) => r.alert === name)!;
      expect({ alert: name, expr: rule.expr }).toEqual({ alert: name, expr: expect.stringMatching(/^(increase|max_over_time)\(/) });
    }
  });

  test('the unit tests catch a changed threshold (promtool test rules fails)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psql-streamer-alerts-'));
    try {
      const text = readFileSync(RULES_FILE, 'utf8');
      expect(text).toContain('source_delivered_lag_seconds > 300');
      writeFileSync(join(dir, 'alerts.yml'), text.replace('source_delivered_lag_seconds > 300', 'source_delivered_lag_seconds > 500'));
      copyFileSync(RULES_TEST_FILE, join(dir, 'alerts.test.yml'));
      const { code, output } = await runPromtool(['test', 'rules', 'alerts.test.yml'], dir);
      expect(output).toContain('FAILED');
      expect(output).toContain('alertname: PsqlStreamerSecondsBehind');
      expect(code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
