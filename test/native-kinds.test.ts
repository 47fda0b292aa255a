import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import helpers, { result } from 'yeoman-test';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/core/errors.js';
import { renderProject } from '../lib/core/generate.js';
import { checkAnswer, type Question } from '../lib/core/question.js';
import { mailerq } from '../lib/kinds/mailerq/index.js';
import { vpl } from '../lib/kinds/vpl/index.js';
import { root } from './helpers.js';

const refusal = (question: Question, value: unknown) => {
  try {
    checkAnswer(question, value);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`${question.name}=${JSON.stringify(value)} was accepted`);
};
const q = (kind: { questions: Question[] }, name: string) => kind.questions.find((question) => question.name === name)!;
const file = (files: { path: string; contents: string }[], path: string) => files.find((f) => f.path === path)?.contents;

describe('mailerq answers', () => {
  it.each(['', '10', '99', '00'])('accepts the prefix %j', (value) => expect(checkAnswer(q(mailerq, 'prefix'), value)).toBe(value));
  it.each(['1', '100', 'ab', ' 10', '-1'])('refuses the prefix %j', (value) => {
    expect(refusal(q(mailerq, 'prefix'), value)).toBe(`--prefix: must be two digits (e.g. 10) or empty (got ${JSON.stringify(value)})`);
  });
  it('takes callbacks as a comma list, refusing unknown ones', () => {
    expect(checkAnswer(q(mailerq, 'callbacks'), 'mq_cleanup, mq_initialize,mq_cleanup')).toEqual(['mq_cleanup', 'mq_initialize']);
    expect(checkAnswer(q(mailerq, 'callbacks'), '')).toEqual([]);
    expect(refusal(q(mailerq, 'callbacks'), 'mq_version,mq_bogus')).toMatch(/^--callbacks: unknown choice mq_version, mq_bogus; allowed: mq_initialize, /);
  });
  it.each(['../x', 'a/b', 'Big', '.'])('refuses the name %j', (value) => expect(refusal(q(mailerq, 'name'), value)).toMatch(/^--name: must be lowercase kebab-case/));

  it('renders C with documented signatures, stand-in header and no lib prefix', async () => {
    const files = await renderProject(mailerq, { name: 'grey', language: 'c', prefix: '10', callbacks: ['mq_smtp_in_authenticate', 'mq_initialize'], description: 'd', author: 'a', license: 'MIT' });
    const source = file(files, 'src/plugin.c')!;
    expect(source).toContain('MQ_EXPORT int mq_version(void)');
    expect(source).toContain('MQ_EXPORT bool mq_smtp_in_authenticate(MQ_Context *ctx, MQ_Connection *conn, const char *login, size_t loginsize, const char *passwd, size_t passwdsize)');
    expect(source.indexOf('mq_initialize')).toBeLessThan(source.indexOf('mq_smtp_in_authenticate'));
    expect(file(files, 'CMakeLists.txt')).toContain('set_target_properties(plugin PROPERTIES PREFIX "" OUTPUT_NAME "10-grey"');
    expect(file(files, 'CMakeLists.txt')).toContain('-Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/exports.map');
    expect(file(files, 'exports.map')).toContain('global: mq_*;');
    expect(file(files, 'stand-in/mailerq.h')).toBe(readFileSync(join(root, 'hosts', 'mailerq', 'mailerq.h'), 'utf8'));
    expect(file(files, 'stand-in/mailerq.h')!.split('\n').slice(0, 8).join('\n')).toMatch(/stand-in/i);
  });

  it('wraps C++ entry points in extern "C"', async () => {
    const files = await renderProject(mailerq, { name: 'grey', language: 'cpp', prefix: '', callbacks: ['mq_cleanup'], description: 'd', author: 'a', license: 'MIT' });
    expect(file(files, 'src/plugin.cpp')).toMatch(/extern "C" \{[\s\S]*mq_version[\s\S]*mq_cleanup[\s\S]*\} \/\/ extern "C"/);
    expect(file(files, 'CMakeLists.txt')).toContain('OUTPUT_NAME "grey"');
  });
});

describe('vpl answers', () => {
  it.each([
    ['name', '', '--name: must not be empty (got "")'],
    ['name', 'my plugin', '--name: must not contain whitespace (got "my plugin")'],
    ['name', '../evil', '--name: must be a file-name-safe word: letters, digits, ".", "_", "+", "-", starting with a letter or digit (got "../evil")'],
    ['plugin-version', '1.0', '--plugin-version: must be a semantic version, e.g. 1.0.0 or 2.1.0-rc.1 (got "1.0")'],
    ['objfile', 'lib/x.so', '--objfile: must be a plain file name ending in .so (letters, digits, ".", "_", "+", "-"), at most 64 characters (got "lib/x.so")'],
    ['objfile', 'plugin.dll', '--objfile: must be a plain file name ending in .so (letters, digits, ".", "_", "+", "-"), at most 64 characters (got "plugin.dll")'],
    ['entry', '2start', '--entry: must be a C identifier: a letter or _, then letters, digits or _ (at most 64) (got "2start")'],
    ['entry', 'vplugin_exit', '--entry: must not be a C or Rust keyword, main, or vplugin_exit (got "vplugin_exit")'],
    ['entry', 'int', '--entry: must not be a C or Rust keyword, main, or vplugin_exit (got "int")'],
    ['destructor', 'maybe', '--destructor: must be true or false (got "maybe")'],
  ])('refuses %s = %j', (name, value, message) => expect(refusal(q(vpl, name), value)).toBe(message));

  it.each([['name', 'geo.ip+2'], ['plugin-version', '2.1.0-rc.1+build.5'], ['objfile', 'libgeo.so'], ['entry', '_start_geo']])('accepts %s = %j', (name, value) => {
    expect(checkAnswer(q(vpl, name), value)).toBe(value);
  });

  it('writes metadata.toml that parses back to the answers, whatever the description', async () => {
    const description = 'say "hi" \\ """ # ${{ x }} <%= y %>\nnext\u0000line';
    const files = await renderProject(vpl, { name: 'geo', 'plugin-version': '1.0.0', description, objfile: 'geo.so', entry: 'geo_init', destructor: false, language: 'rust', author: 'A', license: 'MIT' });
    expect(parse(file(files, 'metadata.toml')!)).toEqual({ metadata: { name: 'geo', version: '1.0.0', description, objfile: 'geo.so' } });
    expect(file(files, 'src/lib.rs')).toContain('pub extern "C" fn geo_init() -> i32');
    expect(file(files, 'src/lib.rs')).not.toContain('vplugin_exit');
    expect(file(files, 'Makefile')).toContain('PACKAGE := geo-1.0.0.vpl');
  });
});

describe('Yeoman generators of the native kinds', () => {
  it('yo vsmtp-plugin:mailerq takes options', async () => {
    await helpers.run(join(root, 'generators', 'mailerq', 'index.js')).withOptions({ name: 'grey', language: 'cpp', callbacks: 'mq_initialize', yes: true, author: 'A' });
    result.assertFile(['src/plugin.cpp', 'tests/test_logic.cpp', 'stand-in/mailerq.h', 'CMakeLists.txt']);
  });

  it('yo vsmtp-plugin:vpl asks its questions', async () => {
    await helpers.run(join(root, 'generators', 'vpl', 'index.js')).withAnswers({ name: 'geo', 'plugin-version': '2.0.0', language: 'rust', destructor: true, author: 'A' });
    result.assertFileContent('metadata.toml', 'version = "2.0.0"');
    result.assertFile(['Cargo.toml', 'src/lib.rs']);
  });

  it('yo vsmtp-plugin offers every kind', async () => {
    await helpers.run(join(root, 'generators', 'app', 'index.js')).withAnswers({ kind: 'vpl', name: 'geo', author: 'A' }, { autoAnswer: true });
    result.assertFile('metadata.toml');
  });
});
