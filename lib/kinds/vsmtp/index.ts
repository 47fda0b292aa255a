import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { cacheNote, cargoTargetDir } from '../../core/cache.js';
import { toml } from '../../core/escape.js';
import { failureTail, requireTools, run, type Tool } from '../../core/exec.js';
import { timeoutOption, tool } from '../../core/shared-questions.js';
import { runHost } from '../../core/host-process.js';
import { sandboxOptions } from '../../core/sandbox.js';
import type { Kind, VerifyTarget } from '../../core/kind.js';
import type { Answers, Question } from '../../core/question.js';
import type { StepLog } from '../../core/report.js';
import { mismatches, readArtifact, readProject, type ProjectFacts } from './compat.js';
import { closureDifferences, parseTree, treeArgs, type ClosureCrate } from './closure.js';
import { cargoMessages, cargoProgress, detectToolchain, ensureHost, installToolchain, missingToolchain, rhaiHash, rustcRelease, type Toolchain } from './host.js';
import { alignLines, closureFile, lockPlaceholder, profileById, profiles } from './profiles.js';
import { defaultSeed, questions } from './questions.js';

const tools: Tool[] = [tool.cargo('builds the plugin and the reference host'), tool.rustc('compiles the plugin and the reference host')];
// `make lint` and the generated CI run them; verify does not.
const projectTools: Tool[] = [
  { command: 'cargo', label: 'clippy', versionArgs: ['clippy', '--version'], why: "the project's make lint and CI", install: 'rustup component add clippy' },
  { command: 'cargo', label: 'rustfmt', versionArgs: ['fmt', '--version'], why: "the project's make lint and CI", install: 'rustup component add rustfmt' },
];

const verifyOptions: Question[] = [
  {
    name: 'profile',
    message: 'Host profile to load the plugin in',
    help: "host profile of the reference host (default: the project's, or guessed from the artifact's rhai version)",
    type: 'choice',
    choices: questions.find((q) => q.name === 'profile')!.choices,
  },
  {
    name: 'seed',
    message: 'Hashing seed of the host',
    help: "hashing seed of the reference host (default: the project's, else 1, 2, 3, 4)",
    type: 'string',
    validate: questions.find((q) => q.name === 'seed')!.validate,
    normalize: questions.find((q) => q.name === 'seed')!.normalize,
  },
  {
    name: 'script',
    message: 'Smoke script',
    help: "script the host runs after loading the plugin (default: the project's tests/smoke.rhai)",
    type: 'string',
  },
  timeoutOption(30),
  ...sandboxOptions,
];

/** The Rust array literal as rustfmt lays it out (one line when it fits in 100 columns). */
function seedLiteral(seed: string): string {
  const numbers = seed.split(', ');
  const line = `const HASHING_SEED: [u64; 4] = [${numbers.join(', ')}];`;
  if (line.length <= 100) return line;
  return `const HASHING_SEED: [u64; 4] = [\n${numbers.map((n) => `    ${n},\n`).join('')}];`;
}

function context(answers: Answers) {
  const name = String(answers.name);
  const profile = profileById(String(answers.profile));
  const seed = String(answers.seed);
  return {
    paths: { name, ext: profile.scriptExtension },
    name,
    crate: `vsmtp-plugin-${name}`,
    libFile: `libvsmtp_plugin_${name.replace(/-/g, '_')}.so`,
    alias: name.replace(/-/g, '_'),
    importPath: profile.pluginImport(`vsmtp-plugin-${name}`),
    description: String(answers.description),
    author: String(answers.author),
    license: String(answers.license),
    profile,
    profiles,
    seed,
    seedLiteral: seedLiteral(seed),
    toml,
    alignLines,
    // The host's lock, as cargo writes it for this crate: the plugin builds the host's rhai.
    lockfile: closureFile(profile, 'plugin.lock').replaceAll(`name = "${lockPlaceholder}"`, `name = "vsmtp-plugin-${name}"`),
    list: (items: string[]) => items.map((item) => JSON.stringify(item)).join(', '),
  };
}

const hostSteps = ['set hashing seed', 'create engine', 'load plugin', 'read smoke script', 'run smoke script'];

interface BuiltPlugin {
  so: string;
  /** Hash of the rhai it was compiled with (cargo's file name for the rlib). */
  rhaiHash?: string;
}

/**
 * Builds the plugin in the target directory the reference hosts are built in, shared by
 * every project, so rhai, most of the build, compiles once for plugins and host alike,
 * not once per project: cargo keys each crate it builds by version, features, profile
 * and rustc. A user's own CARGO_TARGET_DIR is used as it is. The library is copied
 * into the project (target/verify/) under a lock held across build and copy, as
 * projects with one crate name write the same file in a shared directory.
 */
async function buildPlugin(project: string, toolchain: Toolchain, note: (text: string) => void): Promise<BuiltPlugin> {
  const targetDir = cargoTargetDir();
  await mkdir(targetDir, { recursive: true });
  const { default: lockfile } = await import('proper-lockfile');
  const release = await lockfile.lock(targetDir, { lockfilePath: join(targetDir, '.vsmtp-plugin-verify.lock'), retries: { retries: 3600, minTimeout: 200, maxTimeout: 1000 } });
  try {
    const total = await cratesToBuild(project);
    const deps = join(targetDir, 'release', 'deps');
    if (!existsSync(deps) || !readdirSync(deps).some((file) => /^librhai-[0-9a-f]+\.rlib$/.test(file))) {
      note(`first build with rustc ${rustcRelease(toolchain)}: compiling rhai and its closure once (a few minutes on 2 cores); later projects reuse it`);
    }
    const build = await run('cargo', ['build', '--release', '--message-format=json-render-diagnostics'], {
      cwd: project,
      env: { ...process.env, CARGO_TARGET_DIR: targetDir },
      timeoutMs: 30 * 60_000,
      onLine: cargoProgress(total, note),
    });
    if (build.exitCode !== 0) throw new Error(failureTail(build));
    const messages = cargoMessages(build.stdout);
    for (const message of [...messages].reverse()) {
      if (message.reason === 'compiler-artifact' && message.target?.kind.includes('cdylib')) {
        const built = message.filenames?.find((file) => file.endsWith('.so'));
        if (!built) continue;
        const so = join(project, 'target', 'verify', basename(built));
        await mkdir(dirname(so), { recursive: true });
        await copyFile(built, so);
        return { so, rhaiHash: rhaiHash(messages) };
      }
    }
  } finally {
    await release();
  }
  throw new Error('cargo built no cdylib: Cargo.toml\'s [lib] crate-type needs "cdylib"');
}

/** The packages a release build of the project compiles (normal and build graphs), for progress; undefined when cargo tree cannot tell. */
async function cratesToBuild(project: string): Promise<number | undefined> {
  const tree = await run('cargo', ['tree', '--offline', '-e', 'normal,build', '--prefix', 'none', '--no-dedupe', '-f', '{p}'], { cwd: project, timeoutMs: 60_000 });
  return tree.exitCode === 0 ? new Set(tree.stdout.split('\n').filter(Boolean)).size : undefined;
}

/** rhai's closure as cargo resolved it for the plugin. */
async function pluginClosure(project: string): Promise<ClosureCrate[]> {
  const tree = await run('cargo', treeArgs, { cwd: project, timeoutMs: 120_000 });
  if (tree.exitCode !== 0) throw new Error(`cargo tree failed\n${failureTail(tree)}`);
  return parseTree(tree.stdout);
}

/** What a failed host step most likely means, for a plugin author. */
function likelyCause(detail: string): string {
  if (/Function not found/.test(detail)) {
    return "a function is not found under the hash the host computes: the hashing seed, rustc or rhai's build (its version, features, or any crate of its closure) differ between plugin and host, or the script calls a function the plugin does not export";
  }
  if (/Module not found|cannot open|undefined symbol/i.test(detail)) {
    return 'the host cannot load the library: check that it is a cdylib exporting module_entrypoint';
  }
  return 'the smoke script failed: see the step above';
}

async function verify(target: VerifyTarget, options: Answers, log: StepLog) {
  requireTools(tools);
  const project = target.project;
  const answers = target.answers ?? {};
  const pinned = project && (await missingToolchain(project));
  if (project && pinned) {
    await log.run(`install Rust ${pinned}`, async (note) => {
      note('rust-toolchain.toml pins the rustc the host was built with: installing it with rustup, once');
      await installToolchain(project, pinned);
      return { value: undefined, detail: `rustup toolchain install ${pinned}` };
    });
  }
  const projectToolchain = project ? await detectToolchain(project) : undefined;
  const built: BuiltPlugin | undefined = project && projectToolchain ? await log.run('build plugin', async (note) => {
    const plugin = await buildPlugin(project, projectToolchain, note);
    return { value: plugin, detail: plugin.so };
  }) : target.artifact ? { so: target.artifact } : undefined;
  if (!built) {
    // The likeliest reason a generated project stops building: the pins need their lock.
    const lockGone = project && !existsSync(join(project, 'Cargo.lock'));
    return { artifact: null, cause: lockGone ? `Cargo.lock is missing: it pins the host's rhai closure, which the exact pins in Cargo.toml need; restore it (git checkout Cargo.lock, or generate the project again)` : undefined };
  }
  const artifact = built.so;

  const facts = readArtifact(await readFile(built.so));
  const profileId = String(options.profile ?? answers.profile ?? profiles.find((p) => p.rhai === facts.rhai)?.id ?? 'vsmtp-2');
  const profile = profileById(profileId);
  const hostSeed = String(options.seed ?? answers.seed ?? defaultSeed);
  let projectFacts: ProjectFacts | undefined;
  if (project) {
    const libRs = join(project, 'src', 'lib.rs');
    projectFacts = readProject(await readFile(join(project, 'Cargo.toml'), 'utf8'), existsSync(libRs) ? await readFile(libRs, 'utf8') : undefined);
  }
  const toolchain = projectToolchain ?? (await detectToolchain(dirname(built.so), facts.rustc));
  const host = await log.run('build reference host', async (note) => {
    const started = performance.now();
    const onBuild = () => note(`first time for ${profile.title} and this toolchain: building the reference host from the host's recorded lock, cached for next time`);
    const host = await ensureHost({ profile, toolchain, timeoutMs: 30 * 60_000, onBuild });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return { value: host, detail: cacheNote(host.cache, `built in ${seconds} s`) };
  });

  const differences = mismatches(profile, hostSeed, rustcRelease(toolchain), facts, projectFacts);
  let closureDetail: string[] = [];
  await log.run('check host compatibility', async () => {
    if (!facts.exportsEntrypoint) differences.unshift('the library does not export module_entrypoint');
    if (project) {
      // The closure first: it names the crate and feature; the hash only says "different".
      const closure = closureDifferences(JSON.parse(closureFile(profile, 'rhai.json')) as ClosureCrate[], await pluginClosure(project));
      if (closure.length) {
        differences.push(`rhai's dependency closure differs from ${profile.title}'s in ${closure.length} place${closure.length > 1 ? 's' : ''}, first: ${closure[0]}`);
        closureDetail = closure;
      }
      if (host && built.rhaiHash && built.rhaiHash !== host.rhaiHash) {
        differences.push(`compiled rhai: the plugin's is librhai-${built.rhaiHash}, the host's librhai-${host.rhaiHash}; the host will not find functions taking strings or maps (nor any, when ahash differs)`);
      }
    }
    if (differences.length) throw new Error([...differences, ...closureDetail.map((line) => `  ${line}`)].join('\n'));
    const same = project && host ? `, the host's compiled rhai (librhai-${host.rhaiHash})` : '';
    const rustc = facts.rustc ?? rustcRelease(toolchain);
    // Not a failure: a vSMTP built from source with this rustc loads it.
    const official = rustc === profile.officialRustc ? '' : `\nwarning: built with rustc ${rustc}, ${profile.title}'s official binaries with ${profile.officialRustc}: it loads only in a vSMTP built with rustc ${rustc} (rust-toolchain.toml)`;
    return {
      value: undefined,
      detail: `${profile.title}: rhai ${facts.rhai ?? profile.rhai}, rustc ${rustc}, seed [${hostSeed}]${same}${official}`,
    };
  });
  if (!host) return { artifact };

  const script = options.script ? resolve(String(options.script)) : project ? join(project, 'tests', 'smoke.rhai') : undefined;
  const stem = project ? `vsmtp-plugin-${String(answers.name ?? basename(project).replace(/^vsmtp-plugin-/, ''))}` : basename(artifact).replace(/\..*$/, '');
  const config = await mkdtemp(join(tmpdir(), 'vsmtp-verify-'));
  try {
    // A config directory laid out like /etc/vsmtp: plugins/ holds a dot-free link.
    await mkdir(join(config, 'plugins'));
    await symlink(resolve(artifact), join(config, 'plugins', `${stem}.so`));
    if (project && existsSync(join(project, 'services'))) await symlink(resolve(project, 'services'), join(config, 'services'));
    const timeout = Number(options.timeout);
    const args = ['--seed', hostSeed.replace(/ /g, ''), '--config-dir', config, '--import', `plugins/${stem}`, '--script-ext', profile.scriptExtension];
    if (script) args.push('--script', script);
    const expected = script ? hostSteps : hostSteps.filter((name) => !name.includes('script'));
    // The config directory's links point at the library and the services: kept readable.
    const read = [resolve(artifact), ...(project ? [resolve(project, 'services')] : [])];
    const { failure } = await runHost(host.binary, args, log, { timeoutMs: timeout * 1000, expected, confine: { read } });
    let cause: string | undefined = differences.length ? differences.join('; ') : undefined;
    const failedStep = log.steps.find((step) => step.status === 'failed' && step.name.startsWith('host: '));
    if (failure?.kind === 'timeout') cause ??= 'the plugin does not return: a function loops or blocks';
    else if (failure?.kind === 'signal') cause ??= `the host ${failure.detail.split('\n')[0]} in "${failure.step}": plugin and host disagree on rhai's types (rhai version, features, rustc or profile), or the plugin itself crashes`;
    else if (failedStep && !failure) cause ??= likelyCause(failedStep.detail);
    if (!script) {
      log.add({ name: 'host: run smoke script', ok: false, status: 'skipped', ms: 0, detail: 'no smoke script for a bare artifact (pass --script FILE)' });
    }
    return { artifact, cause };
  } finally {
    await rm(config, { recursive: true, force: true });
  }
}

export const vsmtp: Kind = {
  id: 'vsmtp',
  title: 'vSMTP plugin (Rust cdylib, Rhai module)',
  summary: 'Rust cdylib exporting module_entrypoint, imported from vSMTP rules',
  questions,
  verifyOptions,
  tools,
  projectTools,
  context,
  nextSteps: () => ['cargo build --release --locked', 'cargo test --locked', 'vsmtp-plugin verify'],
  detect: (directory) => existsSync(join(directory, 'Cargo.toml')) && existsSync(join(directory, 'tests', 'smoke.rhai')),
  accepts: (artifact) => artifact.endsWith('.so') && readFileSync(artifact).includes('module_entrypoint'),
  verify,
};

