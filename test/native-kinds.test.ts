import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import helpers, { result } from 'yeoman-test';
import { describe, expect, it } from 'vitest';
import { renderProject } from '../lib/core/generate.js';
import { checkAnswer, type Question } from '../lib/core/question.js';
import { apiBindings, lgc, venvKey } from '../lib/kinds/lgc/index.js';
import { mailerq } from '../lib/kinds/mailerq/index.js';
import { vpl } from '../lib/kinds/vpl/index.js';
import { refusal, root, tempDir } from './helpers.js';

const q = (kind: { questions: Question[] }, name: string) => kind.questions.find((question) => question.name === name)!;
const file = (files: { path: string; contents: string }[], path: string) => files.find((f) => f.path === path)?.contents;

describe('mailerq answers', () => {
  it.each(['', '10', '99', '00'])('accepts the prefix %j', (value) => expect(checkAnswer(q(mailerq, 'prefix'), value)).toBe(value));
  it('accepts "none" for no prefix, which a prompt can take (an empty answer is the default there)', () => expect(checkAnswer(q(mailerq, 'prefix'), 'none')).toBe(''));
  it.each(['1', '100', 'ab', ' 10', '-1', 'None'])('refuses the prefix %j', (value) => {
    expect(refusal(q(mailerq, 'prefix'), value)).toBe(`--prefix: must be two digits (e.g. 10), or none (got ${JSON.stringify(value)})`);
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
    ['objfile', 'lib/x.so', '--objfile: must be a file name at the package root, without "/" or "\\" (got "lib/x.so")'],
    ['objfile', '..', '--objfile: must be a plain file name: letters, digits, ".", "_", "+", "-", starting with a letter, digit or "_" (got "..")'],
    ['objfile', 'my plugin.so', '--objfile: must be a plain file name: letters, digits, ".", "_", "+", "-", starting with a letter, digit or "_" (got "my plugin.so")'],
    ['objfile', 'metadata.toml', '--objfile: must not be metadata.toml, which the package holds beside the object (got "metadata.toml")'],
    ['entry', '2start', '--entry: must be a C identifier: a letter or _, then letters, digits or _ (at most 64) (got "2start")'],
    ['entry', 'vplugin_exit', '--entry: must not be a C or Rust keyword, main, or vplugin_exit (got "vplugin_exit")'],
    ['entry', 'int', '--entry: must not be a C or Rust keyword, main, or vplugin_exit (got "int")'],
    ['destructor', 'maybe', '--destructor: must be true or false (got "maybe")'],
  ])('refuses %s = %j', (name, value, message) => expect(refusal(q(vpl, name), value)).toBe(message));

  it.each([['name', 'geo.ip+2'], ['plugin-version', '2.1.0-rc.1+build.5'], ['objfile', 'libgeo.so'], ['objfile', 'plugin.obj'], ['objfile', 'plugin'], ['entry', '_start_geo']])('accepts %s = %j', (name, value) => {
    expect(checkAnswer(q(vpl, name), value)).toBe(value);
  });

  it('writes metadata.toml and Cargo.toml that parse back to the answers, whatever the description', async () => {
    const description = 'say "hi" \\ """ # ${{ x }} <%= y %>\nnext\u0000line';
    const files = await renderProject(vpl, { name: 'geo', 'plugin-version': '1.0.0', description, objfile: 'geo.so', entry: 'geo_init', destructor: false, language: 'rust', author: 'A', license: 'MIT' });
    expect(parse(file(files, 'metadata.toml')!)).toEqual({ metadata: { name: 'geo', version: '1.0.0', description, objfile: 'geo.so' } });
    expect(file(files, 'src/lib.rs')).toContain('pub extern "C" fn geo_init() -> i32');
    expect(file(files, 'src/lib.rs')).not.toContain('vplugin_exit');
    expect(parse(file(files, 'Cargo.toml')!).package).toMatchObject({ description, authors: ['A'], license: 'MIT' });
  });

  it('a custom entry point comes with vplugin_init calling it, and the README warns of the real loader', async () => {
    for (const language of ['c', 'rust']) {
      const files = await renderProject(vpl, { name: 'geo', 'plugin-version': '1.0.0', description: 'd', objfile: 'geo.so', entry: 'geo_init', destructor: true, language, author: 'A', license: 'MIT' });
      const source = file(files, language === 'c' ? 'src/plugin.c' : 'src/lib.rs')!;
      expect(source).toMatch(language === 'c' ? /int32_t vplugin_init\(void\)\n\{\n    return geo_init\(\);/ : /fn vplugin_init\(\) -> i32 \{\n    geo_init\(\)/);
      const readme = file(files, 'README.md')!;
      expect(readme).toContain('crashes on every package on Linux');
      expect(readme).toContain('remove the second `load_metadata()` call in `Plugin::load`');
    }
    const defaults = await renderProject(vpl, { name: 'geo', 'plugin-version': '1.0.0', description: 'd', objfile: 'geo.so', entry: 'vplugin_init', destructor: true, language: 'c', author: 'A', license: 'MIT' });
    expect(file(defaults, 'src/plugin.c')!.match(/vplugin_init/g)).toHaveLength(1);
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

describe('lgc answers and rendering', () => {
  it.each(['prod', 'siem-prod', 'service-2-0', '2fa'])('accepts the name %j', (value) => expect(checkAnswer(q(lgc, 'name'), value)).toBe(value));
  it.each(['PROD', 'siem_prod', 'service-2.0', 'foo-', '-foo', 'foo--bar', '../x', ''])('refuses the name %j as lgc does', (value) => {
    expect(refusal(q(lgc, 'name'), value)).toBe(
      `--name: must be kebab-case as lgc requires: lowercase letters and digits in groups joined by single dashes (e.g. "siem-prod", "service-2-0") (got ${JSON.stringify(value)})`,
    );
  });
  it('refuses a WIT folder that does not exist or holds no .wit', () => {
    expect(refusal(q(lgc, 'wit'), '/nonexistent/wit')).toMatch(/^--wit: must be an existing directory/);
    expect(refusal(q(lgc, 'wit'), root)).toBe(`--wit: must hold .wit files (got ${JSON.stringify(root)})`);
  });

  const answers = { name: 'siem', 'plugin-version': '1.0.0', api: '1', description: 'd "q" \\ """', author: "O'Neil \u00e9", 'package-tool': 'pip', wit: '', license: 'MIT' };

  it.each([
    ['1', 'pip'],
    ['0.1', 'poetry'],
  ])('API %s with %s: exact pins, the contract, Python that keeps the text', async (api, tool) => {
    const files = await renderProject(lgc, { ...answers, api, 'package-tool': tool });
    const pyproject = parse(file(files, 'pyproject.toml')!) as any;
    if (tool === 'pip') expect(pyproject['dependency-groups'].dev).toEqual(expect.arrayContaining([expect.stringMatching(/^componentize-py==\d/), expect.stringMatching(/^wasmtime==\d/)]));
    else expect(pyproject.tool.poetry.group.dev.dependencies['componentize-py']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(file(files, 'wit/plugin.wit')).toContain(api === '1' ? 'validate: func(detection: bytes) -> result<_, string>;' : 'author: string,');
    // The componentize-py that API's lgc loads, and the bindings modules it generates.
    const bindings = apiBindings[api as '1' | '0.1'];
    expect(file(files, 'pyproject.toml')).toContain(tool === 'pip' ? `"componentize-py==${bindings.componentizePy}"` : `componentize-py = "${bindings.componentizePy}"`);
    expect(file(files, 'app.py')).toContain(`from ${bindings.world} import exports`);
    expect(file(files, 'siem_client.py')).toContain(`from ${bindings.errors} import Err`);
    // lgc 0.1 reads KCL, and the project checks it with the kclvm line lgc 0.1 embeds.
    expect(file(files, 'kcl_schemas.py') !== undefined).toBe(api === '0.1');
    expect(file(files, 'pyproject.toml')).toContain(api === '0.1' ? 'kcl-lib' : 'jsonschema');
    const logic = file(files, 'plugin_logic.py')!;
    expect(logic).toContain(`PLUGIN_AUTHOR = ${JSON.stringify(answers.author)}`);
    const check = execFileSync('python3', ['-c', 'import ast,sys; m=ast.parse(sys.stdin.read()); print([n.value.value for n in m.body if isinstance(n, ast.Assign) and n.targets[0].id=="PLUGIN_DESCRIPTION"][0])'], { input: logic, encoding: 'utf8' });
    expect(check.trimEnd()).toBe(answers.description);
  });

  it('shares verify\'s virtual environment between projects that would install the same, and only those', async () => {
    const project = async (extra: object) => {
      const dir = tempDir('venv-key-');
      for (const f of await renderProject(lgc, { ...answers, ...extra })) {
        mkdirSync(join(dir, f.path, '..'), { recursive: true });
        writeFileSync(join(dir, f.path), f.contents);
      }
      return dir;
    };
    const key = (dir: string, python = 'Python 3.11.2') => venvKey(dir, python);
    const first = await project({});
    // Another name, description, author and version: the same pins, the same venv.
    expect(key(await project({ name: 'other', description: 'another one', author: 'B', 'plugin-version': '2.0.0' }))).toBe(key(first));
    // What `make venv` installs differs: a pin, the package tool, the API's pins, poetry.lock, the Python, the recipe.
    const pinned = await project({});
    writeFileSync(join(pinned, 'pyproject.toml'), readFileSync(join(pinned, 'pyproject.toml'), 'utf8').replace(/"pytest==[^"]+"/, '"pytest==8.0.0"'));
    const locked = await project({ 'package-tool': 'poetry' });
    const unlocked = key(locked);
    writeFileSync(join(locked, 'poetry.lock'), '# a lock\n');
    const recipe = await project({});
    writeFileSync(join(recipe, 'Makefile'), readFileSync(join(recipe, 'Makefile'), 'utf8').replace('--group dev', '--group dev --no-deps'));
    const keys = [key(first), key(pinned), unlocked, key(locked), key(await project({ api: '0.1' })), key(first, 'Python 3.12.1'), key(recipe)];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('copies the WIT of the user\'s own checkout instead of the bundled one', async () => {
    const dir = tempDir('wit-');
    mkdirSync(join(dir, 'deps'));
    writeFileSync(join(dir, 'world.wit'), 'package logcraft:lgc@0.1.0;\n// mine\n');
    writeFileSync(join(dir, 'deps', 'extra.wit'), '// dep\n');
    const files = await renderProject(lgc, { ...answers, wit: dir });
    const wit = files.filter((f) => f.path.startsWith('wit/')).map((f) => f.path);
    // The user's contract, plus the world that adds the wasi-http client and its WASI packages.
    expect(wit).toEqual(expect.arrayContaining(['wit/deps/extra.wit', 'wit/world.wit', 'wit/client.wit', 'wit/deps/http/types.wit']));
    expect(wit).not.toContain('wit/plugin.wit');
    expect(file(files, 'wit/world.wit')).toContain('// mine');
  });

  it('yo vsmtp-plugin:lgc takes options', async () => {
    await helpers.run(join(root, 'generators', 'lgc', 'index.js')).withOptions({ name: 'siem', api: '0.1', 'package-tool': 'poetry', yes: true, author: 'A' });
    result.assertFile(['app.py', 'plugin_logic.py', 'wit/plugin.wit', 'samples/detection.json', 'tests/test_plugin_logic.py']);
    result.assertFileContent('pyproject.toml', '[tool.poetry]');
  });
});
