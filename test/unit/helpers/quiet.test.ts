/**
 * Quiet test output (test/helpers/quiet.ts, docs/testing.md "Quiet output"): the log lines of a
 * test are printed when it fails or times out, not when it passes, and all of them with
 * PSQL_STREAMER_TEST_VERBOSE=1. Runs test/fixtures/quiet/run-me.ts in a `bun test` of its own.
 */
import { describe, expect, test } from 'bun:test';
import { repoRoot } from '../../helpers/env.ts';

async function runFixture(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([process.execPath, 'test', './test/fixtures/quiet/run-me.ts'], {
    cwd: repoRoot,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, PSQL_STREAMER_TEST_VERBOSE: '', QUIET_FIXTURE_PASS: '', ...env },
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: out + err };
}

describe('quiet test output', () => {
  test('a failed or timed-out test shows its log under its name; a passing one does not', async () => {
    const { code, output } = await runFixture({});
    expect(code).not.toBe(0);
    expect(output).toContain('--- log of "fails" (it failed;');
    expect(output).toMatch(/--- log of "fails"[^\n]*\n[^\n]*WARN {2}Fixture \(quiet\): the line that explains the failure\n--- end of the log of "fails" ---/);
    expect(output).toMatch(/--- log of "times out" \(it timed out;[^\n]*\n[^\n]*the line before the hang\n/);
    // A test.each row is named by its template (bun fills it in later).
    expect(output).toMatch(/--- log of "row %p" \(it failed;[^\n]*\n[^\n]*row 2 logged\n/);
    expect(output).not.toContain('expected failure of a passing test');
    expect(output).not.toContain('row 1 logged');
    expect(output).toContain('(2 log lines of passing tests not shown; PSQL_STREAMER_TEST_VERBOSE=1 shows them)');
  }, 30_000);

  test('all passing: no log line at all, only their count', async () => {
    const { code, output } = await runFixture({ QUIET_FIXTURE_PASS: '1' });
    expect(code).toBe(0);
    expect(output).not.toContain('Fixture (quiet)');
    expect(output).toContain('(5 log lines of passing tests not shown;');
  }, 30_000);

  test('PSQL_STREAMER_TEST_VERBOSE=1: every line as it happens', async () => {
    const { output } = await runFixture({ PSQL_STREAMER_TEST_VERBOSE: '1', QUIET_FIXTURE_PASS: '1' });
    expect(output).toContain('ERROR Fixture (quiet): expected failure of a passing test');
    expect(output).toContain('INFO  Fixture (quiet): the line before the hang');
    expect(output).not.toContain('--- log of');
    expect(output).not.toContain('not shown');
  }, 30_000);
});

