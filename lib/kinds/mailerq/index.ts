import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { cachedBuild, cacheNote, hashOf, type CacheHit } from '../../core/cache.js';
import { failureTail, lastLines, requireTools, run, type Tool } from '../../core/exec.js';
import { timeoutOption, tool } from '../../core/shared-questions.js';
import { runHost, type HostOutcome } from '../../core/host-process.js';
import { sandboxOptions } from '../../core/sandbox.js';
import type { Kind, VerifyTarget } from '../../core/kind.js';
import type { Answers, Question } from '../../core/question.js';
import { packageRoot } from '../../core/render.js';
import type { StepLog } from '../../core/report.js';
import { callbacks } from './callbacks.js';
import { questions } from './questions.js';

const hostSource = join(packageRoot, 'hosts', 'mailerq');
const standInHeader = join(hostSource, 'mailerq.h');

const tools: Tool[] = [
  tool.cmake('configures and builds the plugin'),
  tool.cc('compiles C plugins and the reference host'),
  tool.cxx('compiles C++ plugins'),
];

const verifyOptions: Question[] = [
  {
    name: 'api-version',
    message: 'MQ_API_VERSION the host expects',
    help: "MQ_API_VERSION of the MailerQ to emulate (default: the one in the header the plugin was built with)",
    type: 'string',
    validate: (value) => (/^\d{1,9}$/.test(value) ? undefined : 'must be a whole number'),
  },
  timeoutOption(30),
  {
    name: 'sanitize',
    message: 'Also run under AddressSanitizer, UBSan and LeakSanitizer',
    help: 'rebuild the plugin and the host with -fsanitize=address,undefined and look for leaks (skipped, and said so, where the compiler has no sanitizers)',
    type: 'boolean',
    default: true,
  },
  ...sandboxOptions,
];

const sanitizerFlags = ['-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize-recover=undefined'];
/** The host's own frames in a sanitizer stack: it called the plugin, it is not where the mistake is. */
const hostFrames = /\/hosts\/mailerq\/host\.c:|mq-ref-host|libc_start|in _start /;

function context(answers: Answers) {
  const name = String(answers.name);
  const language = String(answers.language);
  const prefix = String(answers.prefix);
  const stem = prefix ? `${prefix}-${name}` : name;
  const chosen = new Set(answers.callbacks as string[]);
  return {
    paths: { ext: language === 'cpp' ? 'cpp' : 'c' },
    name,
    project: `mailerq-plugin-${name}`,
    language,
    lang: language === 'cpp' ? 'CXX' : 'C',
    ext: language === 'cpp' ? 'cpp' : 'c',
    prefix,
    stem,
    fileName: `${stem}.so`,
    selected: callbacks.filter((c) => chosen.has(c.name)),
    description: String(answers.description),
    license: String(answers.license),
    standInHeader: readFileSync(standInHeader, 'utf8'),
  };
}

/** MQ_API_VERSION of the header the project was built with (MailerQ's own, or the stand-in). */
function headerApiVersion(project: string | undefined): string {
  let header = standInHeader;
  const cmakeCache = project && join(project, 'build', 'CMakeCache.txt');
  if (cmakeCache && existsSync(cmakeCache)) {
    const dir = /^MAILERQ_INCLUDE_DIR:PATH=(.*)$/m.exec(readFileSync(cmakeCache, 'utf8'))?.[1];
    header = dir && !dir.endsWith('-NOTFOUND') ? join(dir, 'mailerq.h') : join(project, 'stand-in', 'mailerq.h');
  }
  const version = /#\s*define\s+MQ_API_VERSION\s+(\d+)/.exec(readFileSync(header, 'utf8'))?.[1];
  if (!version) throw new Error(`${header} defines no MQ_API_VERSION`);
  return version;
}

/**
 * Builds the project with CMake into `build` (Release), or with sanitizers into
 * `build/sanitize` (the plugin and its tests instrumented), then runs its tests.
 */
async function buildPlugin(project: string, log: StepLog, language: string, sanitized = false): Promise<string | undefined> {
  const build = sanitized ? join(project, 'build', 'sanitize') : join(project, 'build');
  const suffix = sanitized ? ' (sanitizers)' : '';
  const flags = sanitized ? ['-DCMAKE_BUILD_TYPE=Debug', `-DCMAKE_${language === 'cpp' ? 'CXX' : 'C'}_FLAGS=${sanitizerFlags.join(' ')}`] : ['-DCMAKE_BUILD_TYPE=Release'];
  const artifact = await log.run(`build plugin${suffix}`, async () => {
    for (const args of [['-S', project, '-B', build, ...flags], ['--build', build]]) {
      const step = await run('cmake', args, { cwd: project, timeoutMs: 10 * 60_000 });
      if (step.exitCode !== 0) throw new Error(failureTail(step));
    }
    const built = readdirSync(build).filter((file) => file.endsWith('.so'));
    if (built.length !== 1) throw new Error(`expected one shared object in ${build}, found ${built.length}`);
    const path = join(build, built[0]!);
    return { value: path, detail: path };
  });
  if (!artifact) return undefined;
  const tested = await log.run(`plugin tests${suffix}`, async () => {
    const test = await run('ctest', ['--test-dir', build, '--output-on-failure'], { cwd: project, timeoutMs: 10 * 60_000 });
    if (test.exitCode !== 0) throw new Error(failureTail(test));
    return { value: true, detail: test.stdout.trim().split('\n').filter((line) => /tests passed/.test(line)).join('') };
  });
  return tested ? artifact : undefined;
}

/** The compiler cannot build with sanitizers (no libasan/libubsan): a check skipped, not failed. */
class SanitizersUnavailable extends Error {}

async function ensureHost(note: (text: string) => void, sanitized = false): Promise<CacheHit> {
  const source = await readFile(join(hostSource, 'host.c'), 'utf8');
  const compiler = await run('cc', ['--version'], { timeoutMs: 30_000 });
  const flags = sanitized ? ['-O1', '-g', ...sanitizerFlags] : ['-O2'];
  const key = hashOf(source, await readFile(standInHeader, 'utf8'), compiler.stdout, ...flags);
  return cachedBuild(sanitized ? 'mailerq-host-sanitized' : 'mailerq-host', key, 'mq-ref-host', async (work) => {
    const output = join(work, 'mq-ref-host');
    if (sanitized) {
      const probe = join(work, 'probe');
      await writeFile(`${probe}.c`, 'int main(void) { return 0; }\n');
      const built = await run('cc', [...sanitizerFlags, '-o', probe, `${probe}.c`], { timeoutMs: 60_000 });
      const ran = built.exitCode === 0 ? await run(probe, [], { timeoutMs: 60_000 }) : built;
      if (ran.exitCode !== 0) throw new SanitizersUnavailable(`cc cannot build and run a program with ${sanitizerFlags[0]}: ${failureTail(ran, 3)}`);
    }
    const compile = await run('cc', [...flags, '-Wall', '-Wextra', '-Werror', '-rdynamic', '-I', hostSource, '-o', output, join(hostSource, 'host.c'), '-ldl'], { timeoutMs: 5 * 60_000 });
    if (compile.exitCode !== 0) throw new Error(`the reference host did not compile\n${failureTail(compile)}`);
    return output;
  }, () => note(`first time: compiling the reference host${sanitized ? ' with sanitizers' : ''}, cached for next time`));
}

const recipients = ['rcpt1@example.org', 'rcpt2@example.org'];

/** The steps the host reports, in order, so a crash is named after the step it happened in. */
function hostSteps(files: string[], sanitized = false): string[] {
  return [
    'plugin directory',
    ...files.flatMap((file) => [`load ${file}`, `mq_version ${file}`, `callbacks ${file}`, `exports ${file}`, `mq_initialize ${file}`]),
    'mq_context_initialize',
    'smtp in: connect',
    'smtp in: secure',
    'smtp in: authenticate',
    'smtp in: mailfrom',
    ...recipients.map((r) => `smtp in: rcptto ${r}`),
    'smtp in: data',
    ...recipients.map((r) => `smtp in: message ${r}`),
    'smtp in: close',
    'smtp out: data',
    'smtp out: sent',
    'event loop drain',
    'callback order',
    'mq_context_cleanup',
    'mq_cleanup',
    'threads after mq_cleanup',
    ...(sanitized ? ['leaks'] : []),
  ];
}

/**
 * Checks the host's "callback order" step: every callback reached the plugins in
 * file-name order (per-recipient callbacks repeat that round once per recipient).
 */
function checkOrder(log: StepLog, expected: string[]): void {
  const order = log.steps.find((step) => step.name === 'host (2 plugins): callback order');
  const start = performance.now();
  const inOrder = (calls: string[]) => calls.length > 0 && calls.every((plugin, i) => plugin === expected[i % expected.length]) && calls.length % expected.length === 0;
  const entries = (order?.detail ?? '').split(/[;\n]/).map((entry) => entry.trim()).filter((entry) => entry.includes(':'));
  const wrong = entries.filter((entry) => !inOrder(entry.split(':')[1]!.split(',').map((p) => p.trim()).filter(Boolean)));
  const ok = Boolean(order) && wrong.length === 0;
  const detail = !order
    ? 'the host reported no callback order'
    : wrong.length
      ? `not in file-name order (${expected.join(', ')}): ${wrong.join('; ')}`
      : entries.length
        ? `every callback reached ${expected.join(' then ')}`
        : 'no optional callback is implemented: nothing to order';
  log.add({ name: 'callbacks in file-name order', ok, status: ok ? 'passed' : 'failed', ms: performance.now() - start, detail });
}

/** Runs the host on copies of `artifact` named `files` in a fresh plugin directory. */
async function runPlugins(host: string, artifact: string, files: string[], label: string, log: StepLog, settings: { apiVersion: string; timeoutMs: number; extra?: string[] }) {
  const dir = await mkdtemp(join(tmpdir(), 'mailerq-verify-'));
  try {
    for (const name of files) await copyFile(artifact, join(dir, name));
    const args = ['--plugin-dir', dir, '--api-version', settings.apiVersion, '--timeout-ms', '2000', '--recipients', String(recipients.length), ...(settings.extra ?? [])];
    const sanitized = Boolean(settings.extra);
    return await runHost(host, args, log, { timeoutMs: settings.timeoutMs, expected: hostSteps(files, sanitized), prefix: label, hostFrames, confine: { sanitized } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The plugin (rebuilt instrumented, for a project) in the host built with ASan and
 * UBSan: an overflow, a use after free or undefined behaviour in plugin code stops the
 * run where it happens, and a last step looks for leaks. A bare artifact is not
 * instrumented: leaks and double frees are still found, overflows and UB are not.
 */
async function sanitizerRun(target: VerifyTarget, artifact: string, language: string, log: StepLog, settings: { apiVersion: string; timeoutMs: number }) {
  const host = await log.run('build reference host (sanitizers)', async (note) => {
    try {
      const built = await ensureHost(note, true);
      return { value: built.path, detail: cacheNote(built, 'compiled with sanitizers') };
    } catch (error) {
      if (!(error instanceof SanitizersUnavailable)) throw error;
      const detail = `${error.message}; install the compiler's sanitizer runtimes (Debian: apt-get install libasan8 libubsan1) to run this check, or pass --no-sanitize to leave it out`;
      return { value: undefined, detail, skipped: true };
    }
  });
  if (!host) return undefined;
  const instrumented = target.project ? await buildPlugin(target.project, log, language, true) : artifact;
  if (!instrumented) return undefined;
  if (!target.project) {
    log.add({ name: 'build plugin (sanitizers)', ok: false, status: 'skipped', ms: 0, detail: 'a bare artifact is not instrumented: leaks and double frees are found, overflows, use after free and undefined behaviour only when verifying its project' });
  }
  const probe = await run(host, ['--leaks', 'probe'], { timeoutMs: 60_000 });
  if (/error while loading shared libraries/.test(probe.stderr)) {
    log.add({ name: 'sanitizers', ok: false, status: 'skipped', ms: 0, detail: `the host built with sanitizers no longer starts (${lastLines(probe.stderr, 1)}): reinstall the compiler's sanitizer runtimes (Debian: apt-get install libasan8 libubsan1), or pass --no-sanitize` });
    return undefined;
  }
  const leaks = probe.exitCode === 0 ? 'check' : 'skip';
  const outcome = await runPlugins(host, instrumented, [basename(artifact)], 'host (sanitizers)', log, { ...settings, extra: ['--leaks', leaks] });
  return outcome;
}

async function verify(target: VerifyTarget, options: Answers, log: StepLog) {
  const language = String(target.answers?.language ?? 'c');
  const needed = target.project ? ['cmake', 'cc', ...(language === 'cpp' ? ['c++'] : [])] : ['cc'];
  requireTools(tools.filter((tool) => needed.includes(tool.command)));
  const artifact = target.project ? await buildPlugin(target.project, log, language) : target.artifact;
  if (!artifact) return { artifact: null };

  const host = await log.run('build reference host', async (note) => {
    const built = await ensureHost(note);
    return { value: built.path, detail: cacheNote(built, 'compiled') };
  });
  if (!host) return { artifact };

  const settings = { apiVersion: String(options['api-version'] ?? headerApiVersion(target.project)), timeoutMs: Number(options.timeout) * 1000 };
  const bare = basename(artifact).replace(/^\d\d-/, '');
  const runs: Array<{ label: string; files: string[] }> = [
    { label: 'host', files: [basename(artifact)] },
    { label: 'host (2 plugins)', files: [`10-${bare}`, `20-${bare}`] },
  ];
  let cause: string | undefined;
  let crashed = false;
  const explain = (failure: HostOutcome['failure']) => {
    if (failure?.kind === 'timeout') cause ??= `a callback never returns (the plugin blocks) in "${failure.step}"`;
    crashed ||= failure?.kind === 'signal';
  };
  for (const { label, files } of runs) {
    explain((await runPlugins(host, artifact, files, label, log, settings)).failure);
    if (log.failed) break;
    if (files.length > 1) checkOrder(log, files);
  }
  // Also after a crash: the sanitizers usually tell why (an overflow, a use after free).
  if ((!log.failed || crashed) && options.sanitize !== false) {
    const outcome = await sanitizerRun(target, artifact, language, log, settings);
    explain(outcome?.failure);
    const found = log.steps.find((step) => step.status === 'failed' && step.name.startsWith('host (sanitizers): '));
    const explained = found?.detail.split('\n').filter((line) => /^\w+Sanitizer: /.test(line)).join('; ');
    if (explained) cause = explained;
  }
  return { artifact, cause };
}

export const mailerq: Kind = {
  id: 'mailerq',
  title: 'MailerQ plugin (C or C++ shared object)',
  summary: 'shared object exporting mq_version and optional callbacks, loaded from plugin-directory',
  questions,
  verifyOptions,
  tools,
  context,
  nextSteps: () => ['make', 'make test', 'vsmtp-plugin verify'],
  detect: (directory) => existsSync(join(directory, 'CMakeLists.txt')) && existsSync(join(directory, 'stand-in', 'mailerq.h')),
  accepts: (artifact) => artifact.endsWith('.so') && readFileSync(artifact).includes('mq_version'),
  verify,
};
