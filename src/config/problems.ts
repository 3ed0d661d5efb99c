/** What is wrong with a config file, where, and how it is shown to the operator. */
import { StreamerError } from '../core/errors.ts';

/** A 1-based position in the config file. */
export interface Location {
  line: number;
  column: number;
}

/** One error or warning about the config file. */
export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  /** Key path as the operator reads it: `sink.kafka1.timeout`; empty for file-level problems. */
  path: string;
  /** What was found and what is expected. */
  message: string;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** Joins key segments as TOML would write them: `source."db.1".dsn`. */
export function formatPath(segments: readonly string[]): string {
  return segments.map((s) => (BARE_KEY.test(s) ? s : JSON.stringify(s))).join('.');
}

/** `FILE:LINE:COL: path: message` (position and path left out when unknown). */
export function formatProblem(problem: ConfigProblem): string {
  let where = problem.file;
  if (problem.line !== undefined) {
    where += `:${problem.line}`;
    if (problem.column !== undefined) where += `:${problem.column}`;
  }
  return problem.path === '' ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`;
}

/** Every problem of a config file that cannot be used; `message` lists them one per line. */
export class ConfigError extends StreamerError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('CONFIG', `invalid configuration (${count}):\n` + problems.map((p) => '  ' + formatProblem(p)).join('\n'), {
      retryable: false,
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
