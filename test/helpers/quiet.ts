/**
 * Quiet test output (docs/testing.md, "Quiet output"), preloaded by bunfig.toml into every test
 * process. Many tests make components fail on purpose, and the components log each failure (ERROR
 * and WARN lines the test expects). Printed as they happen, a clean run showed dozens of them. Here
 * the in-process log lines of each test go to a buffer instead, printed only when that test fails
 * (it threw, an expectation failed, or it timed out), under the test's name.
 *
 * Child processes' output goes the same way (testOutput: streamers started by streamer.ts, the
 * server scripts run by env.ts).
 *
 * Installed by the preload quiet-preload.ts (bunfig.toml). `PSQL_STREAMER_TEST_VERBOSE=1` turns this off: every line is printed as it happens.
 *
 * How: the logger's destination (src/core/logger.ts, configureLogging) is the buffer, and `test` /
 * `it` of `bun:test` are replaced (mock.module) by versions whose body notes a failure; bun:test has
 * no hook that learns a test's outcome. `test.each` is wrapped too; the other variants (`test.only`,
 * `test.if`, ...) register unwrapped tests, whose logs stay hidden (none are used here).
 */
import * as bunTest from 'bun:test';
import { configureLogging } from '../../src/core/logger.ts';

/** True when every line should be printed as it happens. */
export const verboseTests = process.env.PSQL_STREAMER_TEST_VERBOSE === '1';

/** At most this many characters of one test's lines are kept (the newest). */
const MAX_BUFFERED_CHARS = 2 ** 20;

/** Set by installQuietTests(). */
let installed = false;
let buffered: string[] = [];
let bufferedChars = 0;

/** Lines kept and not printed (yet), and how many of them came from streamers run as children: the last line of the process reports them. */
let hiddenLines = 0;
let hiddenChildLines = 0;

/** Keeps a log line of the running test (dropping the oldest beyond MAX_BUFFERED_CHARS). */
function keep(line: string, fromChild = false): void {
  const lines = countLines(line);
  hiddenLines += lines;
  if (fromChild) hiddenChildLines += lines;
  buffered.push(line);
  bufferedChars += line.length;
  while (bufferedChars > MAX_BUFFERED_CHARS && buffered.length > 1) bufferedChars -= buffered.shift()!.length;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function clear(): void {
  buffered = [];
  bufferedChars = 0;
}

/** Prints what the failed test logged, under its name. */
function printBuffered(name: string, why: string): void {
  if (buffered.length === 0) return;
  process.stderr.write(`--- log of "${name}" (${why}; shown because it failed, PSQL_STREAMER_TEST_VERBOSE=1 shows every log) ---\n` +
    `${buffered.join('')}--- end of the log of "${name}" ---\n`);
  hiddenLines -= buffered.reduce((n, line) => n + countLines(line), 0);
  hiddenChildLines = Math.min(hiddenChildLines, hiddenLines);
  clear();
}

/**
 * Output of a child process a test started (a streamer's stderr, a script's progress): kept with the
 * test's log lines (printed if it fails), or printed at once with PSQL_STREAMER_TEST_VERBOSE=1.
 */
export function testOutput(text: string, outsideTests: 'print' | 'drop' = 'print'): void {
  if (installed && !verboseTests) keep(text, outsideTests === 'drop');
  else if (installed || outsideTests === 'print') process.stderr.write(text);
}

type TestBody = (...args: unknown[]) => unknown;
type Register = (name: string, body?: TestBody, options?: unknown) => unknown;

/** The test being run: its name, and whether its body has settled (a timeout leaves it unsettled). */
let running: { name: string; settled: boolean } | undefined;

/**
 * The body, with its logs kept and printed if it throws. A plain test's body taking `done` is left
 * as it is (bun counts its parameters); a `test.each` body's parameters are the row's values.
 */
function watched(name: string, body: TestBody | undefined, each = false): TestBody | undefined {
  if (typeof body !== 'function' || (!each && body.length > 0)) return body;
  return async function (this: unknown, ...args: unknown[]) {
    clear();
    const state = { name, settled: false };
    running = state;
    try {
      return await body.apply(this, args);
    } catch (err) {
      printBuffered(name, 'it failed');
      throw err;
    } finally {
      state.settled = true;
    }
  };
}

/** `test` (or `it`) whose tests are watched; its variants are the original's, `each` watched too. */
function watchedTest(original: typeof bunTest.test): typeof bunTest.test {
  const register = original as unknown as Register;
  const wrapped = ((name: string, body?: TestBody, options?: unknown) => register(name, watched(name, body), options)) as unknown as Record<string, unknown>;
  // The variants (skip, each, only, if, ...) live on the original's prototype and expect it as `this`.
  // Read on use, not here: with CI set, merely reading `.only` throws (bun refuses .only in CI).
  for (const key of Reflect.ownKeys(Object.getPrototypeOf(original) as object)) {
    if (typeof key !== 'string') continue;
    Object.defineProperty(wrapped, key, {
      configurable: true,
      enumerable: true,
      get: () => {
        const value = (original as unknown as Record<string, unknown>)[key];
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(original) : value;
      },
    });
  }
  Object.defineProperty(wrapped, 'each', { configurable: true, enumerable: true, writable: true, value: undefined });
  wrapped.each = (table: unknown) => {
    const each = (original.each as (t: unknown) => Register)(table);
    return (name: string, body?: TestBody, options?: unknown) => each(name, watched(name, body, true), options);
  };
  return wrapped as unknown as typeof bunTest.test;
}

/** Called once by the preload (quiet-preload.ts), not by scripts that borrow a helper outside `bun test`. */
export function installQuietTests(): void {
  if (installed) return;
  installed = true;
  if (verboseTests) return;
  configureLogging({ write: keep });
  bunTest.afterEach(() => {
    // Still running after the test ended: bun gave up on it (a timeout).
    if (running !== undefined && !running.settled) printBuffered(running.name, 'it timed out');
    running = undefined;
    clear();
  });
  // One line at the end, so nobody wonders where the logs went.
  bunTest.afterAll(() => {
    if (hiddenLines === 0) return;
    const children = hiddenChildLines > 0 ? `, ${hiddenChildLines} of them from streamers run as child processes` : '';
    process.stderr.write(`(${hiddenLines} log lines of passing tests not shown${children}; PSQL_STREAMER_TEST_VERBOSE=1 shows them)\n`);
  });
  const test = watchedTest(bunTest.test);
  bunTest.mock.module('bun:test', () => ({ ...bunTest, test, it: test }));
}
