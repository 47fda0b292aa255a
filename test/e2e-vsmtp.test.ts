// Generates a plugin for every host profile and builds, lints, installs and verifies
// it for real; then the cases verify must refuse. Slow the first time (rhai is
// compiled once per profile into the shared target directory of vitest.config.ts).
import { lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { profiles } from '../lib/kinds/vsmtp/profiles.js';
import { checkHostCache, cli, tempDir, verify } from './helpers.js';
import { count } from './reliability.js';

const LONG = 20 * 60_000;

async function generate(name: string, ...options: string[]): Promise<string> {
  const project = join(tempDir(), `vsmtp-plugin-${name}`);
  const created = await cli(['new', 'vsmtp', project, '--yes', '--author', 'E2E', ...options]);
  expect(created.exitCode, created.stderr).toBe(0);
  return project;
}

async function cargo(project: string, ...args: string[]) {
  const result = await execa('cargo', args, { cwd: project, reject: false, stdin: 'ignore' });
  expect(result.exitCode, `cargo ${args.join(' ')}\n${result.stdout}\n${result.stderr.split('\n').slice(-30).join('\n')}`).toBe(0);
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
    expect(steps['check host compatibility'].detail).toContain(`rhai ${profile.rhai}`);

    await cargo(project, 'build', '--release');
    await cargo(project, 'test');
    await cargo(project, 'clippy', '--all-targets', '--', '-D', 'warnings');
    await cargo(project, 'fmt', '--check');

    const destdir = tempDir();
    const install = await execa('make', ['install', `DESTDIR=${destdir}`], { cwd: project, reject: false });
    expect(install.exitCode, install.stderr).toBe(0);
    const installed = `/usr/lib/vsmtp/libvsmtp-plugin-e2e-${id}-${profile.vsmtpVersion}.so`;
    expect(lstatSync(join(destdir, installed)).isFile()).toBe(true);
    expect(readlinkSync(join(destdir, `/etc/vsmtp/plugins/vsmtp-plugin-e2e-${id}.so`))).toBe(installed);

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
    await checkHostCache([project, project], 'vsmtp-host', 'vsmtp-ref-host');
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
