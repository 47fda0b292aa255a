import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { recordFile, renderProject } from '../lib/core/generate.js';
import { outputPath } from '../lib/core/render.js';
import { vsmtp } from '../lib/kinds/vsmtp/index.js';
import type { ClosureCrate } from '../lib/kinds/vsmtp/closure.js';
import { closureFile, profiles } from '../lib/kinds/vsmtp/profiles.js';
import { root } from './helpers.js';

const base = { name: 'geo-ip', description: 'Geo IP lookups', author: 'Jane Doe <jane@example.com>', license: 'MIT', profile: 'vsmtp-2', seed: '1, 2, 3, 4' };
const file = (files: { path: string; contents: string }[], path: string) => files.find((f) => f.path === path)?.contents;

describe('vsmtp rendering', () => {
  it('maps template paths: dotfiles and placeholders', () => {
    expect(outputPath('_gitignore', {})).toBe('.gitignore');
    expect(outputPath('_github/workflows/ci.yml.ejs', {})).toBe('.github/workflows/ci.yml');
    expect(outputPath('services/__name__.__ext__.ejs', { name: 'x', ext: 'vsl' })).toBe('services/x.vsl');
    expect(() => outputPath('__nope__.ejs', {})).toThrow('no value for __nope__');
  });

  it('never HTML-escapes: every template uses raw output with an explicit escaper', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    for (const path of walk(join(root, 'templates'))) expect(readFileSync(path, 'utf8'), path).not.toContain('<%=');
  });

  it.each(profiles.map((p) => p.id))('pins rhai exactly for the %s profile', async (id) => {
    const profile = profiles.find((p) => p.id === id)!;
    const files = await renderProject(vsmtp, { ...base, profile: id });
    const cargo = parse(file(files, 'Cargo.toml')!) as any;
    expect(cargo.package.name).toBe('vsmtp-plugin-geo-ip');
    expect(cargo.lib['crate-type']).toEqual(['cdylib', 'rlib']);
    expect(cargo.dependencies.rhai).toEqual({ version: `=${profile.rhai}`, 'default-features': profile.rhaiDefaultFeatures, features: profile.rhaiFeatures });
    expect(file(files, 'src/lib.rs')).toContain(`rhai::config::hashing::${profile.seedFunction}(Some(HASHING_SEED))`);
    expect(file(files, `services/geo-ip.${profile.scriptExtension}`)).toContain(`import "${profile.pluginImport('vsmtp-plugin-geo-ip')}" as geo_ip;`);
    expect(file(files, 'Makefile')).toContain(`VSMTP_VERSION ?= ${profile.vsmtpVersion}`);
    expect(parse(file(files, 'rust-toolchain.toml')!)).toMatchObject({ toolchain: { channel: profile.officialRustc } });
  });

  it.each(profiles.map((p) => p.id))('pins the host\'s whole rhai closure for the %s profile', async (id) => {
    const profile = profiles.find((p) => p.id === id)!;
    const files = await renderProject(vsmtp, { ...base, profile: id });
    const cargo = parse(file(files, 'Cargo.toml')!) as any;
    const lock = parse(file(files, 'Cargo.lock')!) as any;
    const host = JSON.parse(closureFile(profile, 'rhai.json')) as ClosureCrate[];
    // Every crate of the host's closure is locked at the host's version, the plugin itself by its name.
    const locked = new Set(lock.package.map((p: any) => `${p.name} ${p.version}`));
    for (const crate of host) expect(locked.has(`${crate.name} ${crate.version}`), `${crate.name} ${crate.version}`).toBe(true);
    expect(lock.package.find((p: any) => p.name === 'vsmtp-plugin-geo-ip')).toMatchObject({ version: '0.1.0' });
    expect(lock.package.find((p: any) => p.name === 'vsmtp-plugin-hello')).toBeUndefined();
    // The alignment entries pin what they enable to exactly the locked version.
    for (const dep of [...profile.align.normal.map((d) => [cargo.dependencies, d] as const), ...profile.align.build.map((d) => [cargo['build-dependencies'], d] as const)]) {
      const [table, align] = dep;
      expect(table[align.key].version ?? table[align.key]).toBe(`=${align.version}`);
      expect(locked.has(`${align.package ?? align.key} ${align.version}`), align.key).toBe(true);
    }
  });

  it('writes vSMTP 3 rules in vSMTP 3 syntax, importing the service beside them', async () => {
    const files = await renderProject(vsmtp, { ...base, profile: 'vsmtp-3' });
    const rule = file(files, 'examples/filter.rhai')!;
    expect(rule).toContain('import "geo-ip" as geo_ip;');
    expect(rule).toMatch(/fn on_mail_from\(ctx\) \{\n    ctx\.run\(\[\n        rule "[^"]+" \|ctx\| \{/);
    expect(rule).toContain('status::next()');
    expect(rule).not.toContain('state::next');
  });

  it('writes the project tree a user expects', async () => {
    const files = await renderProject(vsmtp, base);
    expect(files.map((f) => f.path)).toEqual([
      '.cargo/config.toml',
      '.editorconfig',
      '.github/workflows/ci.yml',
      '.gitignore',
      'Cargo.lock',
      'Cargo.toml',
      'examples/filter.vsl',
      'LICENSE',
      'Makefile',
      'README.md',
      'rust-toolchain.toml',
      'services/geo-ip.vsl',
      'src/lib.rs',
      'tests/load.rs',
      'tests/smoke.rhai',
    ]);
    expect(file(files, 'LICENSE')).toContain(`Copyright (c) ${new Date().getFullYear()} Jane Doe <jane@example.com>`);
  });

  it('writes both texts for the dual Rust license', async () => {
    const files = await renderProject(vsmtp, { ...base, license: 'MIT OR Apache-2.0' });
    expect(file(files, 'LICENSE-MIT')).toMatch(/^MIT License/);
    expect(file(files, 'LICENSE-APACHE')).toMatch(/^Apache License\nVersion 2.0/);
  });

  it('lays out a long seed the way rustfmt does', async () => {
    const big = '18446744073709551615, 18446744073709551614, 18446744073709551613, 18446744073709551612';
    const lib = file(await renderProject(vsmtp, { ...base, seed: big }), 'src/lib.rs')!;
    expect(lib).toContain('const HASHING_SEED: [u64; 4] = [\n    18446744073709551615,\n');
  });

  it('escapes free text so Cargo.toml still parses and keeps it unchanged', async () => {
    const nasty = 'He said "hi" \\ <%= x %> */ """ # ${{ env }} \u202e\n\ttab\u0000nul\u007f end';
    const files = await renderProject(vsmtp, { ...base, description: nasty, author: nasty });
    const cargo = parse(file(files, 'Cargo.toml')!) as any;
    expect(cargo.package.description).toBe(nasty);
    expect(cargo.package.authors).toEqual([nasty]);
    expect(file(files, 'README.md')).toContain(nasty);
    const record = JSON.parse(recordFile(vsmtp, { ...base, description: nasty }).contents);
    expect(record['generator-vsmtp-plugin']).toEqual({ kind: 'vsmtp', answers: { ...base, description: nasty } });
  });
});
