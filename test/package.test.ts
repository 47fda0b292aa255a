// What `npm pack` ships is what the bin needs (built JS, generators, templates, reference
// hosts) and nothing else; installed from the tarball into an empty prefix, the bin works.
import { chmodSync, chownSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { root, tempDir } from './helpers.js';

describe('the packed tarball', () => {
  it('holds only what the bin needs, and installs and runs from an empty prefix', { timeout: 10 * 60_000 }, async () => {
    const out = tempDir();
    const packed = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: root });
    const [{ filename, files }] = JSON.parse(packed.stdout);
    const paths: string[] = files.map((file: { path: string }) => file.path);
    for (const path of paths) expect(path, 'shipped').toMatch(/^(dist\/lib\/.*\.js|dist\/bin\/.*\.cjs|generators\/\w+\/index\.js|templates\/.+|hosts\/.+|README\.md|LICENSE|package\.json)$/);
    for (const needed of ['dist/bin/vsmtp-plugin.cjs', 'dist/bin/cli.cjs', 'dist/bin/vendor/execa.cjs', 'dist/lib/yeoman.js', 'hosts/mailerq/host.c', 'hosts/vsmtp/src/main.rs', 'hosts/lgc/lgc_host.py', 'hosts/vpl/vpl_host.py', 'templates/mailerq/CMakeLists.txt.ejs']) expect(paths).toContain(needed);
    // The CLI ships once, bundled: tsc's compiled cli.js and bin.js would never run.
    expect(paths.filter((path) => /^dist\/lib\/(cli|bin)\.js$/.test(path))).toEqual([]);
    // The hosts' own test suites and helper scripts stay in the repository.
    expect(paths.filter((path) => !path.startsWith('templates/') && /test_|selftest|test-plugins|\/real\/|\.map$/.test(path))).toEqual([]);

    const prefix = tempDir();
    const install = await execa('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(out, filename)], { reject: false });
    expect(install.exitCode, install.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'vsmtp-plugin');
    const list = await execa(bin, ['list', '--json']);
    expect(JSON.parse(list.stdout).kinds.map((kind: { id: string }) => kind.id)).toEqual(['vsmtp', 'mailerq', 'lgc', 'vpl']);
    const project = join(tempDir(), 'from-tarball');
    const created = await execa(bin, ['new', 'mailerq', project, '-y', '--no-git'], { reject: false });
    expect(created.exitCode, created.stderr).toBe(0);
    expect(existsSync(join(project, 'stand-in', 'mailerq.h'))).toBe(true);

    // npx, with nothing installed: the README's third route.
    const npx = await execa('npx', ['--yes', '--package', join(out, filename), 'vsmtp-plugin', 'new', 'vpl', join(tempDir(), 'via-npx'), '-y', '--no-git'], { reject: false, env: { npm_config_cache: tempDir() } });
    expect(npx.exitCode, npx.stderr).toBe(0);
    expect(npx.stdout).toMatch(/Next:/);
  });

  it('npm link makes the generator one that yo finds (the README\'s route for yo)', { timeout: 5 * 60_000 }, async () => {
    const prefix = tempDir();
    chmodSync(prefix, 0o755);
    // --ignore-scripts: dist is built already (npm test builds first), and other tests run it.
    const link = await execa('npm', ['link', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: root, env: { npm_config_prefix: prefix }, reject: false });
    expect(link.exitCode, link.stderr).toBe(0);
    const work = tempDir();
    chmodSync(work, 0o755);
    const asRoot = process.getuid?.() === 0;
    const home = tempDir();
    if (asRoot) for (const dir of [work, home]) chownSync(dir, 1000, 1000);
    const yo = await execa(join(root, 'node_modules', '.bin', 'yo'), ['vsmtp-plugin:vpl', '--yes', '--no-insight'], {
      cwd: work,
      env: { npm_config_prefix: prefix, HOME: home, NO_UPDATE_NOTIFIER: '1', ...(asRoot ? { SUDO_UID: '1000', SUDO_GID: '1000' } : {}) },
      reject: false,
      stdin: 'ignore',
      all: true,
    });
    expect(yo.exitCode, yo.all).toBe(0);
    expect(existsSync(join(work, 'metadata.toml'))).toBe(true);
  });
});
