// Generates a plugin for every host profile and builds, lints, installs and verifies
// it for real; then the cases verify must refuse. Slow the first time (rhai is
// compiled once per profile into the shared target directory of vitest.config.ts).
import { lstatSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { profiles } from '../lib/kinds/vsmtp/profiles.js';
import { checkHostCache, cli, tempDir, unalign, verify } from './helpers.js';
import { count } from './reliability.js';

const LONG = 20 * 60_000;

async function generate(name: string, ...options: string[]): Promise<string> {
  const project = join(tempDir(), `vsmtp-plugin-${name}`);
  const created = await cli(['new', 'vsmtp', project, '--yes', '--author', 'E2E', ...options]);
  expect(created.exitCode, created.stderr).toBe(0);
  return project;
}

describe.each(profiles.map((p) => [p.id, p] as const))('vsmtp plugin for %s', (id, profile) => {
  it('generates with --verify, then builds, tests, lints and installs', { timeout: LONG }, async () => {
    const project = join(tempDir(), `vsmtp-plugin-e2e-${id}`);
    const created = await cli(['new', 'vsmtp', project, '--yes', '--author', 'E2E', '--profile', id, '--verify', '--json']);
    const out = JSON.parse(created.stdout);
    expect(created.exitCode, JSON.stringify(out.verify, null, 2)).toBe(0);
    expect(out.verify).toMatchObject({ kind: 'vsmtp', ok: true, status: 'passed' });
    const steps = Object.fromEntries(out.verify.steps.map((s: any) => [s.name, s]));
    for (const name of ['build plugin', 'check host compatibility', 'build reference host', 'host: load plugin', 'host: run smoke script']) {
      expect(steps[name], name).toMatchObject({ ok: true, status: 'passed' });
      expect(typeof steps[name].ms).toBe('number');
    }
    // The plugin compiled the host's very rhai: same closure, same cargo hash.
    expect(steps['check host compatibility'].detail).toContain(`rhai ${profile.rhai}, rustc ${profile.officialRustc}`);
    expect(steps['check host compatibility'].detail).toMatch(/the host's compiled rhai \(librhai-[0-9a-f]{16}\)$/);

    // What the generated CI runs (all --locked: the generated Cargo.lock is exactly what
    // cargo resolves, never moved); tests/load.rs loads the built .so as vSMTP does.
    for (const target of ['lint', 'test', 'build']) {
      const make = await execa('make', [target], { cwd: project, reject: false, stdin: 'ignore', all: true });
      expect(make.exitCode, `make ${target}\n${make.all?.split('\n').slice(-30).join('\n')}`).toBe(0);
      if (target === 'test') expect(make.all).toMatch(/test built_library_loads_and_runs_as_in_vsmtp \.\.\. ok/);
    }
    // Under another seed than the plugin's, the loaded library's functions are not
    // found, as in vSMTP: the integration test fails the way the server does.
    const load = join(project, 'tests', 'load.rs');
    const loadSource = readFileSync(load, 'utf8');
    writeFileSync(load, loadSource.replace(/const HASHING_SEED: \[u64; 4\] = \[[^\]]*\];/, 'const HASHING_SEED: [u64; 4] = [7, 7, 7, 7];'));
    const mismatch = await execa('cargo', ['test', '--locked', '--test', 'load'], { cwd: project, reject: false, stdin: 'ignore', all: true });
    expect(mismatch.exitCode).not.toBe(0);
    expect(mismatch.all).toMatch(/ErrorFunctionNotFound\("plugin::greeter \(map\)"/);
    writeFileSync(load, loadSource);
    const rustc = await execa('rustc', ['--version'], { cwd: project });
    expect(rustc.stdout).toContain(`rustc ${profile.officialRustc} `);

    const destdir = tempDir();
    const install = await execa('make', ['install', `DESTDIR=${destdir}`], { cwd: project, reject: false });
    expect(install.exitCode, install.stderr).toBe(0);
    const installed = `/usr/lib/vsmtp/libvsmtp-plugin-e2e-${id}-${profile.vsmtpVersion}.so`;
    expect(lstatSync(join(destdir, installed)).isFile()).toBe(true);
    expect(readlinkSync(join(destdir, `/etc/vsmtp/plugins/vsmtp-plugin-e2e-${id}.so`))).toBe(installed);
    // A changed source is rebuilt before it is installed, never a stale library.
    writeFileSync(join(project, 'src', 'lib.rs'), `${readFileSync(join(project, 'src', 'lib.rs'), 'utf8')}\n// edited\n`);
    const reinstall = await execa('make', ['install', `DESTDIR=${destdir}`], { cwd: project, reject: false });
    expect(reinstall.exitCode, reinstall.stderr).toBe(0);
    expect(reinstall.stdout).toContain('cargo build --release --locked');

    // The second verify finds the host in the cache.
    const again = await verify(project);
    expect(again.exitCode).toBe(0);
    expect(again.report.steps.find((s: any) => s.name === 'build reference host').detail).toMatch(/^cached: /);

    // A bare artifact verifies too: the profile is read from the rhai it embeds.
    const bare = await cli(['verify', out.verify.artifact, '--json']);
    const bareReport = JSON.parse(bare.stdout);
    expect(bare.exitCode, bare.stdout).toBe(0);
    expect(bareReport.steps.find((s: any) => s.name === 'check host compatibility').detail).toContain(profile.title);
    expect(bareReport.steps.find((s: any) => s.name === 'host: run smoke script')).toMatchObject({ status: 'skipped', ok: false });
  });
});

describe('the reference-host cache', () => {
  it('serves two cold verifies of one profile at once, and rebuilds a damaged host', { timeout: LONG }, async () => {
    const project = await generate('cache', '--profile', 'vsmtp-2');
    await checkHostCache([project, project], 'vsmtp-host', 'host/vsmtp-ref-host');
  });
});

/** The verdict verify gives a project after `edit`, as the catalogue below checks it. */
async function verdict(name: string, edit: (project: string) => Promise<void> | void, profile = 'vsmtp-2') {
  const project = await generate(name, '--profile', profile);
  await edit(project);
  return verify(project);
}

const replaceIn = (project: string, path: string, from: string | RegExp, to: string) => {
  const file = join(project, path);
  const text = readFileSync(file, 'utf8');
  const changed = text.replace(from, to);
  expect(changed, `${path}: ${from}`).not.toBe(text);
  writeFileSync(file, changed);
};

const smoke = (report: any) => report.steps.find((s: any) => s.name === 'host: run smoke script');

/*
 * Mistakes a plugin author makes that the real vSMTP 2.2.1 server breaks on, each with
 * the verdict verify must give: the real server answers "Function not found" for them,
 * so the reference host must too, and the compatibility step must name the cause.
 */
describe('mistakes the real vSMTP breaks on fail verify (catalogue)', () => {
  it.each([
    ['vsmtp-2', 'vSMTP 2\\.x', '0\\.8\\.3', /Function not found/],
    // As in the real 3.0-rc.1: another ahash hashes differently, so even integer functions are lost.
    ['vsmtp-3', 'vSMTP 3\\.0 \\(rc\\)', '0\\.8\\.6', /Function not found: \w+::add \(i64, i64\)/],
  ])('%s: no Cargo.lock, alignment or pin (as generated before): the closure moves (ahash first), functions are not found', { timeout: LONG }, async (profile, title, ahash, symptom) => {
    count('plugin faults: vsmtp', { injected: 1 });
    const { exitCode, report } = await verdict(`fresh-${profile}`, unalign, profile);
    expect(exitCode).toBe(1);
    expect(report.cause).toMatch(new RegExp(`rhai's dependency closure differs from ${title}'s in \\d+ places, first: ahash \\(normal graph\\): the host has ${ahash}, the plugin 0\\.8\\.\\d+`));
    expect(report.cause).toMatch(/compiled rhai: the plugin's is librhai-\w+, the host's librhai-\w+/);
    expect(smoke(report).detail).toMatch(symptom);
    count('plugin faults: vsmtp', { handled: 1 });
  });

  it('Cargo.lock deleted: the pins cannot resolve today, and the cause says to restore it', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const { exitCode, report } = await verdict('no-lock', (project) => rmSync(join(project, 'Cargo.lock')));
    expect(exitCode).toBe(1);
    expect(report.steps[0]).toMatchObject({ name: 'build plugin', status: 'failed' });
    expect(report.cause).toMatch(/Cargo\.lock is missing: it pins .* restore it/);
    count('plugin faults: vsmtp', { handled: 1 });
  });

  it('one crate moved by `cargo update -p serde_json`: named, and functions taking maps are not found', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const { exitCode, report } = await verdict('update', async (project) => {
      replaceIn(project, 'Cargo.toml', 'serde_json = { version = "=1.0.95"', 'serde_json = { version = "1.0.95"');
      const update = await execa('cargo', ['update', '-p', 'serde_json', '--precise', '1.0.96'], { cwd: project, reject: false });
      expect(update.exitCode, update.stderr).toBe(0);
    });
    expect(exitCode).toBe(1);
    expect(report.cause).toMatch(/first: serde_json \(normal graph\): the host has 1\.0\.95, the plugin 1\.0\.96/);
    expect(smoke(report).detail).toMatch(/Function not found: .*greeter \(map\)/);
    count('plugin faults: vsmtp', { handled: 1 });
  });

  it('an alignment entry removed: the missing feature is named, functions taking maps are not found', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const { exitCode, report } = await verdict('align', (project) => {
      replaceIn(project, 'Cargo.toml', /^num-traits = .*\n/m, '');
    });
    expect(exitCode).toBe(1);
    expect(report.cause).toMatch(/first: libm 0\.2\.6 \(normal graph\): in the host's rhai closure, not in the plugin's/);
    const compat = report.steps.find((s: any) => s.name === 'check host compatibility');
    expect(compat.detail).toContain('num-traits 0.2.15 (normal graph) features: the host enables i128, libm, the plugin does not');
    expect(smoke(report).detail).toMatch(/Function not found/);
    count('plugin faults: vsmtp', { handled: 1 });
  });

  it('the pinned toolchain cannot be installed: skipped (exit 3) with how to install it, never passed', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const { exitCode, report } = await verdict('toolchain', (project) => replaceIn(project, 'rust-toolchain.toml', /channel = ".*"/, 'channel = "1.0.99"'));
    expect(exitCode).toBe(3);
    expect(report).toMatchObject({ ok: false, status: 'skipped' });
    expect(JSON.stringify(report)).toMatch(/rustup toolchain install/);
    count('plugin faults: vsmtp', { handled: 1 });
  });
});

describe('mistakes in the plugin code fail verify (catalogue)', () => {
  it.each([
    ['the entry point mangled (no #[no_mangle])', 'src/lib.rs', '#[no_mangle]\n', '', /does not export module_entrypoint/],
    ['the seed call unwrapped: the second load aborts the host', 'src/lib.rs', /match rhai::config::hashing::(\w+)\(Some\(HASHING_SEED\)\) \{[\s\S]*?\n    \}\n/, 'rhai::config::hashing::$1(Some(HASHING_SEED)).unwrap();\n', /crashed with SIGABRT|panic/],
    ['a function renamed while rules still call it', 'src/lib.rs', 'pub fn add(', 'pub fn sum(', /Function not found: .*add \(i64, i64\)/],
    ['built as an rlib, not a cdylib', 'Cargo.toml', 'crate-type = ["cdylib", "rlib"]', 'crate-type = ["rlib"]', /cargo built no cdylib/],
  ] as const)('%s', { timeout: LONG }, async (_, path, from, to, expected) => {
    count('plugin faults: vsmtp', { injected: 1 });
    const { exitCode, report } = await verdict(`code-${path.length}-${String(to).length}`, (project) => replaceIn(project, path, from, to));
    expect(exitCode).toBe(1);
    expect(report.ok).toBe(false);
    expect(JSON.stringify(report.steps) + report.cause).toMatch(expected);
    count('plugin faults: vsmtp', { handled: 1 });
  });
});

describe('what the real vSMTP accepts passes verify (catalogue)', () => {
  it('a /// doc comment on an exported type (rhai_codegen 1.6 breaks it; the host pins 1.5.0)', { timeout: LONG }, async () => {
    const { exitCode, report } = await verdict('doc', (project) => {
      replaceIn(project, 'src/lib.rs', '    pub type Greeter = crate::Greeter;', '    /// The plugin object, as scripts see it.\n    pub type Greeter = crate::Greeter;');
    });
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(0);
  });

  it('a plugin built with today\'s rustc for a vSMTP built from source with it: passes, with a warning about the official binaries', { timeout: LONG }, async () => {
    const stable = (await execa('rustc', ['--version'], { env: { RUSTUP_TOOLCHAIN: 'stable' } })).stdout.split(' ')[1]!;
    const { exitCode, report } = await verdict('stable', (project) => replaceIn(project, 'rust-toolchain.toml', /channel = ".*"/, `channel = "${stable}"`));
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(0);
    expect(report.steps.find((s: any) => s.name === 'check host compatibility').detail).toContain(`warning: built with rustc ${stable}, vSMTP 2.x's official binaries with 1.68.2`);
  });
});

describe('verify refuses a plugin that cannot work in its host', () => {
  it('a plugin with another hashing seed', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const project = await generate('seed', '--seed', '5,6,7,8');
    const { exitCode, report } = await verify(project, '--seed', '1,2,3,4');
    expect(exitCode).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.cause).toMatch(/hashing seed: the plugin sets \[5, 6, 7, 8\], the host uses \[1, 2, 3, 4\]/);
    // Loaded anyway, the symptom is the one vSMTP shows.
    expect(report.steps.find((s: any) => s.name === 'host: run smoke script').detail).toMatch(/Function not found/);
    count('plugin faults: vsmtp', { handled: 1 });
  });

  it('a plugin built with another rhai version', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const project = await generate('version', '--profile', 'vsmtp-2');
    const { exitCode, report } = await verify(project, '--profile', 'vsmtp-3');
    expect(exitCode).toBe(1);
    expect(report.cause).toMatch(/rhai version: the plugin is built with rhai 1\.13\.0, the vSMTP 3\.0 \(rc\) host uses rhai 1\.16\.3/);
    count('plugin faults: vsmtp', { handled: 1 });
  });

  it('a plugin whose rhai features differ from the host', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const project = await generate('features', '--profile', 'vsmtp-2');
    const manifest = join(project, 'Cargo.toml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"no_closure", ', ''));
    const { exitCode, report } = await verify(project);
    expect(exitCode).toBe(1);
    expect(report.cause).toMatch(/rhai features: the plugin's differ from the host's \(missing no_closure\)/);
    count('plugin faults: vsmtp', { handled: 1 });
  });

  it('a plugin that hangs: killed at the time limit and reported', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const project = await generate('hang', '--profile', 'vsmtp-2');
    const lib = join(project, 'src', 'lib.rs');
    writeFileSync(lib, readFileSync(lib, 'utf8').replace('a.checked_add(b)', '(loop { std::hint::spin_loop() } as Option<rhai::INT>)'));
    const started = Date.now();
    const { exitCode, report } = await verify(project, '--timeout', '3');
    expect(exitCode).toBe(1);
    expect(report.steps.at(-1)).toMatchObject({ name: 'host: run smoke script', status: 'failed' });
    expect(report.steps.at(-1).detail).toMatch(/^timed out after 3 s/);
    expect(report.cause).toMatch(/does not return/);
    expect(Date.now() - started).toBeLessThan(5 * 60_000);
    count('plugin faults: vsmtp', { handled: 1 });
  });

  it('a plugin that crashes: the signal and the step are reported', { timeout: LONG }, async () => {
    count('plugin faults: vsmtp', { injected: 1 });
    const project = await generate('crash', '--profile', 'vsmtp-2');
    const lib = join(project, 'src', 'lib.rs');
    writeFileSync(lib, readFileSync(lib, 'utf8').replace('    // The seed can be set once', '    std::process::abort();\n    // The seed can be set once'));
    const { exitCode, report } = await verify(project);
    expect(exitCode).toBe(1);
    expect(report.steps.at(-1)).toMatchObject({ name: 'host: load plugin', status: 'failed' });
    expect(report.steps.at(-1).detail).toMatch(/^crashed with SIGABRT/);
    expect(report.cause).toMatch(/^the host crashed with SIGABRT in "load plugin"/);
    count('plugin faults: vsmtp', { handled: 1 });
  });
});
