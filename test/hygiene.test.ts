// What every generated project carries whatever its kind and variant, checked on the
// rendered files (no build): editor config, SPDX headers, a .gitignore for its
// language, and a CI workflow that parses and only names actions, make targets,
// CMake presets and verify options that exist.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderProject } from '../lib/core/generate.js';
import { resolveAnswers, type Answers } from '../lib/core/question.js';
import { generatorPackage, workflowPins } from '../lib/core/render.js';
import { kinds, kindById } from '../lib/kinds/index.js';
import { profiles } from '../lib/kinds/vsmtp/profiles.js';

const variants: [string, Record<string, unknown>][] = [
  ...profiles.map((p) => ['vsmtp', { profile: p.id }] as [string, Record<string, unknown>]),
  ['mailerq', { language: 'c' }],
  ['mailerq', { language: 'cpp' }],
  ['lgc', { api: '1', 'package-tool': 'pip' }],
  ['lgc', { api: '1', 'package-tool': 'poetry' }],
  ['lgc', { api: '0.1', 'package-tool': 'pip' }],
  ['lgc', { api: '0.1', 'package-tool': 'poetry' }],
  ['vpl', { language: 'c' }],
  ['vpl', { language: 'rust' }],
];

/** Source files: each opens with an SPDX line in its comment syntax. */
const sourceFile = /\.(rs|c|h|cpp|hpp|py|rhai|vsl)$/;
/** What a .gitignore must cover, by the files the project has. */
const ignored = (paths: string[]): string[] => [
  ...(paths.includes('Cargo.toml') ? ['/target'] : []),
  ...(paths.includes('CMakeLists.txt') ? ['/build', 'compile_commands.json'] : []),
  ...(paths.includes('pyproject.toml') ? ['.venv', '__pycache__', '*.wasm'] : []),
  ...(paths.includes('metadata.toml') ? ['*.vpl'] : []),
  '*.swp', '.idea', '.vscode',
];

async function render(kindId: string, given: Record<string, unknown>) {
  const kind = kindById(kindId);
  const answers: Answers = await resolveAnswers(kind.questions, { name: 'hygiene-check', license: 'MIT OR Apache-2.0', ...given }, { yes: true, directoryName: 'hygiene-check' });
  return renderProject(kind, answers);
}

/** A Makefile's explicit targets, the default (first) one first. */
function makeTargets(makefile: string): string[] {
  return [...makefile.matchAll(/^([A-Za-z0-9_-][A-Za-z0-9_.-]*(?:\s+[A-Za-z0-9_.-]+)*)\s*:(?!=)/gm)].flatMap((m) => m[1]!.split(/\s+/));
}

describe.each(variants)('%s %j', (kindId, given) => {
  it('has .editorconfig, SPDX headers and a .gitignore for its language', async () => {
    const files = await render(kindId, given);
    const paths = files.map((f) => f.path);
    expect(paths).toContain('.editorconfig');
    const sources = files.filter((f) => sourceFile.test(f.path) && !f.path.startsWith('wit/'));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(source.contents.split('\n').slice(0, 3).join('\n'), source.path).toMatch(/SPDX-License-Identifier: MIT OR Apache-2\.0$/m);
    }
    const gitignore = files.find((f) => f.path === '.gitignore')!.contents.split('\n');
    for (const entry of ignored(paths)) expect(gitignore, entry).toContain(entry);
  });

  it('has a CI workflow that parses and names only what exists, with a verify job pinned to this generator', async () => {
    const files = await render(kindId, given);
    const file = (path: string) => files.find((f) => f.path === path)?.contents;
    const workflow = parseYaml(file('.github/workflows/ci.yml')!, { strict: true, uniqueKeys: true });
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    const targets = makeTargets(file('Makefile') ?? '');
    const presets = JSON.parse(file('CMakePresets.json') ?? '{}');
    const presetNames = (type: string) => new Set((presets[type] ?? []).map((p: { name: string }) => p.name));
    const verifyOptions = new Set(['json', 'verbose', ...kindById(kindId).verifyOptions.map((q) => q.name)]);
    const known = new Set(Object.values(workflowPins));
    for (const [id, job] of Object.entries<any>(workflow.jobs)) {
      expect(job['runs-on'], id).toBe('ubuntu-latest');
      expect(job.steps.length, id).toBeGreaterThan(0);
      for (const step of job.steps) {
        expect(Object.keys(step).filter((k) => k === 'uses' || k === 'run'), `${id}: ${JSON.stringify(step)}`).toHaveLength(1);
        if (step.uses) expect(known, `${id}: ${step.uses}`).toContain(step.uses);
        for (const line of String(step.run ?? '').split('\n')) {
          const make = line.match(/^make(?:\s+([A-Za-z][\w-]*))?/);
          if (make) expect(targets, `${id}: ${line}`).toContain(make[1] ?? targets[0]);
          for (const [, command, name] of line.matchAll(/\b(cmake|ctest)\b.*--preset[= ](\S+)/g)) {
            expect(presetNames(command === 'ctest' ? 'testPresets' : line.includes('--build') ? 'buildPresets' : 'configurePresets'), `${id}: ${line}`).toContain(name);
          }
          for (const [, option] of line.matchAll(/vsmtp-plugin verify.*?--([a-z-]+)/g)) expect(verifyOptions, `${id}: ${line}`).toContain(option);
        }
      }
    }
    const verify = workflow.jobs.verify;
    expect(verify, 'a verify job').toBeDefined();
    const runs = verify.steps.map((s: any) => s.run ?? '').join('\n');
    expect(runs).toContain(generatorPackage.spec);
    expect(runs).toMatch(/^vsmtp-plugin verify/m);
    expect(verify.steps.map((s: any) => s.uses)).toContain(workflowPins.setupNode);
  });
});

it('covers every kind', () => {
  expect(new Set(variants.map(([id]) => id))).toEqual(new Set(kinds.map((k) => k.id)));
});
