import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { toml } from '../../core/escape.js';
import { failureTail, requireTools, run, type Tool } from '../../core/exec.js';
import { timeoutOption, tool } from '../../core/shared-questions.js';
import { runHost } from '../../core/host-process.js';
import { sandboxOptions } from '../../core/sandbox.js';
import type { Kind, VerifyTarget } from '../../core/kind.js';
import type { Answers, Question } from '../../core/question.js';
import { packageRoot } from '../../core/render.js';
import type { StepLog } from '../../core/report.js';
import { questions } from './questions.js';

const host = join(packageRoot, 'hosts', 'vpl', 'vpl_host.py');
const hostSteps = ['open archive', 'check entries', 'extract', 'read metadata', 'find object', 'load object', 'entry point', 'destructor'];

const tools: Tool[] = [
  tool.python3('packages the .vpl and runs the reference host'),
  tool.make('builds and packages the plugin'),
  tool.cc('compiles C plugins'),
  tool.cargo('builds Rust plugins'),
];

const verifyOptions: Question[] = [
  {
    name: 'entry',
    message: 'Entry point the host calls',
    help: "entry point the host calls (default: the project's, else vplugin_init)",
    type: 'string',
    validate: questions.find((q) => q.name === 'entry')!.validate,
  },
  timeoutOption(30),
  ...sandboxOptions,
];

function context(answers: Answers) {
  const name = String(answers.name);
  const version = String(answers['plugin-version']);
  return {
    paths: {},
    name,
    version,
    packageFile: `${name}-${version}.vpl`,
    crate: `vplugin-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'plugin'}`,
    description: String(answers.description),
    objfile: String(answers.objfile),
    entry: String(answers.entry),
    destructor: answers.destructor === true,
    language: String(answers.language),
    license: String(answers.license),
    author: String(answers.author),
    toml,
  };
}

/** The package `make` writes, named from metadata.toml: packages of earlier versions may lie beside it. */
function packageName(project: string): string {
  const { metadata } = parse(readFileSync(join(project, 'metadata.toml'), 'utf8')) as { metadata?: { name?: unknown; version?: unknown } };
  return `${String(metadata?.name)}-${String(metadata?.version)}.vpl`;
}

async function buildPackage(project: string, log: StepLog): Promise<string | undefined> {
  return log.run('build package', async () => {
    const make = await run('make', [], { cwd: project, timeoutMs: 30 * 60_000 });
    if (make.exitCode !== 0) throw new Error(failureTail(make));
    const path = join(project, packageName(project));
    if (!existsSync(path)) throw new Error(`make did not write ${path}, the package metadata.toml's name and version call for`);
    return { value: path, detail: path };
  });
}

async function verify(target: VerifyTarget, options: Answers, log: StepLog) {
  const language = String(target.answers?.language ?? (target.project && existsSync(join(target.project, 'Cargo.toml')) ? 'rust' : 'c'));
  const needed = target.project ? ['python3', 'make', language === 'rust' ? 'cargo' : 'cc'] : ['python3'];
  requireTools(tools.filter((tool) => needed.includes(tool.command)));
  const artifact = target.project ? await buildPackage(target.project, log) : target.artifact;
  if (!artifact) return { artifact: null };

  const entry = String(options.entry ?? target.answers?.entry ?? 'vplugin_init');
  // The host extracts under TMPDIR: the sandbox's scratch directory, removed even when
  // a plugin crashes or hangs before the host can clean up.
  await runHost('python3', [host, artifact, '--entry', entry], log, {
    timeoutMs: Number(options.timeout) * 1000,
    expected: hostSteps,
    confine: {},
  });
  return { artifact };
}

export const vpl: Kind = {
  id: 'vpl',
  title: 'VPlugin package (.vpl)',
  summary: 'a .vpl package: metadata.toml and a shared object (C, or Rust cdylib) in a ZIP',
  questions,
  verifyOptions,
  tools,
  context,
  templateFolders: (answers) => ['vpl/common', `vpl/${String(answers.language)}`],
  nextSteps: () => ['make', 'vsmtp-plugin verify'],
  detect: (directory) => existsSync(join(directory, 'metadata.toml')),
  accepts: (artifact) => artifact.endsWith('.vpl'),
  verify,
};
