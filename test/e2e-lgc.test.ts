// LogCraft lgc plugins: Python compiled by componentize-py into a component, built
// with each package tool for both plugin APIs and run in the reference host
// (wasmtime with lgc 1.1.1's limits; for API 0.1, lgc 0.1's own runtime on wasmtime
// 22); then components that must be refused by name.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { cacheDir } from '../lib/core/cache.js';
import { which } from '../lib/core/exec.js';
import { pins } from '../lib/kinds/lgc/index.js';
import { cli, root, tempDir, testSiem, verify } from './helpers.js';
import { count, fault } from './reliability.js';

const LONG = 20 * 60_000;

/** The steps that replay lgc's commands against the test SIEM, in order. */
const COMMANDS = ['ping()', 'plan: read() before apply', 'apply: create()', 'plan after apply: read()', 'apply changed rule: read(), update()', 'destroy: read(), delete()'].map((step) => `host: ${step}`);

/** The Poetry verify ran the project's make with: the one on PATH, else the pinned one it cached. */
const poetry = () => which('poetry') ?? `${join(cacheDir(), 'poetry', pins.poetry, 'venv', 'bin', 'python')} -m poetry`;

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
    for (const step of ['install pinned tools', 'build component', 'plugin tests', 'host: load()', 'host: settings()', 'host: schema()', 'host: test SIEM', ...COMMANDS]) {
      expect(steps[step], step).toMatchObject({ ok: true, status: 'passed' });
    }
    expect(steps['host: load()'].detail).toContain(name);
    if (api === '1') {
      expect(steps['host: settings()'].detail).toContain('lgc services create takes severity="medium" (one of "low", "medium", "high", "critical")');
      expect(steps['host: validate()']).toMatchObject({ ok: true, status: 'passed' });
    } else {
      expect(steps['lgc 0.1 runtime']).toMatchObject({ ok: true, status: 'passed' });
      expect(steps['host: compile'].detail).toMatch(/^lgc 0\.1's runtime \(wasmtime 22\)/);
      expect(steps['host: settings()'].detail).toBe('lgc services add takes severity="medium", timeout=30, token="", url="http://127.0.0.1:8080"');
      expect(steps['host: lgc validate (KCL)']).toMatchObject({ ok: true, status: 'passed', detail: 'kclvm passes the sample settings and detections and refuses the broken one' });
    }
    expect(steps['host: ping()'].detail).toMatch(/^ok\(true\) from http:\/\/127\.0\.0\.1:\d+; err for a dead one \(cannot reach/);

    // verify builds with a virtual environment in the cache, shared by projects with
    // the same pins, and leaves the project's own .venv to its author's make.
    const venv = /(?:cached|cached for next time): (\S+\/lgc-venv\/\w+\/venv)$/.exec(steps['install pinned tools'].detail)?.[1];
    expect(venv, steps['install pinned tools'].detail).toBeDefined();
    expect(existsSync(join(project, '.venv'))).toBe(false);
    if (api === '1' && tool === 'pip') {
      const second = join(tempDir(), 'second');
      expect((await cli(['new', 'lgc', second, '--name', 'second', '--description', 'Another plugin', '--yes', '--author', 'Other'])).exitCode).toBe(0);
      const reused = await verify(second);
      expect(reused.exitCode, JSON.stringify(reused.report.steps, null, 2)).toBe(0);
      expect(reused.report.steps.find((s: any) => s.name === 'install pinned tools').detail).toBe(`cached: ${venv}`);
    }

    // make lint passes on the fresh project, once per package tool (each with another
    // API): the author's make makes the project's .venv, and only it installs the linters.
    if ((api === '1' && tool === 'pip') || (api === '0.1' && tool === 'poetry')) {
      const lint = await execa('make', ['lint', ...(tool === 'poetry' ? [`POETRY=${poetry()}`] : [])], { cwd: project, reject: false, stdin: 'ignore' });
      expect(lint.exitCode, `${lint.stdout}\n${lint.stderr}`).toBe(0);
      expect(lint.stdout).toMatch(/All checks passed![\s\S]*Success: no issues found/);
    }

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
    // With samples, the calls go to the service --config names: here the project's test SIEM.
    const siem = await testSiem(project);
    try {
      const samples = join(project, 'samples');
      const config = join(tempDir(), 'config.json');
      writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(join(samples, 'config.json'), 'utf8')), url: siem.url }));
      const full = await verify(wasm, '--api', api, '--config', config, '--detection', join(samples, 'detection.json'), '--changed-detection', join(samples, 'detection-updated.json'));
      expect(full.exitCode, JSON.stringify(full.report.steps, null, 2)).toBe(0);
      expect(full.report.steps.find((s: any) => s.name === 'host: test SIEM').detail).toBe(`none started: calls go to the service in --config (${siem.url})`);
      for (const step of COMMANDS) expect(full.report.steps.find((s: any) => s.name === step), step).toMatchObject({ ok: true, status: 'passed' });
      expect(siem.log()).toMatch(/DELETE \/rules\/Suspicious%20PowerShell%20download -> 204/);
    } finally {
      siem.stop();
    }
  });
});

type Edit = [file: string, from: string | RegExp, to: string];
const logic = 'plugin_logic.py';
const app = 'app.py';

/** One generated project per API, edited case by case and restored between cases. */
function catalogueProject(api: '1' | '0.1') {
  let project: string | undefined;
  const original: Record<string, string> = {};
  return {
    async apply(edits: Edit[]): Promise<string> {
      project ??= await (async () => {
        const dir = join(tempDir(), `catalogue-${api.replace('.', '-')}`);
        const created = await cli(['new', 'lgc', dir, '--name', 'catalogue', '--api', api, '--yes', '--author', 'E2E']);
        expect(created.exitCode, created.stderr).toBe(0);
        return dir;
      })();
      // Only files that differ: a rewritten pyproject.toml would reinstall the venv.
      for (const [file, text] of Object.entries(original)) {
        if (readFileSync(join(project, file), 'utf8') !== text) writeFileSync(join(project, file), text);
      }
      for (const [file, from, to] of edits) {
        const path = join(project, file);
        original[file] ??= readFileSync(path, 'utf8');
        const changed = readFileSync(path, 'utf8').replace(from, to);
        expect(changed, `${file} has ${from}`).not.toBe(readFileSync(path, 'utf8'));
        writeFileSync(path, changed);
      }
      return project;
    },
  };
}

/** verify fails at `step` (the first host step that fails), its detail matching `message`. */
async function expectFailure(label: string, project: string, step: string, message: RegExp) {
  await fault(label, async () => {
    const { exitCode, report } = await verify(project);
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(1);
    expect(report.ok).toBe(false);
    // The host fails the step where lgc misbehaves (the project's own tests may too).
    const failed = report.steps.find((s: any) => s.status === 'failed' && s.name.startsWith('host: '));
    expect(failed?.name, JSON.stringify(report.steps, null, 2)).toBe(step);
    expect(failed.detail).toMatch(message);
  });
}

async function expectPass(project: string) {
  const { exitCode, report } = await verify(project);
  expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(0);
  expect(report.steps.filter((s: any) => s.status === 'warned')).toEqual([]);
}

/*
 * Mistakes plugin authors make, each with the verdict verify must give: what the real
 * lgc 1.1.1 breaks on (services create looping, an enum never offered, destroy removing
 * nothing, plan never settling, ping "successful" for a dead SIEM...) fails, naming
 * what lgc would do; a correct change passes. One project, restored between cases.
 */
describe('lgc plugin mistakes fail verify, correct changes pass (catalogue, API 1)', () => {
  const catalogue = catalogueProject('1');

  it.each<[string, Edit[], string, RegExp]>([
    ['a top-level "required" list in the settings schema (services create asks forever)',
      [[logic, '    "type": "object",\n    "properties": {\n        "url"', '    "type": "object",\n    "required": ["url", "token"],\n    "properties": {\n        "url"']],
      'host: settings()', /asks again forever; drop the top-level "required" list/],
    ['an enum setting behind a bare $ref (lgc never offers it)',
      [[logic, '"severity": {"allOf": [{"$ref": "#/definitions/Severity"}], "description": "Severity the SIEM', '"severity": {"$ref": "#/definitions/Severity", "description": "Severity the SIEM']],
      'host: settings()', /severity: a bare \$ref is not followed by lgc/],
    ['definitions moved to $defs (lgc follows #/definitions/ only)',
      [[logic, '"severity": {"allOf": [{"$ref": "#/definitions/Severity"}], "description": "Severity the SIEM', '"severity": {"allOf": [{"$ref": "#/$defs/Severity"}], "description": "Severity the SIEM'], [logic, '    "definitions": {"Severity": SEVERITY},\n}\nREQUIRED', '    "$defs": {"Severity": SEVERITY},\n}\nREQUIRED']],
      'host: settings()', /lgc only follows \$ref into #\/definitions\//],
    ['a uri setting without a default (lgc takes "", which is no uri, and asks forever)',
      [[logic, ', "default": "http://127.0.0.1:8080"}', '}']],
      'host: settings()', /url: lgc checks \{"url": ""\} alone/],
    ['a default of the wrong type',
      [[logic, '"default": 30, "minimum": 1', '"default": "30", "minimum": 1']],
      'host: settings()', /timeout: lgc checks \{"timeout": "30"\}/],
    ['read() returning the rule whether or not the SIEM has it (plan: "will be updated" before apply)',
      [[logic, '        if status == 404:\n            return None\n', '        if status == 404:\n            return detection\n']],
      'host: plan: read() before apply', /read\(\) returned a rule the SIEM does not hold/],
    ['read() returning the SIEM\'s record as is (plan never settles)',
      [[logic, '        return {key: held[key] for key in DETECTION_SCHEMA["properties"] if key in held}', '        return held']],
      'host: plan after apply: read()', /would show "will be updated" forever/],
    ['delete() wanting a field read() does not return (destroy removes nothing, lgc exits 0)',
      [[app, '        _checked(lambda: _siem(config).delete(logic.parse_detection(detection)))', '        if "id" not in json.loads(detection):\n            raise Err("unknown rule: no id")\n        _checked(lambda: _siem(config).delete(logic.parse_detection(detection)))']],
      'host: destroy: read(), delete()', /delete\(\) rejected what read\(\) returned \(unknown rule: no id\)/],
    ['delete() that never calls the SIEM',
      [[logic, '        status, answer = self.call("DELETE", self.rule_path(detection))\n', '        return\n']],
      'host: destroy: read(), delete()', /still finds the rule/],
    ['update() that never calls the SIEM',
      [[app, '    def update(self, config: bytes, detection: bytes) -> None:\n        _checked(', '    def update(self, config: bytes, detection: bytes) -> None:\n        return\n        _checked(']],
      'host: apply changed rule: read(), update()', /would show "will be updated" forever/],
    ['ping() answering false for an unreachable SIEM (lgc prints "successful")',
      [[logic, '    def ping(self) -> bool:\n', '    def ping(self) -> bool:\n        try:\n            self.call("GET", "/health")\n        except PluginError:\n            return False\n']],
      'host: ping()', /returned ok\(false\) for a service that does not answer .*lgc 1\.1\.1 prints "connection successful"/],
    ['rules kept in the plugin\'s memory instead of on the SIEM (lost in lgc\'s next command)',
      [[app, 'def _siem(config: bytes) -> logic.Siem:\n    return logic.Siem(logic.parse_config(config), siem_client.send)', 'DEPLOYED = {}\n\n\nclass _Memory(logic.Siem):\n    def put(self, detection):\n        DEPLOYED[detection["title"]] = detection\n\n    def read(self, detection):\n        return DEPLOYED.get(detection["title"])\n\n    def delete(self, detection):\n        DEPLOYED.pop(detection["title"], None)\n\n\ndef _siem(config: bytes) -> logic.Siem:\n    return _Memory(logic.parse_config(config), siem_client.send)']],
      'host: plan after apply: read()', /lgc runs each command in a new instance/],
    ['a client that works once per instance (lgc calls one instance for every rule)',
      [[app, 'def _siem(config: bytes) -> logic.Siem:\n', '_USED = []\n\n\ndef _siem(config: bytes) -> logic.Siem:\n    if _USED:\n        raise Err("session already closed")\n    _USED.append(True)\n']],
      'host: plan: read() before apply', /session already closed/],
    ['settings() returning invalid JSON',
      [[app, 'return json.dumps(logic.SETTINGS_SCHEMA).encode()', 'return b"{not json"']],
      'host: settings()', /settings\(\) returned invalid JSON/],
    ['load() returning a name that is not kebab-case',
      [[app, 'name=logic.PLUGIN_NAME', 'name="Bad_Name"']],
      'host: load()', /not kebab-case/],
    ['a plain exception (a trap)',
      [[app, 'return _checked(lambda: _siem(config).ping())', 'raise RuntimeError("boom")']],
      'host: ping()', /trap: ping\(\) raised RuntimeError: boom/],
    ['an allocation past the memory limit',
      [[app, 'return _checked(lambda: _siem(config).ping())', 'return len(bytearray(80 * 1024 * 1024)) > 0']],
      'host: ping()', /memory limit/],
  ])('fails: %s', { timeout: LONG }, async (_, edits, step, message) => {
    await expectFailure('plugin faults: lgc', await catalogue.apply(edits), step, message);
  });

  it.each<[string, Edit[]]>([
    ['a new optional setting with an enum, the way lgc reads it', [[logic, '    "definitions": {"Severity": SEVERITY},\n}\nREQUIRED', '    "definitions": {"Severity": SEVERITY, "Region": {"type": "string", "enum": ["eu", "us"]}},\n}\nREQUIRED'], [logic, '        "severity": {"allOf": [{"$ref": "#/definitions/Severity"}], "description": "Severity the SIEM', '        "region": {"allOf": [{"$ref": "#/definitions/Region"}], "description": "Data region", "default": "eu"},\n        "severity": {"allOf": [{"$ref": "#/definitions/Severity"}], "description": "Severity the SIEM']]],
    ['a read() that ignores fields the rule file does not set', [[logic, '        return {key: held[key] for key in DETECTION_SCHEMA["properties"] if key in held}', '        return {key: held[key] for key in detection if key in held}']]],
  ])('passes: %s', { timeout: LONG }, async (_, edits) => {
    await expectPass(await catalogue.apply(edits));
  });
});

/*
 * The same for API 0.1, as lgc 0.1.x (wasmtime 22, KCL) takes a plugin: newer
 * componentize-py output it cannot load, JSON Schema where it reads KCL, defaults
 * its services add refuses, rule files its validate refuses.
 */
describe('lgc 0.1 plugin mistakes fail verify, correct changes pass (catalogue, API 0.1)', () => {
  const catalogue = catalogueProject('0.1');
  const kcl = 'kcl_schemas.py';
  const client = 'siem_client.py';

  it.each<[string, Edit[], string, RegExp]>([
    ['componentize-py newer than 0.13.5 (lgc 0.1\'s wasmtime 22 cannot load its output)',
      [['pyproject.toml', 'componentize-py==0.13.5', 'componentize-py==0.25.1'],
        [app, 'plugins_client.types', 'componentize_py_types'], [app, /plugins_client/g, 'wit_world'],
        [client, 'plugins_client.types', 'componentize_py_types'], [client, /plugins_client/g, 'wit_world']],
      'host: compile', /API 0\.1 plugins are built with componentize-py==0\.13\.5.*constant expression required: non-constant operator: i32\.add/],
    ['settings() returning JSON Schema, as lgc 1.x reads it',
      [[app, 'return kcl_schemas.CONFIGURATION', 'return json.dumps(logic.SETTINGS_SCHEMA)']],
      'host: settings()', /defines no `schema Configuration`, so lgc services add fails .*looks like JSON Schema/],
    ['a setting without a default that its own check refuses (services add fails)',
      [[kcl, '    url: str = "http://127.0.0.1:8080"\n', '    url: str\n']],
      'host: settings()', /lgc services add takes the defaults \{.*"url":"".*\} and kclvm refuses them/],
    ['schema() KCL that kclvm cannot compile',
      [[kcl, '    query: str\n', '    query: str =\n']],
      'host: schema()', /is KCL that kclvm cannot compile, so lgc validate fails/],
    ['a Rule that does not declare a parameter the rule files use',
      [[kcl, '    enabled?: bool = True\n', '']],
      'host: lgc validate (KCL)', /lgc validate refuses the sample detection \(Rule\): .*Cannot add member 'enabled'/],
    ['read() returning the SIEM\'s record as is (deploy never settles)',
      [[app, '        rule.pop("title")  # the parameters alone, as the rule file holds them\n', '']],
      'host: plan after apply: read()', /would show "will be updated" forever/],
    ['load() naming the plugin other than the rule files do',
      [[app, 'name=logic.PLUGIN_NAME', 'name="another-name"']],
      'host: load()', /load\(\) name 'another-name' is not a key of the sample detection's rules/],
    ['ping() answering false for an unreachable SIEM (lgc 0.1 prints "OK")',
      [[logic, '    def ping(self) -> bool:\n', '    def ping(self) -> bool:\n        try:\n            self.call("GET", "/health")\n        except PluginError:\n            return False\n']],
      'host: ping()', /returned ok\(false\) for a service that does not answer .*lgc 0\.1 "OK"/],
    ['a plain exception (a trap)',
      [[app, 'return _checked(lambda: _siem(config).ping())', 'raise RuntimeError("boom")']],
      'host: ping()', /trap: ping\(\) raised RuntimeError: boom/],
    ['an allocation past lgc 0.1\'s 50 MiB memory limit',
      [[app, 'return _checked(lambda: _siem(config).ping())', 'return len(bytearray(80 * 1024 * 1024)) > 0']],
      'host: ping()', /memory limit/],
  ])('fails: %s', { timeout: LONG }, async (_, edits, step, message) => {
    await expectFailure('plugin faults: lgc 0.1', await catalogue.apply(edits), step, message);
  });

  it('warns: delete() returning none for a rule it deleted (lgc 0.1 destroy prints "not found - ignoring")', { timeout: LONG }, async () => {
    const project = await catalogue.apply([[app, '        return name if deleted else None', '        return None']]);
    const { exitCode, report } = await verify(project);
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(0);
    expect(report.steps.filter((s: any) => s.status === 'warned')).toEqual([
      expect.objectContaining({ name: 'host: destroy: read(), delete()', detail: expect.stringMatching(/lgc 0\.1 destroy prints "not found - ignoring" for a rule it just deleted/) }),
    ]);
  });

  it('passes: a new optional setting in the KCL and in the plugin\'s own schema', { timeout: LONG }, async () => {
    await expectPass(await catalogue.apply([
      [kcl, '    timeout: int = 30\n', '    timeout: int = 30\n    region: "eu" | "us" = "eu"\n'],
      [logic, '        "severity": {"allOf": [{"$ref": "#/definitions/Severity"}], "description": "Severity the SIEM', '        "region": {"type": "string", "enum": ["eu", "us"], "description": "Data region", "default": "eu"},\n        "severity": {"allOf": [{"$ref": "#/definitions/Severity"}], "description": "Severity the SIEM'],
    ]));
  });
});

describe('a project on the WIT of the user\'s own lgc checkout', () => {
  it('builds the wasi-http client world on it and verifies', { timeout: LONG }, async () => {
    // lgc keeps its contract in two files (libs/bindings/plugin.wit and world.wit).
    const wit = tempDir();
    const bundled = readFileSync(join(root, 'templates', 'lgc', 'wit-1', 'wit', 'plugin.wit'), 'utf8');
    const world = bundled.indexOf('world plugins');
    writeFileSync(join(wit, 'plugin.wit'), bundled.slice(0, world));
    writeFileSync(join(wit, 'world.wit'), `package logcraft:lgc@0.1.0;\n\n${bundled.slice(world)}`);
    const project = join(tempDir(), 'own-wit');
    const created = await cli(['new', 'lgc', project, '--name', 'own-wit', '--wit', wit, '--yes', '--author', 'E2E', '--verify', '--json']);
    const out = JSON.parse(created.stdout);
    expect(created.exitCode, JSON.stringify(out.verify?.steps?.filter((s: any) => !s.ok), null, 2)).toBe(0);
    expect(readdirSync(join(project, 'wit')).sort()).toEqual(['client.wit', 'deps', 'plugin.wit', 'world.wit']);
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
