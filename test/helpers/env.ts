/**
 * Runs the repository's server scripts (scripts/pg, scripts/kafka/*) from tests and reads the
 * `export KEY='value'` lines they print, so the TypeScript helpers and the shell share one
 * implementation of starting and stopping servers.
 */
import { join } from 'node:path'
import { testOutput } from './quiet.ts'

/** Absolute path of the repository root. */
export const repoRoot = join(import.meta.dir, '..', '..')

/** Parses `export KEY='value'` lines (the scripts' stdout) into a map; other lines are ignored. */
export function parseExports(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)='([^']*)'$/.exec(line.trim());
    if (match) result[match[1]!] = match[2]!
  }
  return result;
}

/**
 * Set by `scripts/test --unit`: the run is for unit tests, which start and use no server. A test
 * that reaches for one fails with this message instead (it belongs under test/integration/).
 */
export function assertServersAllowed(what: string): void {
  if (process.env.PSQL_STREAMER_TEST_UNIT === '1') {
    throw new Error(`${what}: unit tests (scripts/test --unit) use no server; a test that needs one belongs under test/integration/`);
  }
}

/**
 * Runs `scripts/<script> ...args` from the repository root; its progress (stderr) shows in the test
 * output, its stdout is returned parsed by parseExports. Throws with the exit code on failure.
 */
export async function runScript(script: string, args: string[] = []): Promise<Record<string, string>> {
  assertServersAllowed(`scripts/${script} ${args.join(' ')}`);
  const env = { ...process.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` }
  const child = Bun.spawn([join(repoRoot, 'scripts', script), ...args], {
    cwd: repoRoot,
    env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  // Its progress lines go with the test's log (printed if the test fails: quiet.ts), its failure into the error.
  testOutput(stderr);
  if (code !== 0) throw new Error(`scripts/${script} ${args.join(' ')} exited with code ${code}${stderr ? `:\n${stderr}` : ''}`)
  return parseExports(stdout);
}

/** The value of a variable the scripts export, or an error naming it. */
export function required(vars: Record<string, string | undefined>, name: string): string {
  const value = vars[name];
  if (value === undefined || value === '') throw new Error(`missing ${name} in the server environment`)
  return value;
}

/** What a server starter returns: the server, and how to stop it if this process started it. */
export interface StartedServer<T> {
  server: T;
  stop?: () => Promise<void>
}

/**
 * A server shared by every test file of one `bun test` process: started on first acquire
 * (unless the environment already names one), stopped when the last user releases it.
 */
export class SharedServer<T> {
  #users = 0;
  #starting: Promise<StartedServer<T>> | undefined;
  readonly #start: () => Promise<StartedServer<T>>

  constructor(start: () => Promise<StartedServer<T>>) {
    this.#start = start;
  }

  /** Returns the server, starting it if this is the first user. */
  async acquire(): Promise<T> {
    assertServersAllowed('a shared test server');
    this.#users += 1;
    this.#starting ??= this.#start();
    try {
      return (await this.#starting).server;
    } catch (error) {
      this.#users -= 1;
      this.#starting = undefined;
      throw error;
    }
  }

  /** Drops one user; the last one stops a server that this process started. */
  async release(): Promise<void> {
    this.#users -= 1;
    if (this.#users > 0 || this.#starting === undefined) return
    const started = this.#starting;
    this.#starting = undefined;
    const { stop } = await started;
    await stop?.();
  }
}
