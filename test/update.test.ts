// `vsmtp-plugin update`: a generated project moves to new answers by a three-way merge,
// on real files; the author's edits survive, and the result builds and verifies.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { bin, cli, tempDir, verify } from './helpers.js';

const LONG = 15 * 60_000;

async function generate(kind: string, name: string, ...options: string[]): Promise<string> {
  const project = join(tempDir(), name);
  const made = await cli(['new', kind, project, '--name', name, '-y', '--author', 'A', '--no-git', ...options]);
  expect(made.exitCode, made.stderr).toBe(0);
  return project;
}

function edit(project: string, file: string, from: string | RegExp, to: string): void {
  const path = join(project, file);
  const text = readFileSync(path, 'utf8');
  const changed = text.replace(from, to);
  expect(changed, `${file} has ${from}`).not.toBe(text);
  writeFileSync(path, changed);
}

/** Every file under the project with a hash of its contents: "nothing changed" made checkable. */
function tree(dir: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && !path.includes('/build/') && !path.includes('/target/')) hashes[path.slice(dir.length + 1)] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return hashes;
}

async function update(project: string, ...options: string[]) {
  const result = await cli(['update', project, '--json', ...options]);
  return { exitCode: result.exitCode, report: result.stdout ? JSON.parse(result.stdout) : undefined, stderr: result.stderr };
}

const outcome = (report: any, path: string) => report.files.find((file: any) => file.path === path)?.outcome;

describe('update, per kind: the edit survives, the new answer arrives, and it verifies', () => {
  it('vsmtp: vSMTP 2 to 3 keeps the author\'s own function in src/lib.rs', { timeout: LONG }, async () => {
    const project = await generate('vsmtp', 'upgrade');
    edit(project, 'src/lib.rs', '    #[rhai_fn(global, pure)]\n    pub fn greet(', '    /// Mine.\n    #[rhai_fn(global)]\n    pub fn shout(text: &str) -> String {\n        text.to_uppercase()\n    }\n\n    #[rhai_fn(global, pure)]\n    pub fn greet(');
    const { exitCode, report } = await update(project, '--profile', 'vsmtp-3');
    expect(exitCode, JSON.stringify(report)).toBe(0);
    expect(outcome(report, 'src/lib.rs')).toBe('kept');
    expect(outcome(report, 'Cargo.lock')).toBe('replaced');
    expect(readFileSync(join(project, 'src', 'lib.rs'), 'utf8')).toContain('pub fn shout');
    expect(readFileSync(join(project, 'Cargo.toml'), 'utf8')).toMatch(/rhai = \{ version = "=1\.16\.3"/);
    expect(readFileSync(join(project, 'rust-toolchain.toml'), 'utf8')).not.toBe('');
    const checked = await verify(project);
    expect(checked.exitCode, JSON.stringify(checked.report.steps.filter((s: any) => s.status !== 'passed'), null, 2)).toBe(0);
  });

  it('mailerq: a new callback merges into plugin.c beside the author\'s function', { timeout: LONG }, async () => {
    const project = await generate('mailerq', 'merged', '--callbacks', 'mq_smtp_in_connect');
    edit(project, 'src/plugin.c', '#include "logic.h"\n', '#include "logic.h"\n\n/* mine: kept across updates */\nstatic int mine(void)\n{\n    return 1;\n}\n');
    edit(project, 'src/plugin.c', '    (void)conn;\n    return false;', '    (void)conn;\n    return mine() == 0;');
    const { exitCode, report } = await update(project, '--callbacks', 'mq_smtp_in_connect,mq_smtp_in_rcptto');
    expect(exitCode, JSON.stringify(report)).toBe(0);
    expect(outcome(report, 'src/plugin.c')).toBe('merged');
    const source = readFileSync(join(project, 'src', 'plugin.c'), 'utf8');
    expect(source).toContain('static int mine(void)');
    expect(source).toContain('MQ_EXPORT bool mq_smtp_in_rcptto(');
    const checked = await verify(project, '--no-sanitize');
    expect(checked.exitCode, JSON.stringify(checked.report.steps.filter((s: any) => s.status !== 'passed'), null, 2)).toBe(0);
    expect(checked.report.steps.find((s: any) => s.name === 'host: callbacks 50-merged.so').detail).toContain('mq_smtp_in_rcptto');
  });

  it('lgc: a new description reaches the metadata while the author\'s helper stays', { timeout: LONG }, async () => {
    const project = await generate('lgc', 'described');
    const logic = readFileSync(join(project, 'plugin_logic.py'), 'utf8');
    writeFileSync(join(project, 'plugin_logic.py'), `${logic}\n\ndef mine():\n    """Kept across updates."""\n    return 1\n`);
    const { exitCode, report } = await update(project, '--description', 'Rules to the test SIEM');
    expect(exitCode, JSON.stringify(report)).toBe(0);
    expect(outcome(report, 'plugin_logic.py')).toBe('merged');
    const merged = readFileSync(join(project, 'plugin_logic.py'), 'utf8');
    expect(merged).toContain('def mine():');
    expect(merged).toContain('"Rules to the test SIEM"');
    const checked = await verify(project);
    expect(checked.exitCode, JSON.stringify(checked.report.steps.filter((s: any) => s.status !== 'passed'), null, 2)).toBe(0);
  });

  it('vpl: --no-destructor drops vplugin_exit and keeps the author\'s comment', { timeout: LONG }, async () => {
    const project = await generate('vpl', 'trimmed');
    edit(project, 'src/plugin.c', /^/, '/* mine: kept across updates */\n');
    const { exitCode, report } = await update(project, '--no-destructor');
    expect(exitCode, JSON.stringify(report)).toBe(0);
    expect(outcome(report, 'src/plugin.c')).toBe('merged');
    const source = readFileSync(join(project, 'src', 'plugin.c'), 'utf8');
    expect(source).toContain('/* mine: kept across updates */');
    expect(source).not.toContain('vplugin_exit(void)');
    const checked = await verify(project);
    expect(checked.exitCode, JSON.stringify(checked.report.steps, null, 2)).toBe(0);
  });
});

describe('update, what is kept and what is not', () => {
  it('a line both changed (the rhai pin): markers with the author\'s line inside, exit 1', { timeout: LONG }, async () => {
    const project = await generate('vsmtp', 'clash');
    edit(project, 'Cargo.toml', /rhai = \{ version = "=[^"]+"/, 'rhai = { version = "=1.17.1"');
    const { exitCode, report } = await update(project, '--profile', 'vsmtp-3');
    expect(exitCode).toBe(1);
    expect(report.conflicts).toEqual(['Cargo.toml']);
    const text = readFileSync(join(project, 'Cargo.toml'), 'utf8');
    expect(text).toMatch(/<<<<<<< yours\nrhai = \{ version = "=1\.17\.1".*\n\|\|\|\|\|\|\| as generated before\n.*\n=======\nrhai = \{ version = "=1\.16\.3".*\n>>>>>>> as generated now/);
    // Everything else went through.
    expect(readFileSync(join(project, 'rust-toolchain.toml'), 'utf8')).toBeTruthy();
    expect(outcome(report, 'Cargo.lock')).toBe('replaced');
  });

  it('a file the author deleted stays deleted; a dropped file goes only when unmodified', async () => {
    const project = await generate('mailerq', 'dropped');
    rmSync(join(project, 'README.md'));
    edit(project, 'src/plugin.c', /^/, '/* mine */\n');
    const { exitCode, report } = await update(project, '--language', 'cpp');
    expect(exitCode).toBe(0);
    expect(existsSync(join(project, 'README.md'))).toBe(false);
    expect(report.files.find((f: any) => f.path === 'README.md')).toMatchObject({ outcome: 'kept', note: 'deleted by you: stays deleted' });
    expect(existsSync(join(project, 'src', 'plugin.c'))).toBe(true);
    expect(report.files.find((f: any) => f.path === 'src/plugin.c')).toMatchObject({ outcome: 'kept', note: expect.stringMatching(/port it by hand/) });
    expect(existsSync(join(project, 'src', 'logic.c'))).toBe(false);
    expect(existsSync(join(project, 'src', 'plugin.cpp'))).toBe(true);
  });

  it('--dry-run prints the diffs and writes nothing; a second update changes nothing', async () => {
    const project = await generate('mailerq', 'dry');
    const before = tree(project);
    const dry = await cli(['update', project, '--prefix', '20', '-n']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/^--- a\/CMakeLists\.txt\n\+\+\+ b\/CMakeLists\.txt\n/m);
    expect(dry.stdout).toMatch(/^\+.*OUTPUT_NAME "20-dry"/m);
    expect(tree(project)).toEqual(before);
    expect((await update(project, '--prefix', '20')).exitCode).toBe(0);
    const after = tree(project);
    const mtimes = Object.keys(after).map((path) => statSync(join(project, path)).mtimeMs);
    const again = await update(project);
    expect(again.report.files).toEqual([]);
    expect(tree(project)).toEqual(after);
    expect(Object.keys(after).map((path) => statSync(join(project, path)).mtimeMs)).toEqual(mtimes);
  });

  it('a project from before update existed (answers only): two-way, and said so', async () => {
    const project = await generate('vpl', 'older');
    rmSync(join(project, '.vsmtp-plugin-base.json'));
    const { exitCode, report } = await update(project, '--description', 'Newer');
    expect(exitCode).toBe(0);
    expect(report.twoWay).toBe(true);
    expect(readFileSync(join(project, 'metadata.toml'), 'utf8')).toContain('Newer');
    expect(existsSync(join(project, '.vsmtp-plugin-base.json'))).toBe(true);
  });

  it('an interrupt leaves the project as it was, or updated', { timeout: 5 * 60_000 }, async () => {
    const seed = Number(process.env.INTERRUPT_SEED ?? Date.now() % 1_000_000);
    console.log(`update interrupt test: seed ${seed} (INTERRUPT_SEED=${seed} repeats it)`);
    let state = seed;
    const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const outcomes = { before: 0, after: 0 };
    for (let run = 0; run < 12; run++) {
      const project = await generate('mailerq', `stop-${run}`);
      const before = tree(project);
      const child = execa(process.execPath, [bin, 'update', project, '--language', 'cpp'], { reject: false, stdin: 'ignore' });
      await sleep(Math.floor(next() * 250));
      child.kill('SIGINT');
      await child;
      const now = tree(project);
      if (JSON.stringify(now) === JSON.stringify(before)) outcomes.before++;
      else {
        expect(Object.keys(now).sort(), `run ${run}, seed ${seed}`).toEqual(expect.arrayContaining(['src/plugin.cpp', 'src/logic.cpp', 'tests/test_logic.cpp']));
        expect(Object.keys(now).filter((path) => path.endsWith('.c')), `run ${run}, seed ${seed}`).toEqual([]);
        outcomes.after++;
      }
      expect(readdirSync(project).filter((name) => name.includes('partial')), `run ${run}, seed ${seed}`).toEqual([]);
    }
    console.log(`update interrupt test: ${outcomes.before} as before, ${outcomes.after} updated`);
  });
});
