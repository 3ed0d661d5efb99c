/**
 * Loading config text in unit tests of the config parser: the config, its problems or its
 * warnings as the operator sees them, and BASE, a minimal valid file to build cases from.
 */
import { configFromText, type AppConfig } from '../../src/components.ts';
import { ConfigError, formatProblem } from '../../src/config/problems.ts';

export const FILE = 'test.toml';

/** Loads `text` as a config file; throws if it has problems. */
export function load(text: string, env: Record<string, string | undefined> = {}): AppConfig {
  return configFromText(FILE, text, env);
}

/** The formatted problems of `text`; fails the test if it loads. */
export function problems(text: string, env: Record<string, string | undefined> = {}): string[] {
  try {
    configFromText(FILE, text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error('expected configuration problems, but the config loaded');
}

/** The formatted warnings of a config that loads. */
export function warnings(text: string, env: Record<string, string | undefined> = {}): string[] {
  return load(text, env).warnings.map(formatProblem);
}

/** A minimal valid file: one postgres source and one discarding sink. Lines 1–12. */
export const BASE = `http = "127.0.0.1:12080"
boltdb = "/tmp/state.db"

[source.db1]
type = "postgres"
dsn = "dbname=test"
publication = "pub1"
replicationSlot = "db1"

[sink.out]
type = "stub_discard"
sources = ["db1"]
`;
