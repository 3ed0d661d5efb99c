/**
 * The FROM-scratch image's file set, without a Docker engine: scripts/image-rootfs (the script the
 * Dockerfile's rootfs stage runs) assembles it into a directory; the test checks that it holds
 * exactly the expected files, then runs the binary inside it with scripts/image-rootfs-run (a
 * private mount namespace with /proc and /dev, chroot) streaming from the throwaway PostgreSQL to
 * the `file` sink: as the image's non-root user (65532, the Dockerfile's USER) with config and
 * state as volumes, and as root. Root only (chroot, mounts), as sessions and CI run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueName, usePostgres } from '../../helpers/pg.ts';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { repoRoot } from '../../helpers/env.ts';
import { dsnFor } from '../../helpers/postgres-source.ts';
import { tempDir, waitFor, completeLines, killChildrenAndDropSlots } from '../../helpers/streamer.ts';
import { buildNative, nativeTarget, run, runOk, spawnChild, stop, VERSION, type Child } from '../../helpers/dist.ts';

const IMAGE_UID = 65532;
const work = tempDir('psql-streamer-image-');
const rootfs = join(work, 'rootfs');
const RUN = join(repoRoot, 'scripts', 'image-rootfs-run');
const children: Child[] = [];
const slots: string[] = [];
let libraries: string[] = [];

afterAll(async () => {
  await killChildrenAndDropSlots(children, slots, pg.sql());
  rmSync(work, { recursive: true, force: true });
});
const pg = usePostgres();

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the image tests need root (chroot, mount namespaces): sessions and CI run as root');
  const binary = await buildNative(join(work, 'build'));
  await runOk([join(repoRoot, 'scripts', 'image-rootfs'), '--binary', binary, rootfs]);
  // What the dynamic loader needs, as ldd reports it for this machine.
  const ldd = await runOk(['ldd', binary]);
  libraries = [...ldd.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)].map((m) => m[1] as string);
  rmSync(join(work, 'build'), { recursive: true });
}, 120_000);

/** `type mode uid:gid path` of everything under `dir`, sorted by path. */
async function listing(dir: string): Promise<string[]> {
  const out = await runOk(['find', dir, '-mindepth', '1', '-printf', '%y %m %U:%G /%P\\n']);
  return out.split('\n').filter(Boolean).sort((a, b) => (a.split(' ')[3]! < b.split(' ')[3]! ? -1 : 1));
}

function parents(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

describe('the image file set (scripts/image-rootfs)', () => {
  test('exactly: binary, loader and libraries, CA bundle, passwd/group, config, state dir, /tmp', async () => {
    const expected = new Map<string, string>([
      ['/psql-streamer', 'f 755 0:0'],
      ['/etc/ssl/certs/ca-certificates.crt', 'f 644 0:0'],
      ['/etc/passwd', 'f 644 0:0'],
      ['/etc/group', 'f 644 0:0'],
      ['/etc/psql-streamer/psql-streamer.toml', 'f 644 0:0'],
      ['/var/lib/psql-streamer', `d 750 ${IMAGE_UID}:${IMAGE_UID}`],
      ['/tmp', 'd 1777 0:0'],
    ]);
    expect(libraries.some((lib) => /\/ld-linux[^/]*\.so/.test(lib))).toBe(true);
    expect(libraries.some((lib) => lib.endsWith('/libc.so.6'))).toBe(true);
    for (const lib of libraries) expected.set(lib, /\/ld-linux/.test(lib) ? 'f 755 0:0' : 'f 644 0:0');
    for (const path of [...expected.keys()]) for (const dir of parents(path)) if (!expected.has(dir)) expected.set(dir, 'd 755 0:0');
    const want = [...expected].map(([path, meta]) => `${meta} ${path}`).sort((a, b) => (a.split(' ')[3]! < b.split(' ')[3]! ? -1 : 1));
    expect(await listing(rootfs)).toEqual(want);
  });

  test('passwd and group: root and the image user 65532; config: the example with HTTP on all interfaces', () => {
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toContain(`psql-streamer:x:${IMAGE_UID}:${IMAGE_UID}:`);
    expect(readFileSync(join(rootfs, 'etc/group'), 'utf8')).toContain(`psql-streamer:x:${IMAGE_UID}:`);
    const example = readFileSync(join(repoRoot, 'psql-streamer.toml'), 'utf8');
    const config = readFileSync(join(rootfs, 'etc/psql-streamer/psql-streamer.toml'), 'utf8');
    expect(config).toMatch(/^http = "0\.0\.0\.0:12080"$/m);
    expect(config).toMatch(/^boltdb = "\/var\/lib\/psql-streamer\/state\.db"$/m);
    const withoutHttp = (text: string) => text.split('\n').filter((line) => !/^http = |^# In the container image/.test(line));
    expect(withoutHttp(config)).toEqual(withoutHttp(example));
  });

  test('runs in the chroot: --version as the image user, check of the image\'s own config as root', async () => {
    const version = await run([RUN, rootfs, '--', '--version']);
    expect(version.stdout).toStartWith(`psql-streamer ${VERSION} (`);
    expect(version.stdout).toContain(`linux-${nativeTarget()}`);
    expect(version.code).toBe(0);
    const check = await run([RUN, rootfs, '--root', '--', 'check', '-config', '/etc/psql-streamer/psql-streamer.toml']);
    expect(check.stdout).toBe('/etc/psql-streamer/psql-streamer.toml: OK (1 source(s), 1 sink(s))\n');
    expect(check.code).toBe(0);
  });

  for (const user of ['image user 65532', 'root'] as const) {
    test(`PostgreSQL → file sink inside the chroot as ${user}, config and state as volumes`, async () => {
      const asRoot = user === 'root';
      const table = uniqueName('img');
      const publication = uniqueName('pub');
      const slot = uniqueName('slot');
      slots.push(slot);
      const sql = pg.sql();
      await sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, v text); CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
      const config = join(work, `config-${slot}`);
      const state = join(work, `state-${slot}`);
      mkdirSync(config);
      mkdirSync(state, { mode: 0o750 });
      if (!asRoot) chownSync(state, IMAGE_UID, IMAGE_UID);
      const server = pg.server;
      // 127.0.0.1 reaches the host's server: the chroot shares the network.
      writeFileSync(join(config, 'psql-streamer.toml'), postgresToFileToml({
        dsn: dsnFor(server, { host: '127.0.0.1' }), publication, slot, statusInterval: null,
        state: '/var/lib/psql-streamer/state.db', out: '/var/lib/psql-streamer/events.jsonl',
      }));
      const args = [RUN, rootfs, ...(asRoot ? ['--root'] : []), '-v', `${config}:/etc/psql-streamer`, '-v', `${state}:/var/lib/psql-streamer`];
      const child = spawnChild(args, { cwd: work, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
      children.push(child);
      await child.waitForLog('Streaming from');
      await sql.unsafe(`INSERT INTO ${table} VALUES (1, 'a'), (2, 'b'); UPDATE ${table} SET v = 'c' WHERE id = 1`);
      const out = join(state, 'events.jsonl');
      const lines = () => completeLines(out);
      await waitFor('3 events in the state volume', () => lines().length >= 3, 20_000, () => child.stderr());
      expect(lines().map((line) => JSON.parse(line).Columns)).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { id: 1, v: 'c' }]);
      expect(await stop(child)).toBe(0);
      expect(child.stderr()).toContain('Service shutdown complete');
      const owner = asRoot ? 0 : IMAGE_UID;
      for (const file of ['events.jsonl', 'state.db']) expect(statSync(join(state, file)).uid).toBe(owner);
    });
  }
});
