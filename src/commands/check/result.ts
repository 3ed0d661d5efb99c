/**
 * The values `check --live` works with (docs/operations.md, "Readiness: check --live"): one result
 * per checked item (OK, WARN or FAIL, a one-line reason, and for WARN/FAIL the remedy), grouped per
 * configured source and sink, and the exit code they add up to. Pure.
 */

export type Verdict = 'OK' | 'WARN' | 'FAIL';

/** One checked item. */
export interface CheckResult {
  /** Stable name of the check, e.g. `wal_level`, `table`, `topic` (a key for tools). */
  check: string;
  /** What it is about when the check repeats per object: a table, publication or topic name. */
  subject?: string;
  verdict: Verdict;
  /** One line: what was found. */
  reason: string;
  /** For WARN and FAIL: the SQL or config change that resolves it. */
  remedy?: string;
}

/** The results of one `[source.NAME]` or `[sink.NAME]`. */
export interface CheckGroup {
  kind: 'source' | 'sink';
  name: string;
  type: string;
  /** Where it points, e.g. `127.0.0.1:5432 dbname=app user=streamer` or the brokers. */
  target?: string;
  results: CheckResult[];
}

export interface LiveReport {
  configFile: string;
  groups: CheckGroup[];
}

export const ok = (check: string, reason: string, subject?: string): CheckResult =>
  subject === undefined ? { check, verdict: 'OK', reason } : { check, subject, verdict: 'OK', reason };

export const warn = (check: string, reason: string, remedy: string, subject?: string): CheckResult =>
  subject === undefined ? { check, verdict: 'WARN', reason, remedy } : { check, subject, verdict: 'WARN', reason, remedy };

export const fail = (check: string, reason: string, remedy: string, subject?: string): CheckResult =>
  subject === undefined ? { check, verdict: 'FAIL', reason, remedy } : { check, subject, verdict: 'FAIL', reason, remedy };

/** Exit codes of `check --live`: all OK, at least one WARN and no FAIL, any FAIL. */
export const CHECK_EXIT = { OK: 0, WARN: 1, FAIL: 2 } as const;

export interface Summary {
  ok: number;
  warn: number;
  fail: number;
}

export function summarize(report: LiveReport): Summary {
  const summary: Summary = { ok: 0, warn: 0, fail: 0 };
  for (const group of report.groups) {
    for (const result of group.results) {
      if (result.verdict === 'OK') summary.ok++;
      else if (result.verdict === 'WARN') summary.warn++;
      else summary.fail++;
    }
  }
  return summary;
}

/** The worst verdict of the report (OK when it has no results). */
export function overallVerdict(report: LiveReport): Verdict {
  const { warn: warnings, fail: failures } = summarize(report);
  return failures > 0 ? 'FAIL' : warnings > 0 ? 'WARN' : 'OK';
}

export function exitCodeOf(report: LiveReport): number {
  return CHECK_EXIT[overallVerdict(report)];
}
