/**
 * Compiles src/main.ts into standalone executables (`bun build --compile` through Bun.build, which
 * takes the resolve plugin below). Called by scripts/build; see there for the options.
 *
 * - Version: package.json's version is bundled by src/version.ts; BUILD_INFO ("commit …, target,
 *   bun …") is injected with `define`.
 * - The executable never reads .env, bunfig.toml, tsconfig.json or package.json from the directory
 *   it runs in (autoload* off): an operator's cwd must not change what the binary does.
 * - Minified (names kept, so class names in errors and stack traces stay readable), with the
 *   source map embedded in the executable: stack traces name src/ files and lines.
 * - Bytecode compiled ahead of time (ESM, so top-level await keeps working): start to
 *   "Streaming from" in ~50 ms instead of ~100 ms, for ~5 MB more.
 * - `@platformatic/kafka` imports `@platformatic/wasm-utils` (CRC-32C, snappy, lz4) and requires the
 *   native `@node-rs/crc32`; both resolve to the streamer's stand-ins
 *   (src/kafka/library/checksum-modules.ts): CRC-32C is the streamer's own, and snappy/lz4 load the
 *   package's `bundled` entry (the WASM module inline, base64) on first use. The default entry would
 *   not work in a binary anyway: it reads `../dist/native.wasm` from disk at load time, and in a
 *   compiled binary that path is `/$bunfs/dist/native.wasm`, which does not exist.
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { kafkaHelpersBuildPlugin } from '../../src/kafka/library/checksum-modules.ts';

const REPO_ROOT = resolve(import.meta.dir, '..', '..');

/** Short name → Bun compile target. */
export const TARGETS = {
  x64: 'bun-linux-x64',
  arm64: 'bun-linux-arm64',
  'x64-musl': 'bun-linux-x64-musl',
  'arm64-musl': 'bun-linux-arm64-musl',
} as const satisfies Record<string, Bun.Build.CompileTarget>;
export type TargetName = keyof typeof TARGETS;

const isTarget = (name: string): name is TargetName => Object.hasOwn(TARGETS, name);

/** The target matching the machine we run on (architecture and C library). */
export function nativeTarget(): TargetName {
  const arch = process.arch === 'arm64' ? 'arm64' : process.arch === 'x64' ? 'x64' : undefined;
  if (arch === undefined) throw new Error(`no build target for this machine's architecture (${process.arch})`);
  // glibc reports its version in the process report; musl does not.
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? arch : `${arch}-musl`;
}

function git(...args: string[]): string | undefined {
  try {
    const run = Bun.spawnSync(['git', ...args], { cwd: REPO_ROOT, stdout: 'pipe', stderr: 'ignore' });
    return run.exitCode === 0 ? run.stdout.toString().trim() : undefined;
  } catch {
    return undefined; // no git on this machine (e.g. the Dockerfile's build stage)
  }
}

/**
 * "commit 1a2b3c4d5e6f" (+"-dirty" when sources differ from it), or '' outside a git checkout.
 * PSQL_STREAMER_COMMIT names the commit where there is no checkout (the Dockerfile's build arg).
 */
function commitInfo(): string {
  const given = process.env.PSQL_STREAMER_COMMIT?.trim();
  if (given) return `commit ${given}`;
  const commit = git('rev-parse', '--short=12', 'HEAD');
  if (commit === undefined) return '';
  const changed = git('status', '--porcelain', '--', 'src', 'package.json', 'bun.lock');
  return `commit ${commit}${changed ? '-dirty' : ''}`;
}

export interface BuiltBinary {
  target: TargetName;
  path: string;
  bytes: number;
  ms: number;
}

/** Builds one target into `<outDir>/psql-streamer-linux-<target>` (written aside, then renamed in). */
export async function buildTarget(target: TargetName, outDir: string, commit = commitInfo()): Promise<BuiltBinary> {
  const started = performance.now();
  const outfile = join(outDir, `psql-streamer-linux-${target}`);
  const staging = join(outDir, `.build-${target}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const info = [commit, `linux-${target}`, `bun ${Bun.version}`].filter(Boolean).join(', ');
  try {
    const result = await Bun.build({
      entrypoints: [join(REPO_ROOT, 'src', 'main.ts')],
      root: REPO_ROOT,
      minify: { whitespace: true, syntax: true, identifiers: true, keepNames: true },
      sourcemap: 'linked',
      bytecode: true,
      format: 'esm',
      define: { PSQL_STREAMER_BUILD_INFO: JSON.stringify(info) },
      plugins: [kafkaHelpersBuildPlugin],
      throw: false,
      compile: {
        target: TARGETS[target],
        outfile: join(staging, 'psql-streamer'),
        autoloadDotenv: false,
        autoloadBunfig: false,
        autoloadTsconfig: false,
        autoloadPackageJson: false,
      },
    });
    if (!result.success) {
      throw new Error(`build of ${target} failed:\n${result.logs.map((entry) => String(entry)).join('\n')}`);
    }
    // The source map is embedded in the executable; the separate .map copy is not shipped.
    renameSync(join(staging, 'psql-streamer'), outfile);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { target, path: outfile, bytes: statSync(outfile).size, ms: Math.round(performance.now() - started) };
}

const USAGE = `Usage: scripts/build [--out DIR] [TARGET...]
  TARGET: ${Object.keys(TARGETS).join(', ')}, native (this machine), all (default)
  --out DIR   where the binaries go (default dist/)
`;

async function main(argv: string[]): Promise<number> {
  let outDir = join(REPO_ROOT, 'dist');
  const wanted = new Set<TargetName>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else if (arg === '--out' || arg.startsWith('--out=')) {
      const value = arg === '--out' ? argv[++i] : arg.slice('--out='.length);
      if (!value) return usage('--out needs a directory');
      outDir = resolve(value);
    } else if (arg === 'all') {
      for (const name of Object.keys(TARGETS) as TargetName[]) wanted.add(name);
    } else if (arg === 'native') {
      wanted.add(nativeTarget());
    } else if (isTarget(arg)) {
      wanted.add(arg);
    } else {
      return usage(`unknown target or option: ${arg}`);
    }
  }
  if (wanted.size === 0) for (const name of Object.keys(TARGETS) as TargetName[]) wanted.add(name);
  mkdirSync(outDir, { recursive: true });
  const commit = commitInfo();
  // One at a time: each build holds a ~100 MB executable in memory, and the machines have 2 cores.
  for (const target of wanted) {
    const built = await buildTarget(target, outDir, commit);
    const mib = (built.bytes / 1024 / 1024).toFixed(1);
    const shown = relative(process.cwd(), built.path) || built.path;
    process.stderr.write(`[build] ${shown.startsWith('..') ? built.path : shown}  ${mib} MiB  (${built.ms} ms)\n`);
  }
  return 0;
}

function usage(message: string): number {
  process.stderr.write(`[build] error: ${message}\n${USAGE}`);
  return 2;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
