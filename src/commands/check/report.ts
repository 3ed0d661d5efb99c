/**
 * Renders a `check --live` report: aligned human text grouped per source and sink with a summary
 * line, or one JSON document of stable keys for tools (shape in docs/operations.md, "Readiness:
 * check --live"). Pure.
 */
import { CHECK_EXIT, overallVerdict, summarize, type CheckResult, type LiveReport } from './result.ts';

/** Version of the JSON document's shape; raised only when a key changes meaning or goes away. */
export const REPORT_FORMAT_VERSION = 1;

const label = (result: CheckResult): string => (result.subject === undefined ? result.check : `${result.check} ${result.subject}`);

/** The human report: per group a heading, then `VERDICT  check [subject]  reason` lines, remedies indented below. */
export function renderHuman(report: LiveReport): string {
  const all = report.groups.flatMap((group) => group.results);
  const width = Math.min(48, Math.max(0, ...all.map((result) => label(result).length)));
  const lines: string[] = [];
  for (const group of report.groups) {
    lines.push(`${group.kind} ${group.name} (${group.type}${group.target ? `, ${group.target}` : ''})`);
    for (const result of group.results) {
      const name = label(result);
      const gap = name.length > width ? '  ' : ' '.repeat(width - name.length + 2);
      lines.push(`  ${result.verdict.padEnd(4)}  ${name}${gap}${result.reason}`);
      if (result.remedy) lines.push(`  ${' '.repeat(6 + width + 2)}remedy: ${result.remedy}`);
    }
    lines.push('');
  }
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}

export function summaryLine(report: LiveReport): string {
  const s = summarize(report);
  const verdict = overallVerdict(report);
  return `${verdict}: ${s.ok} OK, ${s.warn} WARN, ${s.fail} FAIL in ${report.groups.length} source(s)/sink(s) of ${report.configFile} (exit ${CHECK_EXIT[verdict]})`;
}

/** The JSON document: every key always present (null when it does not apply), results in check order. */
export function renderJson(report: LiveReport): string {
  const verdict = overallVerdict(report);
  const document = {
    format: REPORT_FORMAT_VERSION,
    config: report.configFile,
    verdict,
    exitCode: CHECK_EXIT[verdict],
    summary: summarize(report),
    groups: report.groups.map((group) => ({
      kind: group.kind,
      name: group.name,
      type: group.type,
      target: group.target ?? null,
      results: group.results.map((result) => ({
        check: result.check,
        subject: result.subject ?? null,
        verdict: result.verdict,
        reason: result.reason,
        remedy: result.remedy ?? null,
      })),
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
