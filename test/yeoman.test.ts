import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import helpers, { result } from 'yeoman-test';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { root, tempDir } from './helpers.js';

const generator = (name: string) => join(root, 'generators', name, 'index.js');

describe('yo vsmtp-plugin:vsmtp', () => {
  it('writes the project from prompt answers and records them', async () => {
    await helpers
      .run(generator('vsmtp'))
      .withAnswers({ name: 'geoip', description: 'Geo lookups', author: 'Jane', license: 'MIT', profile: 'vsmtp-3', seed: '[9, 8, 7, 6]' });
    result.assertFile(['Cargo.toml', 'src/lib.rs', 'services/geoip.rhai', 'tests/smoke.rhai', 'LICENSE', '.gitignore', '.github/workflows/ci.yml']);
    result.assertFileContent('Cargo.toml', 'rhai = { version = "=1.16.3"');
    result.assertFileContent('src/lib.rs', 'const HASHING_SEED: [u64; 4] = [9, 8, 7, 6];');
    const record = JSON.parse(readFileSync(join(result.cwd, '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'];
    expect(record).toEqual({ kind: 'vsmtp', answers: { name: 'geoip', description: 'Geo lookups', author: 'Jane', license: 'MIT', profile: 'vsmtp-3', seed: '9, 8, 7, 6' } });
  });

  it('takes every question as an option, asking nothing', async () => {
    await helpers
      .run(generator('vsmtp'))
      .withOptions({ name: 'csv', description: 'CSV', author: 'Bob', license: 'Apache-2.0', profile: 'current', seed: '1,2,3,4' })
      .withAnswers({}, { throwOnMissingAnswer: true });
    result.assertFileContent('Cargo.toml', 'name = "vsmtp-plugin-csv"');
    result.assertFileContent('src/lib.rs', 'set_hashing_seed');
    result.assertFile('LICENSE');
  });

  it('refuses a bad option naming the field and the rule', async () => {
    await expect(helpers.run(generator('vsmtp')).withOptions({ name: 'Bad Name', yes: true })).rejects.toThrow(/--name: must be lowercase kebab-case/);
  });

  it('offers the recorded answers on a re-run and overwrites nothing without confirmation', async () => {
    const first = await helpers.run(generator('vsmtp')).withOptions({ name: 'geoip', yes: true, author: 'Jane' });
    const lib = join(first.cwd, 'src', 'lib.rs');
    const edited = `${readFileSync(lib, 'utf8')}\n// my change\n`;
    writeFileSync(lib, edited);
    const asked: Record<string, unknown> = {};
    const again = await first
      .create(generator('vsmtp'), {}, { force: false })
      .withOptions({ profile: 'vsmtp-3', force: false })
      // Questions are offered with the recorded answers; the conflict on src/lib.rs is answered "skip".
      .withAnswers({ action: 'skip' }, { autoAnswer: true, callback: (answer, { question }) => ((asked[question.name!] = answer), answer) })
      .run();
    expect(asked).toMatchObject({ name: 'geoip', author: 'Jane', action: 'skip' });
    expect(readFileSync(lib, 'utf8')).toBe(edited);
    const record = JSON.parse(readFileSync(join(again.cwd, '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'];
    expect(record.answers).toMatchObject({ name: 'geoip', author: 'Jane', profile: 'vsmtp-3' });
  });
});

describe('yo vsmtp-plugin:vsmtp --verify', () => {
  it('builds the plugin and loads it in the reference host', { timeout: 20 * 60_000 }, async () => {
    const logged: string[] = [];
    await helpers
      .run(generator('vsmtp'))
      .withOptions({ name: 'yo-verify', yes: true, author: 'A', verify: true })
      .onGenerator((generator) => {
        const log = generator.log.bind(generator);
        generator.log = Object.assign((message: string) => (logged.push(message), log(message)), log);
      });
    expect(logged.join('\n')).toMatch(/ok {3}host: run smoke script/);
    expect(logged).toContainEqual(expect.stringMatching(/^verified: .*libvsmtp_plugin_yo_verify\.so$/));
    expect(logged.at(-1)).toMatch(/^\nNext:\n {2}cargo build --release --locked\n/);
  });
});

describe('yo vsmtp-plugin:mailerq --answers FILE --no-git', () => {
  it('takes answers from the file, options over them, and makes no repository', async () => {
    const file = join(tempDir(), 'answers.json');
    writeFileSync(file, JSON.stringify({ name: 'filed', language: 'cpp', prefix: '20' }));
    await helpers.run(generator('mailerq')).withOptions({ answers: file, prefix: '30', yes: true, author: 'A', git: false });
    result.assertFile(['src/plugin.cpp', 'README.md']);
    result.assertFileContent('CMakeLists.txt', 'OUTPUT_NAME "30-filed"');
    expect(existsSync(join(result.cwd, '.git'))).toBe(false);
  });
});

describe('yo vsmtp-plugin:mailerq --update', () => {
  it('merges a new callback into plugin.c, keeping the author\'s lines (the conflicter sees the merge)', async () => {
    const first = await helpers.run(generator('mailerq')).withOptions({ name: 'merge', callbacks: 'mq_smtp_in_connect', yes: true, author: 'A', git: false });
    const source = join(first.cwd, 'src', 'plugin.c');
    writeFileSync(source, readFileSync(source, 'utf8').replace('#include "logic.h"\n', '#include "logic.h"\n\n/* mine */\n'));
    const again = await first.create(generator('mailerq'), {}, { force: true }).withOptions({ callbacks: 'mq_smtp_in_connect,mq_smtp_in_rcptto', update: true, yes: true, force: true, git: false }).run();
    const merged = readFileSync(join(again.cwd, 'src', 'plugin.c'), 'utf8');
    expect(merged).toContain('/* mine */');
    expect(merged).toContain('mq_smtp_in_rcptto(');
    expect(JSON.parse(readFileSync(join(again.cwd, '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'].answers.callbacks).toEqual(['mq_smtp_in_connect', 'mq_smtp_in_rcptto']);
  });
});

describe('yo vsmtp-plugin', () => {
  it('asks for the kind, then that kind\'s questions', async () => {
    await helpers.run(generator('app')).withAnswers({ kind: 'vsmtp', name: 'relay', author: 'A', description: 'd', license: 'MIT', profile: 'vsmtp-2', seed: '1,2,3,4' });
    result.assertFileContent('Cargo.toml', 'name = "vsmtp-plugin-relay"');
    expect(JSON.parse(readFileSync(join(result.cwd, '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'].kind).toBe('vsmtp');
  });

  it('takes --kind and the kind\'s options', async () => {
    await helpers.run(generator('app')).withOptions({ kind: 'vsmtp', name: 'relay', yes: true, author: 'A' });
    result.assertFile('services/relay.vsl');
  });
});

/**
 * The real `yo`, with no TTY, in a fresh directory that finds this generator in a
 * node_modules above it. As root, yo drops to SUDO_UID: that user gets the directory
 * and a home (the README's recipe).
 */
function realYo() {
  const base = tempDir();
  chmodSync(base, 0o755);
  mkdirSync(join(base, 'node_modules'));
  symlinkSync(root, join(base, 'node_modules', 'generator-vsmtp-plugin'));
  const work = join(base, 'work');
  const home = join(base, 'home');
  for (const dir of [work, home]) {
    mkdirSync(dir);
    if (process.getuid?.() === 0) chownSync(dir, 1000, 1000);
  }
  const env = { HOME: home, NO_UPDATE_NOTIFIER: '1', ...(process.getuid?.() === 0 ? { SUDO_UID: '1000', SUDO_GID: '1000' } : {}) };
  const run = (...args: string[]) => execa(join(root, 'node_modules', '.bin', 'yo'), [...args, '--no-insight'], { cwd: work, env, reject: false, stdin: 'ignore', all: true });
  return { work, run };
}

describe('the real yo, without a TTY', () => {
  it('refuses an unknown option with the CLI\'s message and suggestion, writing nothing', { timeout: 120_000 }, async () => {
    const { work, run } = realYo();
    const result = await run('vsmtp-plugin:mailerq', '--lanugage', 'cpp', '--yes');
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/unknown option --lanugage; did you mean --language\? \(`--help` lists the options\)/);
    expect(existsSync(join(work, 'CMakeLists.txt'))).toBe(false);
  });

  it('a missing --kind is an error naming --kind and the kinds', { timeout: 120_000 }, async () => {
    const { run } = realYo();
    const result = await run('vsmtp-plugin');
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/--kind is required: plugin kind, one of vsmtp, mailerq, lgc, vpl \(no terminal to ask/);
    expect(result.all).not.toMatch(/force closed/);
  });

  it('ends with the next steps and no package-manager noise; a re-run as C++ removes the C files', { timeout: 120_000 }, async () => {
    const { work, run } = realYo();
    const first = await run('vsmtp-plugin:mailerq', '--yes');
    expect(first.exitCode, first.all).toBe(0);
    expect(first.all).toMatch(/Next:\n {2}make\n {2}make test\n {2}vsmtp-plugin verify/);
    expect(first.all).not.toMatch(/package manager|package\.json/);
    // yo's user has no git identity here: the repository is made, nothing committed, and said so.
    expect(first.all).toMatch(/git: initialized, not committed: git has no identity/);
    expect(existsSync(join(work, '.git'))).toBe(true);
    const again = await run('vsmtp-plugin:mailerq', '--yes', '--language', 'cpp', '--force');
    expect(again.exitCode, again.all).toBe(0);
    expect(existsSync(join(work, 'src', 'plugin.cpp'))).toBe(true);
    expect(existsSync(join(work, 'src', 'plugin.c'))).toBe(false);
    expect(existsSync(join(work, 'tests', 'test_logic.c'))).toBe(false);
  });
});
