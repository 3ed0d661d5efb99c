/**
 * Reads what deploy/ ships (docs/operations.md, "Dashboards and alerts"): the Prometheus alert
 * rules and their unit tests (deploy/prometheus/), the PromQL queries of the Grafana dashboard
 * (deploy/grafana/), and the anchors of the docs the alerts' `runbook` annotations point at.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './env.ts';

export const RULES_FILE = join(repoRoot, 'deploy', 'prometheus', 'alerts.yml');
export const RULES_TEST_FILE = join(repoRoot, 'deploy', 'prometheus', 'alerts.test.yml');
export const DASHBOARD_FILE = join(repoRoot, 'deploy', 'grafana', 'psql-streamer.json');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Every alerting rule of deploy/prometheus/alerts.yml, in order. */
export function alertRules(file = RULES_FILE): AlertRule[] {
  const doc = Bun.YAML.parse(readFileSync(file, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/** One case of a `promtool test rules` file: an alert expected (or not) at a time. */
export interface AlertCase {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}

/** Every alert_rule_test case of deploy/prometheus/alerts.test.yml. */
export function alertCases(file = RULES_TEST_FILE): AlertCase[] {
  const doc = Bun.YAML.parse(readFileSync(file, 'utf8')) as { tests: { alert_rule_test?: AlertCase[] }[] };
  return doc.tests.flatMap((t) => t.alert_rule_test ?? []);
}

/** A PromQL expression of the dashboard and where it is (`panel "Title"`, `variable source`). */
export interface DashboardQuery {
  where: string;
  expr: string;
}

interface GrafanaPanel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: GrafanaPanel[];
}

/** The dashboard as JSON. */
export function dashboard(file = DASHBOARD_FILE): {
  panels: GrafanaPanel[];
  templating: { list: { name: string; type: string; query?: string | { query?: string }; definition?: string }[] };
  [key: string]: unknown;
} {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Every PromQL expression of the dashboard: panel targets (rows' nested panels too) and query variables. */
export function dashboardQueries(file = DASHBOARD_FILE): DashboardQuery[] {
  const board = dashboard(file);
  const queries: DashboardQuery[] = [];
  const visit = (panel: GrafanaPanel) => {
    for (const target of panel.targets ?? []) if (target.expr) queries.push({ where: `panel "${panel.title}"`, expr: target.expr });
    for (const nested of panel.panels ?? []) visit(nested);
  };
  for (const panel of board.panels) visit(panel);
  for (const variable of board.templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query ?? '';
    // label_values(selector, label): as PromQL, `group by (label) (selector)` names the same metric and label.
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(query.trim());
    if (!m) throw new Error(`variable ${variable.name}: expected label_values(selector, label), got ${query}`);
    queries.push({ where: `variable ${variable.name}`, expr: `group by (${m[2]}) (${m[1]})` });
  }
  return queries;
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replaceAll(' ', '-');
}

/** The anchors of every heading of a Markdown file of the repository (e.g. `docs/operations.md`). */
export function markdownAnchors(path: string): Set<string> {
  const text = readFileSync(join(repoRoot, path), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingAnchor(m[1] as string)));
}

/** Every PromQL expression deploy/ ships: the dashboard's queries and the alerts' expressions. */
export function deployQueries(): DashboardQuery[] {
  return [...dashboardQueries(), ...alertRules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))];
}

/**
 * A dashboard query as plain PromQL: Grafana's variables replaced by values Prometheus accepts
 * (`$__rate_interval` by 5m, a variable in a matcher by `.*`).
 */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replace(/\$\{?\w+\}?/g, '.*');
}
