// LogCraft lgc plugins: Python compiled by componentize-py into a component, built
// with each package tool for both plugin APIs and run in the reference host
// (wasmtime with lgc's limits); then components that must be refused by name.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, verify } from './helpers.js';
import { count, fault } from './reliability.js';

const LONG = 20 * 60_000;

describe.each([
  ['1', 'pip'],
  ['1', 'poetry'],
  ['0.1', 'pip'],
  ['0.1', 'poetry'],
] as const)('lgc plugin API %s with %s', (api, tool) => {
  it('generates, builds, tests and verifies in the reference host', { timeout: LONG }, async () => {
    const name = `siem-${api.replace('.', '-')}-${tool}`;
    const project = join(tempDir(), name);
    const created = await cli(['new', 'lgc', project, '--name', name, '--api', api, '--package-tool', tool, '--yes', '--author', 'E2E', '--verify', '--json']);
    const out = JSON.parse(created.stdout);
    expect(created.exitCode, JSON.stringify(out.verify?.steps?.filter((s: any) => !s.ok), null, 2)).toBe(0);
    expect(out.verify).toMatchObject({ kind: 'lgc', ok: true, status: 'passed', artifact: join(project, `${name}.wasm`) });
    const steps = Object.fromEntries(out.verify.steps.map((s: any) => [s.name, s]));
    for (const step of ['install pinned tools', 'build component', 'plugin tests', 'host: load()', 'host: settings()', 'host: schema()', 'host: read()', 'host: ping()']) {
      expect(steps[step], step).toMatchObject({ ok: true });
    }
    expect(steps['host: load()'].detail).toContain(name);
    if (api === '1') expect(steps['host: validate()'].ok).toBe(true);
    else expect(steps['host: validate()']).toMatchObject({ status: 'skipped', ok: false });

    // The compiled component is cached: a second verify does not compile it again.
    const again = await verify(project);
    expect(again.exitCode).toBe(0);
    expect(again.report.steps.find((s: any) => s.name === 'host: compile').detail).toMatch(/cached/);

    // The bare component verifies too: the calls that need sample settings are
    // skipped without them, and run with them.
    const wasm = join(project, `${name}.wasm`);
    const bare = await verify(wasm, '--api', api);
    expect(bare.exitCode, JSON.stringify(bare.report.steps, null, 2)).toBe(0);
    expect(bare.report.steps.find((s: any) => s.name === 'host: ping()')).toMatchObject({ status: 'skipped', detail: 'no sample settings: pass --config FILE --detection FILE' });
    const samples = join(project, 'samples');
    const full = await verify(wasm, '--api', api, '--config', join(samples, 'config.json'), '--detection', join(samples, 'detection.json'));
    expect(full.exitCode).toBe(0);
    expect(full.report.steps.find((s: any) => s.name === 'host: ping()')).toMatchObject({ status: 'passed', ok: true });
  });
});

describe('verify refuses a component that breaks lgc\'s rules', () => {
  let project: string;
  const original: Record<string, string> = {};
  const edit = (file: string, from: string, to: string) => {
    const path = join(project, file);
    original[file] ??= readFileSync(path, 'utf8');
    const changed = original[file]!.replace(from, to);
    expect(changed, `${file} has ${from}`).not.toBe(original[file]);
    writeFileSync(path, changed);
  };
  const restore = () => {
    for (const [file, text] of Object.entries(original)) writeFileSync(join(project, file), text);
  };

  it.each([
    ['settings() returning invalid JSON', 'app.py', 'return json.dumps(logic.SETTINGS_SCHEMA).encode()', 'return b"{not json"', /settings\(\).*invalid JSON/],
    ['load() returning a name that is not kebab-case', 'app.py', 'name=logic.PLUGIN_NAME', 'name="Bad_Name"', /not kebab-case/],
    ['a plain exception (a trap)', 'app.py', 'return _checked(lambda: logic.ping(logic.parse_config(config)))', 'raise RuntimeError("boom")', /trap/i],
    ['an allocation past the memory limit', 'app.py', 'return _checked(lambda: logic.ping(logic.parse_config(config)))', 'return len(bytearray(80 * 1024 * 1024)) > 0', /memory/i],
  ] as const)('%s', { timeout: LONG }, async (_, file, from, to, message) => {
    project ??= await (async () => {
      const dir = join(tempDir(), 'faulty');
      const created = await cli(['new', 'lgc', dir, '--name', 'faulty', '--yes', '--author', 'E2E']);
      expect(created.exitCode, created.stderr).toBe(0);
      return dir;
    })();
    restore();
    edit(file, from, to);
    await fault('plugin faults: lgc', async () => {
      const { exitCode, report } = await verify(project);
      expect(exitCode).toBe(1);
      expect(report.ok).toBe(false);
      expect(report.cause).toMatch(message);
    });
  });
});

describe('verify refuses a .wasm that is no lgc plugin, naming the problem', () => {
  it.each([
    ['not WebAssembly at all', Buffer.from('#!/bin/sh\necho plugin\n'), /not a component: the file is not WebAssembly \(no \\0asm magic\)/],
    ['a core module, not a component', Buffer.from('0061736d01000000', 'hex'), /not a component: the file is a core WebAssembly module, not a component/],
    ['a component of another world (it exports nothing)', Buffer.from('0061736d0d000100', 'hex'), /wrong world: the component does not export interface logcraft:lgc\/plugin@[\d.]+ .*it exports \[\]/],
    ['a truncated component', Buffer.from('0061736d0d0001000700', 'hex'), /compile/],
  ] as const)('%s', { timeout: LONG }, async (_, bytes, message) => {
    const dir = tempDir();
    const wasm = join(dir, 'plugin.wasm');
    writeFileSync(wasm, bytes);
    const { exitCode, report } = await verify(wasm);
    expect(exitCode).toBe(1);
    expect(report).toMatchObject({ ok: false, status: 'failed' });
    expect(report.cause).toMatch(message);
    // Nothing is written beside the file.
    expect(readdirSync(dir)).toEqual(['plugin.wasm']);
    count('hostile .wasm', { refused: 1 });
  });
});
