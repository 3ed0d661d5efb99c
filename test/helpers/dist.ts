/**
 * Helpers of the distribution tests (compiled binary, image file set, packages): build with the
 * project's scripts as an operator would, run commands, and start a long-running child whose
 * stderr is watched for log lines.
 */
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { repoRoot } from './env.ts';

export const VERSION = pkg.version;

/** Output of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` to completion; never throws for a non-zero exit (callers assert on `code`). */
export async function run(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const proc = Bun.spawn(cmd, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Runs `cmd` and returns its stdout; throws with both outputs when it fails. */
export async function runOk(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const result = await run(cmd, options);
  if (result.code !== 0) throw new Error(`${cmd.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The build target of this machine (scripts/build's names). */
export function nativeTarget(): string {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  return glibc ? arch : `${arch}-musl`;
}

/** Builds this machine's target with scripts/build into `outDir`; returns the executable's path. */
export async function buildNative(outDir: string): Promise<string> {
  const target = nativeTarget();
  await runOk([join(repoRoot, 'scripts', 'build'), '--out', outDir, target]);
  return join(outDir, `psql-streamer-linux-${target}`);
}

/** A long-running child (the streamer) whose stderr is collected as it comes. */
export interface Child {
  proc: ReturnType<typeof Bun.spawn>;
  /** performance.now() just before the spawn. */
  startedAt: number;
  stderr(): string;
  stdout(): string;
  exited: Promise<number>;
  /** Resolves with performance.now() of the stderr chunk that first matched `pattern`. */
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<number>;
  /** The HTTP API's origin, once it logged "HTTP listening to". */
  httpUrl(): Promise<string>;
}

export function spawnChild(cmd: string[], options: { cwd: string; env: Record<string, string> }): Child {
  const startedAt = performance.now();
  const proc = Bun.spawn(cmd, { cwd: options.cwd, env: options.env, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  let err = '';
  let out = '';
  const matches = (pattern: RegExp | string) => (typeof pattern === 'string' ? err.includes(pattern) : pattern.test(err));
  const watchers: { pattern: RegExp | string; resolve: (at: number) => void }[] = [];
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      err += decoder.decode(chunk, { stream: true });
      const at = performance.now();
      for (const w of watchers.splice(0)) {
        if (matches(w.pattern)) w.resolve(at);
        else watchers.push(w);
      }
    }
  })();
  void (async () => {
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(chunk);
  })();
  const child: Child = {
    proc,
    startedAt,
    stderr: () => err,
    stdout: () => out,
    exited: proc.exited,
    waitForLog(pattern, timeoutMs = 20_000) {
      if (matches(pattern)) return Promise.resolve(performance.now());
      return new Promise<number>((resolve, reject) => {
        const fail = (why: string) => {
          const i = watchers.indexOf(watcher);
          if (i < 0) return;
          watchers.splice(i, 1);
          clearTimeout(timer);
          reject(new Error(`${why} waiting for log ${String(pattern)}; stderr:\n${err}`));
        };
        const watcher = {
          pattern,
          resolve: (at: number) => {
            clearTimeout(timer);
            resolve(at);
          },
        };
        const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        watchers.push(watcher);
        // Exited: let the last stderr chunks arrive, then give up.
        void proc.exited.then((code) => setTimeout(() => fail(`exited with ${code}`), 300));
      });
    },
    async httpUrl() {
      await child.waitForLog(/HTTP listening to http:\/\/\S+/);
      return /HTTP listening to (http:\/\/\S+)/.exec(err)![1] as string;
    },
  };
  return child;
}

/** SIGTERM, then the exit code (SIGKILL after `timeoutMs`). */
export async function stop(child: Child, timeoutMs = 30_000): Promise<number> {
  if (child.proc.exitCode !== null) return child.proc.exitCode;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  try {
    return await child.exited;
  } finally {
    clearTimeout(timer);
  }
}
