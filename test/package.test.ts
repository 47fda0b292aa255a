// What `npm pack` ships is what the bin needs (built JS, generators, templates, reference
// hosts) and nothing else; installed from the tarball into an empty prefix, the bin works.
import { existsSync } from 'node:fs';
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
    for (const path of paths) expect(path, 'shipped').toMatch(/^(dist\/lib\/.*\.js|generators\/\w+\/index\.js|templates\/.+|hosts\/.+|README\.md|LICENSE|package\.json)$/);
    for (const needed of ['dist/lib/cli.js', 'dist/lib/yeoman.js', 'hosts/mailerq/host.c', 'hosts/vsmtp/src/main.rs', 'hosts/lgc/lgc_host.py', 'hosts/vpl/vpl_host.py', 'templates/mailerq/CMakeLists.txt.ejs']) expect(paths).toContain(needed);
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
  });
});
