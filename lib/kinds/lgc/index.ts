import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { cacheDir, cachedBuild, cacheNote, cargoTargetDir, hashOf, LGC_VENVS_KEPT, pruneArea, pruneEntries, type CacheHit } from '../../core/cache.js';
import { ToolchainMissing, UsageError } from '../../core/errors.js';
import { toml } from '../../core/escape.js';
import { failureTail, requireTools, run, which, type Tool } from '../../core/exec.js';
import { runHost } from '../../core/host-process.js';
import type { Kind, VerifyTarget } from '../../core/kind.js';
import type { Answers, Question } from '../../core/question.js';
import { packageRoot, type ProjectFile } from '../../core/render.js';
import type { StepLog } from '../../core/report.js';
import { timeoutOption, tool } from '../../core/shared-questions.js';
import { questions } from './questions.js';

const hostDir = join(packageRoot, 'hosts', 'lgc');

/**
 * Per plugin API: the componentize-py whose output that lgc loads, and the modules
 * its bindings are generated into. lgc 0.1's wasmtime 22 refuses newer output
 * ("constant expression required: non-constant operator: i32.add").
 */
export const apiBindings = {
  '1': { componentizePy: '0.25.1', world: 'wit_world', errors: 'componentize_py_types' },
  '0.1': { componentizePy: '0.13.5', world: 'plugins_client', errors: 'plugins_client.types' },
} as const;
type Api = keyof typeof apiBindings;

/** The tools a generated project pins (pyproject.toml), bumped together here. */
export const pins = {
  pytest: '9.2.0',
  /** The project's tests check the settings schema as lgc does (lgc 1.1.1 uses the jsonschema crate). */
  jsonschema: '4.26.0',
  /** API 0.1 projects check their KCL with the kclvm line lgc 0.1.x embeds (0.9). */
  kclLib: '0.9.3',
  /** pip >= 25.1 installs PEP 735 dependency groups (`pip install --group dev`). */
  pip: '26.3',
  poetry: '2.5.1',
  /** The linters `make lint` installs on demand (an optional group), never for build or test. */
  ruff: '0.17.6',
  mypy: '2.4.1',
  /** The runtime the tests use: the reference host's own pin (hosts/lgc/requirements.txt). */
  get wasmtime(): string {
    return /^wasmtime==(\S+)$/m.exec(readFileSync(join(hostDir, 'requirements.txt'), 'utf8'))![1]!;
  },
};

const tools: Tool[] = [
  tool.python3('creates the virtual environment, runs componentize-py and the reference host'),
  tool.make('runs the project build'),
];
// API 0.1 plugins run in lgc 0.1's own runtime (wasmtime 22), built from hosts/lgc/runtime-0.1.
const runtime01Tools: Tool[] = [tool.cargo('builds lgc 0.1\'s runtime (wasmtime 22) that API 0.1 plugins are verified in')];
const runtime01Dir = join(hostDir, 'runtime-0.1');

// Installed per project by `make venv`; `doctor --online` asks pip's index for it (a
// network call, so verify does not: it reports exit 3 when the install itself fails).
const installs: Tool[] = [
  {
    online: true,
    command: 'python3',
    label: `componentize-py ${Object.values(apiBindings).map((api) => api.componentizePy).join(' / ')} (pip)`,
    versionArgs: ['-m', 'pip', 'index', 'versions', 'componentize-py', '--disable-pip-version-check'],
    why: 'compiles the Python plugin to a component; each project installs it into .venv',
    install: `make sure pip reaches a package index holding componentize-py (PIP_INDEX_URL), then \`make venv\` in the project`,
  },
];

// The contract of a bare .wasm (a project's is in its answers); the time limit is
// above lgc's own 60 s execution deadline, which the host enforces inside.
const apiQuestion = questions.find((question) => question.name === 'api')!;
const verifyOptions: Question[] = [
  { ...apiQuestion, help: `${apiQuestion.help} [default: the project's, or 1]`, default: undefined },
  { name: 'config', message: 'Sample settings', help: "service settings (JSON file) the host calls the plugin with (default: the project's samples/config.json)", type: 'string' },
  { name: 'detection', message: 'Sample detection', help: "detection rule (JSON file) for validate and lgc's plan, apply and destroy calls (default: the project's samples/detection.json)", type: 'string' },
  { name: 'changed-detection', message: 'Changed sample detection', help: "the sample detection edited, for lgc apply's update (default: the project's samples/detection-updated.json)", type: 'string' },
  timeoutOption(120),
];

/** An email address as Poetry's pyproject schema accepts it (format "email"), no spaces or angle brackets. */
const emailAddress = /^(?!\.)(?!.*\.\.)[^\s<>@]+(?<!\.)@[^\s<>@.]+(\.[^\s<>@.]+)+$/;

/**
 * The author as a PEP 621 `authors` table: "Name <email>" split in two; any other
 * text (an address that no validator would take included) is all name.
 */
function pep621Author(author: string): string {
  const [, name, email] = /^(.*?)\s*<([^<>]*)>$/.exec(author) ?? [];
  if (name === undefined || email === undefined || !emailAddress.test(email)) return `{ name = ${toml(author)} }`;
  return name.trim() ? `{ name = ${toml(name.trim())}, email = ${toml(email)} }` : `{ email = ${toml(email)} }`;
}

function context(answers: Answers) {
  const name = String(answers.name);
  return {
    paths: {},
    name,
    module: name.replace(/-/g, '_'),
    version: String(answers['plugin-version']),
    api: String(answers.api),
    bindings: apiBindings[String(answers.api) as Api],
    description: String(answers.description),
    author: String(answers.author),
    pep621Author: pep621Author(String(answers.author)),
    tool: String(answers['package-tool']),
    license: String(answers.license),
    pins,
    toml,
    python: (text: string) => JSON.stringify(text),
  };
}

/** Every .wit file of the user's folder (sub-folders such as deps/ included), under wit/. */
function witFiles(folder: string): ProjectFile[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.wit'))
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path: `wit/${relative(folder, path).split(sep).join('/')}`, contents: readFileSync(path, 'utf8') };
    });
}

/**
 * A virtual environment with `packages` pip-installed, made once per key and cached.
 * It is used through its python only: the cache renames it into place, and a venv's
 * scripts keep the shebang of the directory they were installed in.
 */
async function cachedVenv(area: string, key: string, packages: string[], missing: { tool: string; install: string }, note: (text: string) => void): Promise<{ python: string; hit: CacheHit }> {
  const built = await cachedBuild(area, key, 'venv', async (work) => {
    const venv = join(work, 'venv');
    const python = join(venv, 'bin', 'python');
    for (const [file, args] of [
      ['python3', ['-m', 'venv', venv]],
      [python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages]],
    ] as const) {
      const step = await run(file, [...args], { timeoutMs: 15 * 60_000 });
      if (step.exitCode !== 0) throw new ToolchainMissing(missing.tool, missing.install, `it could not be installed: ${failureTail(step, 5)}`);
    }
    return venv;
  }, () => note(`first time: installing ${missing.tool} into a virtual environment, cached for next time`));
  return { python: join(built.path, 'bin', 'python'), hit: built };
}

let python3Version: Promise<string> | undefined;

/** `python3 --version`, asked once per process: both venvs of a verify are keyed by it. */
function pythonVersion(): Promise<string> {
  python3Version ??= run('python3', ['--version'], { timeoutMs: 30_000 }).then((result) => result.stdout);
  return python3Version;
}

/** The reference host's python, with its pinned wasmtime. */
async function hostPython(note: (text: string) => void): Promise<{ python: string; hit: CacheHit }> {
  const requirements = join(hostDir, 'requirements.txt');
  return cachedVenv('lgc-host', hashOf(readFileSync(requirements, 'utf8'), await pythonVersion()), ['-r', requirements], {
    tool: 'wasmtime (Python package)',
    install: `pip install -r ${requirements}`,
  }, note);
}

/** lgc 0.1's runtime, built once per source and rustc and cached. */
async function runtime01(note: (text: string) => void): Promise<{ binary: string; hit: CacheHit }> {
  const sources = ['Cargo.toml', 'Cargo.lock', 'src/main.rs', '../../../templates/lgc/wit-0.1/wit/plugin.wit'].map((file) => readFileSync(join(runtime01Dir, file), 'utf8'));
  const rustc = await run('rustc', ['-vV'], { timeoutMs: 60_000 });
  const hit = await cachedBuild('lgc-0.1-runtime', hashOf(...sources, rustc.stdout), 'lgc-0-1-runtime', async (work) => {
    const env = { ...process.env, CARGO_TARGET_DIR: cargoTargetDir() };
    const build = await run('cargo', ['build', '--release', '--locked', '--manifest-path', join(runtime01Dir, 'Cargo.toml')], { env, timeoutMs: 40 * 60_000 });
    if (build.exitCode !== 0) throw new Error(`lgc 0.1's runtime did not build\n${failureTail(build)}`);
    const binary = join(work, 'lgc-0-1-runtime');
    copyFileSync(join(cargoTargetDir(), 'release', 'lgc-0-1-runtime'), binary);
    return binary;
  }, () => note('first time: building lgc 0.1\'s runtime (wasmtime 22) with cargo, cached for next time'));
  return { binary: hit.path, hit };
}

/** Poetry, for a project that uses it: the one on PATH, else a pinned one in the cache. */
async function poetry(note: (text: string) => void): Promise<string> {
  const found = which('poetry');
  if (found) return found;
  const venv = await cachedVenv('poetry', pins.poetry, [`poetry==${pins.poetry}`], { tool: `poetry ${pins.poetry}`, install: `pip install poetry==${pins.poetry}` }, note);
  return `${venv.python} -m poetry`;
}

/**
 * What decides the virtual environment `make venv` makes: the Makefile's recipe for
 * it (the whole Makefile, when the recipe is not where the template put it), the
 * dependency tables of pyproject.toml, poetry.lock and the Python. Not the name or
 * the description: a second project with the same pins shares the first one's.
 */
export function venvKey(project: string, python: string): string {
  const makefile = readFileSync(join(project, 'Makefile'), 'utf8');
  const recipe = /^\.venv\/\.installed:.*\n(?:\t.*(?:\n|$))*/m.exec(makefile)?.[0] ?? makefile;
  const pyproject = parseToml(readFileSync(join(project, 'pyproject.toml'), 'utf8')) as { project?: Record<string, unknown>; 'dependency-groups'?: unknown; tool?: { poetry?: Record<string, unknown> } };
  const declared = {
    project: pick(pyproject.project, ['dependencies', 'optional-dependencies', 'requires-python']),
    groups: pyproject['dependency-groups'],
    poetry: pick(pyproject.tool?.poetry, ['dependencies', 'group', 'source']),
  };
  const lock = join(project, 'poetry.lock');
  return hashOf(recipe, JSON.stringify(declared), existsSync(lock) ? readFileSync(lock, 'utf8') : '', python);
}

function pick(table: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => table?.[key] !== undefined).map((key) => [key, table![key]]));
}

/**
 * The project's `make venv`, run on a copy of its Makefile, pyproject.toml and
 * poetry.lock in the cache and shared by every project that would install the same:
 * a second project's verify reuses the first one's componentize-py. The project's
 * own .venv, for the author's `make`, is left as it is.
 */
async function sharedVenv(project: string, answers: Answers, log: StepLog): Promise<string | undefined> {
  return log.run('install pinned tools', async (note) => {
    const { componentizePy } = apiBindings[String(answers.api) as Api];
    const hit = await cachedBuild('lgc-venv', venvKey(project, await pythonVersion()), 'venv', async (work) => {
      for (const file of ['Makefile', 'pyproject.toml', 'poetry.lock']) if (existsSync(join(project, file))) copyFileSync(join(project, file), join(work, file));
      // Poetry only for a project that uses it, and only when the venv is to be made.
      const poetryVar = answers['package-tool'] === 'poetry' ? [`POETRY=${await poetry(note)}`] : [];
      const venv = await run('make', ['venv', ...poetryVar], { cwd: work, timeoutMs: 20 * 60_000 });
      if (venv.exitCode !== 0) throw new ToolchainMissing('componentize-py', `cd ${project} && make venv`, `the pinned tools did not install: ${failureTail(venv, 8)}`);
      return join(work, '.venv');
    }, () => note(`first time for these pins: installing componentize-py ${componentizePy} and the dev dependencies (make venv); projects with the same pins reuse it`));
    await pruneEntries('lgc-venv', LGC_VENVS_KEPT);
    return { value: join(hit.path, 'bin', 'python'), detail: cacheNote(hit, `installed componentize-py ${componentizePy} and the dev dependencies`) };
  });
}

/** A path as one word of a make recipe's shell: single-quoted, with make's `$` doubled. */
const recipeWord = (path: string) => `'${path.replaceAll("'", "'\\''")}'`.replaceAll('$', () => '$$');

// The venv is used through its python: the cache moved it, and its scripts' shebangs
// name the directory it was made in. componentize-py has no __main__, hence -c.
const componentizeWith = (python: string) => `${recipeWord(python)} -c 'import sys, componentize_py; sys.argv[0] = "componentize-py"; sys.exit(componentize_py.script())'`;

async function buildComponent(project: string, answers: Answers, log: StepLog): Promise<string | undefined> {
  const python = await sharedVenv(project, answers, log);
  if (!python) return undefined;
  // -o: the project's own .venv is neither made nor a reason to rebuild.
  const make = (target: string) => run('make', [target, '-o', '.venv/.installed', `COMPONENTIZE=${componentizeWith(python)}`, `PYTEST=${recipeWord(python)} -m pytest`], { cwd: project, timeoutMs: 20 * 60_000 });
  const wasm = await log.run('build component', async (note) => {
    note('componentize-py is compiling the plugin and a Python interpreter into one component (make does it again only when a source changes)');
    const build = await make('build');
    if (build.exitCode !== 0) throw new Error(failureTail(build));
    const built = readdirSync(project).filter((file) => file.endsWith('.wasm'));
    if (built.length !== 1) throw new Error(`expected one .wasm in ${project}, found ${built.length}`);
    return { value: join(project, built[0]!), detail: join(project, built[0]!) };
  });
  if (!wasm) return undefined;
  // A failing test fails verify, yet the host still runs the built component: what
  // lgc would do with it is worth knowing beside it.
  await log.run('plugin tests', async () => {
    const test = await make('test');
    if (test.exitCode !== 0) throw new Error(failureTail(test));
    return { value: true, detail: test.stdout.trim().split('\n').at(-1) ?? '' };
  });
  return wasm;
}

async function verify(target: VerifyTarget, options: Answers, log: StepLog) {
  const project = target.project;
  const answers = target.answers ?? {};
  const api = String(options.api ?? answers.api ?? '1');
  requireTools([...(project ? tools : tools.slice(0, 1)), ...(api === '0.1' ? runtime01Tools : [])]);
  // Sample files: given, else the project's; a bare component without them runs only
  // the calls that need none. Checked before any build starts.
  const samples = project ? join(project, 'samples') : undefined;
  const config = options.config ? resolve(String(options.config)) : samples && join(samples, 'config.json');
  const detection = options.detection ? resolve(String(options.detection)) : samples && join(samples, 'detection.json');
  if (Boolean(config) !== Boolean(detection)) throw new UsageError('verify: --config and --detection go together for a bare .wasm');
  const changed = options['changed-detection'] ? resolve(String(options['changed-detection'])) : samples && join(samples, 'detection-updated.json');
  const wasm = project ? await buildComponent(project, answers, log) : target.artifact;
  if (!wasm) return { artifact: null };

  const python = await log.run('reference host runtime', async (note) => {
    const built = await hostPython(note);
    return { value: built.python, detail: cacheNote(built.hit, `installed wasmtime ${pins.wasmtime}, jsonschema and kcl-lib`) };
  });
  if (!python) return { artifact: wasm };

  const args = [join(hostDir, 'lgc_host.py'), wasm, '--api', api, '--cache-dir', join(cacheDir(), 'lgc-compiled')];
  if (api === '0.1') {
    const runtime = await log.run('lgc 0.1 runtime', async (note) => {
      const built = await runtime01(note);
      return { value: built.binary, detail: cacheNote(built.hit, 'built lgc 0.1\'s runtime (wasmtime 22)') };
    });
    if (!runtime) return { artifact: wasm };
    args.push('--runtime-0-1', runtime);
  }
  if (config && detection) args.push('--config', config, '--detection', detection);
  if (changed && existsSync(changed)) args.push('--changed-detection', changed);
  // A project's plan, apply and destroy calls go to its own test SIEM, never to the
  // service its sample config names; a bare .wasm's go to the --config service.
  if (project) {
    args.push('--broken-detection', join(project, 'samples', 'broken-detection.json'));
    if (existsSync(join(project, 'test_siem.py'))) args.push('--siem', join(project, 'test_siem.py'));
  }
  await runHost(python, args, log, { timeoutMs: Number(options.timeout) * 1000, expected: [] });
  // Each plugin build compiles to a new entry (tens of MB): bounded, least recently used out.
  await pruneArea('lgc-compiled');
  return { artifact: wasm };
}

export const lgc: Kind = {
  id: 'lgc',
  title: 'LogCraft lgc plugin (Python to WebAssembly component)',
  summary: 'Python compiled by componentize-py into a component of world logcraft:lgc/plugins',
  questions,
  verifyOptions,
  tools: [...tools, ...runtime01Tools],
  installs,
  context,
  // The bundled contract, unless the user brings the WIT of their own lgc checkout.
  templateFolders: (answers) => ['lgc/common', `lgc/api-${String(answers.api)}`, ...(answers.wit ? [] : [`lgc/wit-${String(answers.api)}`])],
  extraFiles: (answers) => (answers.wit ? witFiles(String(answers.wit)) : []),
  nextSteps: () => ['make', 'make test', 'vsmtp-plugin verify'],
  detect: (directory) => existsSync(join(directory, 'wit')) && existsSync(join(directory, 'app.py')),
  accepts: (artifact) => artifact.endsWith('.wasm'),
  verify,
};
