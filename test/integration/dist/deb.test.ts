/**
 * The packages of scripts/package for this machine's architecture. The .deb: its control data,
 * contents, conffiles and maintainer scripts; installed, upgraded, removed and purged with the real
 * dpkg into a scratch root (`dpkg --root DIR --force-script-chrootless`: the maintainer scripts
 * run on this machine with DPKG_ROOT=DIR and must touch nothing outside it, which the test checks),
 * and the installed binary run. The systemd unit checked with systemd-analyze. The .rpm: contents
 * with modes and owners, config file, scriptlets and requirements (rpm -qp). Root only, as
 * sessions and CI run (dpkg writes files owned by other users).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/env.ts';
import { tempDir } from '../../helpers/streamer.ts';
import { run, runOk, VERSION } from '../../helpers/dist.ts';

const work = tempDir('psql-streamer-deb-');
const out = join(work, 'out');
const DEB_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const RPM_ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const PKG_VERSION = VERSION.replace('-', '~');
const deb = join(out, `psql-streamer_${PKG_VERSION}_${DEB_ARCH}.deb`);
const rpm = join(out, `psql-streamer-${PKG_VERSION}-1.${RPM_ARCH}.rpm`);
const CONFIG = '/etc/psql-streamer/psql-streamer.toml';

afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the package tests need root (dpkg installs files owned by other users): sessions and CI run as root');
  const started = performance.now();
  await runOk([join(repoRoot, 'scripts', 'package'), '--out', out, DEB_ARCH]);
  console.log(`scripts/package ${DEB_ARCH}: ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
    `.deb ${(statSync(deb).size / 1024 / 1024).toFixed(1)} MiB, .rpm ${(statSync(rpm).size / 1024 / 1024).toFixed(1)} MiB`);
}, 180_000);

/** A scratch root with just what dpkg and the maintainer scripts expect: users, and dpkg's database. */
function scratchRoot(name: string): string {
  const root = join(work, name);
  for (const dir of ['etc', 'var/lib/dpkg/info', 'var/lib/dpkg/updates']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  return root;
}

/** dpkg on the scratch root. The root lacks libc6 and passwd, which the package depends on. */
function dpkg(root: string, ...args: string[]) {
  return run(['dpkg', `--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-confold', ...args]);
}

function field(passwdOrGroup: string, name: string, index: number): string | undefined {
  const line = passwdOrGroup.split('\n').find((l) => l.startsWith(`${name}:`));
  return line?.split(':')[index];
}

/** What the host's own files look like, to prove the maintainer scripts left them alone. */
function hostState(): string {
  return ['/etc/passwd', '/etc/group', '/etc/shadow'].map((f) => readFileSync(f, 'utf8')).join('\n---\n') +
    String(existsSync('/var/lib/psql-streamer')) + String(existsSync(CONFIG));
}

describe('.deb', () => {
  test('control: name, version, architecture, dependencies, section', async () => {
    const control = await runOk(['dpkg-deb', '-f', deb]);
    expect(control).toContain('Package: psql-streamer\n');
    expect(control).toContain(`Version: ${PKG_VERSION}\n`);
    expect(control).toContain(`Architecture: ${DEB_ARCH}\n`);
    expect(control).toMatch(/^Depends: libc6 \(>= 2\.\d+\), passwd$/m);
    expect(control).toContain('Section: admin\n');
    expect(control).toMatch(/^Installed-Size: \d+$/m);
    expect(control).toMatch(/^Description: .+\n .+/m);
  });

  test('contents: binary, unit, config, docs; owned by root with the right modes', async () => {
    const listing = (await runOk(['dpkg-deb', '-c', deb])).split('\n').filter(Boolean).map((line) => {
      const [mode, owner, , , , path] = line.split(/\s+/);
      return `${mode} ${owner} ${path}`;
    });
    expect(listing.filter((l) => l.startsWith('-'))).toEqual([
      '-rw-r--r-- root/root ./etc/psql-streamer/psql-streamer.toml',
      '-rwxr-xr-x root/root ./usr/bin/psql-streamer',
      '-rw-r--r-- root/root ./usr/lib/systemd/system/psql-streamer.service',
      '-rw-r--r-- root/root ./usr/share/doc/psql-streamer/README.md',
      '-rw-r--r-- root/root ./usr/share/doc/psql-streamer/copyright',
    ]);
    expect(listing.every((l) => l.includes(' root/root '))).toBe(true);
  });

  test('conffiles and maintainer scripts: as in packaging/deb/, executable', async () => {
    const control = join(work, 'control');
    await runOk(['dpkg-deb', '--control', deb, control]);
    expect(readFileSync(join(control, 'conffiles'), 'utf8')).toBe(`${CONFIG}\n`);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      expect(readFileSync(join(control, script), 'utf8')).toBe(readFileSync(join(repoRoot, 'packaging/deb', script), 'utf8'));
      expect(statSync(join(control, script)).mode & 0o777).toBe(0o755);
      expect((await run(['sh', '-n', join(control, script)])).code).toBe(0);
    }
    expect(readFileSync(join(control, 'md5sums'), 'utf8')).toContain('  usr/bin/psql-streamer\n');
  });

  test('install into a scratch root: user, state directory, config permissions, a working binary; the host untouched', async () => {
    const before = hostState();
    const root = scratchRoot('install');
    const installed = await dpkg(root, '-i', deb);
    expect(installed.stderr).not.toContain('error');
    expect(installed.code).toBe(0);

    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const group = readFileSync(join(root, 'etc/group'), 'utf8');
    const uid = Number(field(passwd, 'psql-streamer', 2));
    const gid = Number(field(group, 'psql-streamer', 2));
    expect(uid).toBeGreaterThan(0);
    expect(uid).toBeLessThan(1000); // a system user
    expect(field(passwd, 'psql-streamer', 5)).toBe('/var/lib/psql-streamer');
    expect(field(passwd, 'psql-streamer', 6)).toBe('/usr/sbin/nologin');

    const stateDir = statSync(join(root, 'var/lib/psql-streamer'));
    expect([stateDir.isDirectory(), stateDir.mode & 0o7777, stateDir.uid, stateDir.gid]).toEqual([true, 0o750, uid, gid]);
    const config = statSync(join(root, CONFIG));
    expect([config.mode & 0o7777, config.uid, config.gid]).toEqual([0o640, 0, gid]);
    expect(readFileSync(join(root, CONFIG), 'utf8')).toBe(readFileSync(join(repoRoot, 'psql-streamer.toml'), 'utf8'));
    const binary = statSync(join(root, 'usr/bin/psql-streamer'));
    expect([binary.mode & 0o7777, binary.uid]).toEqual([0o755, 0]);

    const status = readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8');
    expect(status).toContain('Status: install ok installed');
    expect(status).toMatch(new RegExp(`Conffiles:\\n ${CONFIG} [0-9a-f]{32}`));

    const version = await runOk([join(root, 'usr/bin/psql-streamer'), '--version'], { cwd: root });
    expect(version).toStartWith(`psql-streamer ${VERSION} (`);
    const check = await runOk([join(root, 'usr/bin/psql-streamer'), 'check', '-config', join(root, CONFIG)], { cwd: root });
    expect(check).toContain(': OK (1 source(s), 1 sink(s))');
    expect(hostState()).toBe(before);
  });

  test('the systemd unit: valid for systemd-analyze; non-root, restarts on failure, limits, hardening', async () => {
    const root = join(work, 'install');
    const unitText = readFileSync(join(root, 'usr/lib/systemd/system/psql-streamer.service'), 'utf8');
    for (const line of [
      'User=psql-streamer', 'Group=psql-streamer', 'Restart=on-failure', 'RestartSec=5s', 'RestartPreventExitStatus=2 3',
      'LimitNOFILE=65536', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/psql-streamer',
      'StateDirectory=psql-streamer', 'ExecStart=/usr/bin/psql-streamer -config /etc/psql-streamer/psql-streamer.toml',
      'WantedBy=multi-user.target',
    ]) expect(unitText).toContain(`\n${line}\n`);
    expect(unitText).not.toContain('MemoryDenyWriteExecute=yes'); // the JIT needs writable+executable memory
    // systemd-analyze wants ExecStart to exist on this machine: point it at the scratch root's copy.
    const unit = join(work, 'psql-streamer.service');
    writeFileSync(unit, unitText.replace('ExecStart=/usr/bin/psql-streamer', `ExecStart=${join(root, 'usr/bin/psql-streamer')}`));
    const verify = await run(['systemd-analyze', 'verify', '--man=no', unit]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  });

  test('reinstall keeps a changed config; remove keeps config and state; purge deletes them, the user stays', async () => {
    const before = hostState();
    const root = scratchRoot('lifecycle');
    expect((await dpkg(root, '-i', deb)).code).toBe(0);
    const config = join(root, CONFIG);
    writeFileSync(config, `${readFileSync(config, 'utf8')}\n# changed by the operator\n`);
    writeFileSync(join(root, 'var/lib/psql-streamer/state.db'), 'positions');

    // An upgrade (here: the same version again) leaves the operator's changes alone.
    const again = await dpkg(root, '-i', deb);
    expect(again.code).toBe(0);
    expect(readFileSync(config, 'utf8')).toEndWith('# changed by the operator\n');

    const removed = await dpkg(root, '--remove', 'psql-streamer');
    expect(removed.code).toBe(0);
    expect(existsSync(join(root, 'usr/bin/psql-streamer'))).toBe(false);
    expect(existsSync(join(root, 'usr/lib/systemd/system/psql-streamer.service'))).toBe(false);
    expect(readFileSync(config, 'utf8')).toEndWith('# changed by the operator\n');
    expect(readFileSync(join(root, 'var/lib/psql-streamer/state.db'), 'utf8')).toBe('positions');

    const purged = await dpkg(root, '--purge', 'psql-streamer');
    expect(purged.code).toBe(0);
    expect(existsSync(join(root, 'etc/psql-streamer'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/psql-streamer'))).toBe(false);
    expect(existsSync(join(root, 'usr/share/doc/psql-streamer'))).toBe(false);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toContain('psql-streamer:');
    expect(readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8')).not.toContain('Package: psql-streamer');
    expect(hostState()).toBe(before);
  });
});

describe('.rpm', () => {
  test('header: name, version, release, architecture, license, requirements', async () => {
    const info = await runOk(['rpm', '-qp', '--qf', '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}\\n', rpm]);
    expect(info).toBe(`psql-streamer ${PKG_VERSION} 1 ${RPM_ARCH} MPL-2.0\n`);
    const requires = (await runOk(['rpm', '-qp', '--requires', rpm])).split('\n');
    expect(requires).toContain('/usr/sbin/useradd');
    expect(requires.some((r) => /^glibc >= 2\.\d+$/.test(r))).toBe(true);
  });

  test('contents with modes and owners; the config file is %config(noreplace), readable by the service group', async () => {
    const files = (await runOk(['rpm', '-qp', '--qf', '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\\n]', rpm])).split('\n').filter(Boolean);
    expect(files.sort()).toEqual([
      '-rw-r--r-- root:root /usr/lib/systemd/system/psql-streamer.service',
      '-rw-r--r-- root:root /usr/share/doc/psql-streamer/README.md',
      '-rw-r----- root:psql-streamer /etc/psql-streamer/psql-streamer.toml',
      '-rwxr-xr-x root:root /usr/bin/psql-streamer',
      'drwxr-x--- psql-streamer:psql-streamer /var/lib/psql-streamer',
      'drwxr-xr-x root:root /etc/psql-streamer',
    ].sort());
    expect(await runOk(['rpm', '-qp', '--configfiles', rpm])).toBe(`${CONFIG}\n`);
    const flags = await runOk(['rpm', '-qp', '--qf', '[%{FILEFLAGS:fflags} %{FILENAMES}\\n]', rpm]);
    expect(flags).toContain(`cn ${CONFIG}\n`); // c: config, n: noreplace
  });

  test('scriptlets: the user before install, systemd reload, stop on erase, restart on upgrade', async () => {
    const scripts = await runOk(['rpm', '-qp', '--scripts', rpm]);
    expect(scripts).toMatch(/preinstall scriptlet[^\n]*\n[^]*useradd --system --gid psql-streamer/);
    expect(scripts).toMatch(/postinstall scriptlet[^\n]*\n[^]*systemctl daemon-reload/);
    expect(scripts).toMatch(/preuninstall scriptlet[^\n]*\n[^]*systemctl stop psql-streamer\.service/);
    expect(scripts).toMatch(/postuninstall scriptlet[^\n]*\n[^]*systemctl try-restart psql-streamer\.service/);
  });

  test('the payload holds the same binary as the .deb', async () => {
    const extract = join(work, 'rpm-payload');
    mkdirSync(extract);
    // rpm2archive (from rpm's own tools) writes FILE.tar beside FILE (-n: uncompressed).
    await runOk(['rpm2archive', '-n', rpm]);
    await runOk(['tar', '-xf', `${rpm}.tar`, '-C', extract]);
    const fromDeb = join(work, 'deb-payload');
    await runOk(['dpkg-deb', '-x', deb, fromDeb]);
    const hash = (file: string) => new Bun.CryptoHasher('sha256').update(readFileSync(file)).digest('hex');
    expect(hash(join(extract, 'usr/bin/psql-streamer'))).toBe(hash(join(fromDeb, 'usr/bin/psql-streamer')));
  });
});
