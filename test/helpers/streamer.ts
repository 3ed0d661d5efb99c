/**
 * Runs psql-streamer (src/main.ts) as a child process, as an operator would, for integration and
 * crash tests: writes the config, captures stderr, waits for log lines, signals or kills it.
 */
import { Database } from 'bun:sqlite';
import { afterAll } from 'bun:test';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './env.ts';
import { dropSlot } from './pg.ts';
import { testOutput } from './quiet.ts';

const MAIN = join(repoRoot, 'src', 'main.ts');

export interface StreamerProcess {
  proc: ReturnType<typeof Bun.spawn>;
  /** Everything written to stderr so far. */
  stderr(): string;
  exited: Promise<number>;
  /** Resolves when stderr matches `pattern`; rejects with the log so far after `timeoutMs`. */
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  /** The HTTP API's origin, once it logged "HTTP listening to". */
  httpUrl(): Promise<string>;
}

/** A fresh temp dir for a test's config, state and output files. */
export function tempDir(prefix = 'psql-streamer-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Set: tests keep their temp dirs (config, state, output, logs) for a post-mortem; their paths are printed. */
export const keepTestDirs = process.env.PSQL_STREAMER_TEST_KEEP_DIRS === '1';

/** Registers an afterAll hook removing the temp dirs the returned function makes (tempDir(prefix)), unless keepTestDirs. */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    if (keepTestDirs) process.stderr.write(`kept test dirs (PSQL_STREAMER_TEST_KEEP_DIRS=1): ${dirs.join(' ')}\n`);
    else for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = tempDir(prefix);
    dirs.push(dir);
    return dir;
  };
}

/** A TCP port on 127.0.0.1 nothing listens on right now (for an `http` address a command must know beforehand). */
export function freePort(): number {
  const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await Bun.sleep(25);
  }
}

/**
 * Starts `psql-streamer [command...] -config <dir>/<name>.toml [args...]` with `configText`
 * (command: e.g. `['reset-position']`; args: e.g. `['--accept-gap']`); `main` runs another entry
 * point taking the same arguments (e.g. test/fixtures/app/run-with-counting-source.ts, which knows
 * the test-only sink and source types).
 */
export function startStreamer(dir: string, configText: string, name = 'streamer', env: Record<string, string> = {}, args: readonly string[] = [], command: readonly string[] = [], main = MAIN): StreamerProcess {
  const configFile = join(dir, `${name}.toml`);
  writeFileSync(configFile, configText);
  const proc = Bun.spawn([process.execPath, main, ...command, '-config', configFile, ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, ...env },
  });
  let err = '';
  let partial = '';
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      err += text;
      // Whole lines, named after the child, with the test's log (printed if the test fails: quiet.ts).
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      if (lines.length > 0) testOutput(lines.map((line) => `[${name}] ${line}\n`).join(''), 'drop');
    }
  })();
  const matches = (pattern: RegExp | string) => (typeof pattern === 'string' ? err.includes(pattern) : pattern.test(err));
  const streamer: StreamerProcess = {
    proc,
    stderr: () => err,
    exited: proc.exited,
    waitForLog: (pattern, timeoutMs = 20_000) => waitFor(`log ${String(pattern)}`, () => matches(pattern), timeoutMs, () => err),
    async httpUrl() {
      await streamer.waitForLog(/HTTP listening to https?:\/\/\S+/);
      return /HTTP listening to (https?:\/\/\S+)/.exec(err)![1] as string;
    },
  };
  return streamer;
}

/** What a command of psql-streamer that runs to its end (`check`, `--version`) printed, and its exit code. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the whole run, process start included. */
  ms: number;
}

/** Runs `psql-streamer ...args` to its end (with `env` added to this process's); killed (and the test failed) after `timeoutMs`. */
export async function runCommand(args: readonly string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<CommandResult> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, ...env } });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (proc.signalCode === 'SIGKILL') throw new Error(`psql-streamer ${args.join(' ')} did not end within ${timeoutMs} ms\n${stdout}${stderr}`);
    return { code, stdout, stderr, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The complete lines of a JSON-lines file being written by a running streamer: a batch is one
 * write, but a reader can still see a write half done, so a last line without its newline is left out.
 */
export function completeLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop(); // '' after the final newline, or a line still being written
  return lines.filter(Boolean);
}

/** A child process a test started: killed at the end of the file if still running. */
export interface KillableChild {
  proc: { exitCode: number | null; kill(signal?: NodeJS.Signals | number): void };
  exited: Promise<number>;
}

/**
 * End-of-file cleanup for tests that run the streamer as a child: SIGKILL the children still
 * running, wait for them, then drop their replication slots (a live walsender would hold them).
 */
export async function killChildrenAndDropSlots(children: readonly KillableChild[], slots: readonly string[], sql: Parameters<typeof dropSlot>[0]): Promise<void> {
  await killChildren(children);
  for (const slot of slots) await dropSlot(sql, slot).catch(() => {});
}

/** SIGKILLs the children still running and waits for them. */
export async function killChildren(children: readonly KillableChild[]): Promise<void> {
  for (const child of children) if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
}

/**
 * The position of `source` in a state file a running streamer may be writing (read-only; 0 when
 * the file or the row does not exist yet, or the file is busy for a moment).
 */
export function storedPosition(stateFile: string, source: string): bigint {
  try {
    const state = new Database(stateFile, { readonly: true });
    try {
      const row = state.query('SELECT position FROM positions WHERE source = ?').get(source) as { position: string } | null;
      return BigInt(row?.position ?? 0);
    } finally {
      state.close();
    }
  } catch {
    return 0n;
  }
}

/**
 * Reads the state file of a streamer that was killed from a copy (with its WAL), so that the next
 * start still recovers the file itself; `fallback` when the file does not exist yet or `read`
 * throws (a table not created yet: killed during its first start).
 */
export function readStateCopy<T>(stateFile: string, fallback: T, read: (db: Database) => T): T {
  if (!existsSync(stateFile)) return fallback;
  const scratch = mkdtempSync(join(stateFile, '..', 'state-copy-'));
  try {
    const copy = join(scratch, 'state.db');
    copyFileSync(stateFile, copy);
    if (existsSync(`${stateFile}-wal`)) copyFileSync(`${stateFile}-wal`, `${copy}-wal`);
    const db = new Database(copy);
    try {
      return read(db);
    } catch {
      return fallback;
    } finally {
      db.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The position of `source` in the state file of a streamer that was killed (readStateCopy); 0 when there is none yet. */
export function readPersisted(stateFile: string, source: string): bigint {
  return readStateCopy(stateFile, 0n, (db) => {
    const row = db.query('SELECT position FROM positions WHERE source = ?').get(source) as { position: string } | null;
    return BigInt(row?.position ?? 0);
  });
}
