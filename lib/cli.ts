#!/usr/bin/env node
// vsmtp-plugin: the non-Yeoman front end, for CI and people without yo.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { EXIT, UsageError } from './core/errors.js';
import { echoOutput, probe } from './core/exec.js';
import { recordFile, renderProject } from './core/generate.js';
import { writeProject } from './core/persist.js';
import { resolveAnswers, type AnswerValue, type Question } from './core/question.js';
import { terminalProgress } from './core/progress.js';
import { verifiedLine, type Progress, type VerifyReport } from './core/report.js';
import { locate, verify, verifyOptions } from './core/verify.js';
import { kindById, kinds } from './kinds/index.js';
import { packageRoot } from './core/render.js';

const FLAGS = ['yes', 'verify', 'dry-run', 'force', 'json', 'verbose', 'help'];

const USAGE = `Usage:
  vsmtp-plugin new <kind> <directory> [--<question> <value>]... [--yes] [--verify] [--dry-run] [--force] [--json] [--verbose]
  vsmtp-plugin verify [path] [--<verify option> <value>]... [--json] [--verbose]
  vsmtp-plugin list [--json]
  vsmtp-plugin doctor [--json]

Kinds: ${kinds.map((kind) => kind.id).join(', ')}. \`vsmtp-plugin list\` shows every question.
Steps show as they run (a spinner on a terminal; NO_COLOR turns colours off); --verbose
also streams the tools' own output to stderr.
Exit codes: 0 success, 1 build or verify failed, 2 bad input, 3 toolchain missing (skipped).`;

class Cancelled extends Error {}

interface Parsed {
  positionals: string[];
  options: Record<string, string | true>;
}

function parseArgs(argv: string[]): Parsed {
  const parsed: Parsed = { positionals: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--') || token === '--') {
      parsed.positionals.push(token);
      continue;
    }
    const [key, inline] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (FLAGS.includes(key)) {
      if (inline !== undefined) throw new UsageError(`--${key} takes no value`);
      parsed.options[key] = true;
    } else if (inline !== undefined) {
      parsed.options[key] = inline;
    } else if (i + 1 < argv.length) {
      parsed.options[key] = argv[++i]!;
    } else {
      throw new UsageError(`--${key} needs a value`);
    }
  }
  return parsed;
}

function rejectUnknown(options: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new UsageError(`unknown option --${key}; options here: ${allowed.map((a) => `--${a}`).join(', ')}`);
  }
}

function questionValues(options: Parsed['options'], questions: Question[]): Record<string, unknown> {
  return Object.fromEntries(questions.filter((q) => options[q.name] !== undefined).map((q) => [q.name, options[q.name]]));
}

function gitUser(): string | undefined {
  const read = (key: string) => spawnSync('git', ['config', '--get', key], { encoding: 'utf8' }).stdout?.trim();
  const name = read('user.name');
  if (!name) return undefined;
  const email = read('user.email');
  return email ? `${name} <${email}>` : name;
}

async function ask(question: Question, fallback: AnswerValue | undefined): Promise<unknown> {
  const prompts = (await import('prompts')).default;
  const common = { name: 'value', message: question.message };
  const choices = question.choices?.map((c) => ({ title: c.title, value: c.value, description: c.description }));
  const prompt =
    question.type === 'choice'
      ? { ...common, type: 'select' as const, choices, initial: Math.max(0, question.choices!.findIndex((c) => c.value === fallback)) }
      : question.type === 'multi'
        ? { ...common, type: 'multiselect' as const, choices: choices!.map((c) => ({ ...c, selected: Array.isArray(fallback) && fallback.includes(c.value) })) }
        : question.type === 'boolean'
          ? { ...common, type: 'confirm' as const, initial: fallback === true }
          : { ...common, type: 'text' as const, initial: typeof fallback === 'string' ? fallback : undefined, validate: (v: string) => question.validate?.(v) ?? true };
  const answer = await prompts(prompt, { onCancel: () => { throw new Cancelled(); } });
  return answer.value;
}

function print(json: boolean, object: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(object)}\n` : `${text}\n`);
}

function exitFor(report: VerifyReport): number {
  return report.ok ? EXIT.ok : report.status === 'skipped' ? EXIT.skipped : EXIT.failed;
}

function summary(report: VerifyReport): string {
  if (report.ok) return verifiedLine(report);
  if (report.status === 'skipped') return `skipped, not verified: ${report.cause}`;
  return `verification FAILED${report.cause ? `\nlikely cause: ${report.cause}` : ''}`;
}

/**
 * Steps are shown as they run, unless the output is one JSON object; with --verbose
 * the tools' own output streams to stderr.
 */
function showSteps(options: Parsed['options']): Progress | undefined {
  const verbose = options.verbose === true;
  echoOutput(verbose ? process.stderr : undefined);
  return options.json === true ? undefined : terminalProgress(verbose);
}

async function commandNew({ positionals, options }: Parsed): Promise<number> {
  const [kindId, directory] = positionals;
  if (!kindId || !directory) throw new UsageError('new needs a kind and a directory: vsmtp-plugin new <kind> <directory>');
  const kind = kindById(kindId);
  rejectUnknown(options, [...kind.questions.map((q) => q.name), ...FLAGS]);
  const json = options.json === true;
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !json;
  const answers = await resolveAnswers(kind.questions, questionValues(options, kind.questions), {
    yes: options.yes === true,
    ask: interactive ? ask : undefined,
    directoryName: basename(resolve(directory)),
    gitUser: options.author === undefined ? gitUser() : undefined,
  });
  const files = [...(await renderProject(kind, answers)), recordFile(kind, answers)];
  if (options['dry-run']) {
    print(json, { kind: kind.id, directory, dryRun: true, answers, files: files.map((f) => f.path) }, [`would write ${files.length} files to ${directory}:`, ...files.map((f) => `  ${f.path}`)].join('\n'));
    return EXIT.ok;
  }
  await writeProject(directory, files, options.force === true);
  if (!json) console.log(`created ${directory}: ${kind.title}, ${files.length} files`);
  if (!options.verify) {
    if (json) print(true, { kind: kind.id, directory, answers, files: files.map((f) => f.path) }, '');
    return EXIT.ok;
  }
  const report = await verify(kind, { project: resolve(directory), answers }, verifyOptions(kind, {}), showSteps(options));
  print(json, { kind: kind.id, directory, answers, files: files.map((f) => f.path), verify: report }, summary(report));
  return exitFor(report);
}

async function commandVerify({ positionals, options }: Parsed): Promise<number> {
  const { kind, target } = locate(positionals[0] ?? '.');
  rejectUnknown(options, [...kind.verifyOptions.map((q) => q.name), 'json', 'verbose']);
  const json = options.json === true;
  const report = await verify(kind, target, verifyOptions(kind, questionValues(options, kind.verifyOptions)), showSteps(options));
  print(json, report, summary(report));
  return exitFor(report);
}

function describe(question: Question) {
  const fallback = typeof question.default === 'function' ? '(derived)' : question.default;
  return { name: question.name, type: question.type, help: question.help, default: fallback, choices: question.choices?.map((c) => c.value) };
}

function commandList({ options }: Parsed): number {
  rejectUnknown(options, ['json']);
  const listing = kinds.map((kind) => ({ id: kind.id, title: kind.title, summary: kind.summary, questions: kind.questions.map(describe), verifyOptions: kind.verifyOptions.map(describe) }));
  const text = listing.map((kind) => [
    `${kind.id}: ${kind.title}`,
    ...kind.questions.map((q) => `  --${q.name} <${q.type}>  ${q.help}${q.default !== undefined ? ` [default: ${q.default}]` : ''}${q.choices ? `\n      choices: ${q.choices.join(', ')}` : ''}`),
    `  verify options:`,
    ...kind.verifyOptions.map((q) => `  --${q.name}  ${q.help}`),
  ].join('\n')).join('\n\n');
  print(options.json === true, { kinds: listing }, text);
  return EXIT.ok;
}

function commandDoctor({ options }: Parsed): number {
  rejectUnknown(options, ['json']);
  const report = kinds.map((kind) => ({ kind: kind.id, tools: [...kind.tools, ...(kind.installs ?? [])].map((tool) => probe(tool)) }));
  const missing = report.some((entry) => entry.tools.some((tool) => !tool.found));
  const text = report.map((entry) => [
    `${entry.kind}:`,
    ...entry.tools.map((t) => (t.found ? `  found    ${t.label ?? t.command}: ${t.version}` : `  MISSING  ${t.label ?? t.command} (${t.why}): ${t.install}`)),
  ].join('\n')).join('\n');
  print(options.json === true, { ok: !missing, kinds: report.map((e) => ({ kind: e.kind, tools: e.tools.map(({ command, label, found, version, path, why, install }) => ({ command, label, found, version, path, why, install })) })) }, text);
  return missing ? EXIT.skipped : EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    const parsed = parseArgs(argv);
    json = parsed.options.json === true;
    const [command, ...rest] = parsed.positionals;
    const sub = { positionals: rest, options: parsed.options };
    if (parsed.options.help || command === 'help' || command === undefined) {
      console.log(USAGE);
      return command === undefined && !parsed.options.help ? EXIT.usage : EXIT.ok;
    }
    switch (command) {
      case 'new': return await commandNew(sub);
      case 'verify': return await commandVerify(sub);
      case 'list': return commandList(sub);
      case 'doctor': return commandDoctor(sub);
      case 'version': return (console.log(JSON.parse(readFileSync(resolve(packageRoot, 'package.json'), 'utf8')).version), EXIT.ok);
      default: throw new UsageError(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof Cancelled) {
      console.error('vsmtp-plugin: cancelled, nothing written');
      return 130;
    }
    const usage = error instanceof UsageError;
    const message = (error as Error).message;
    if (json) print(true, { ok: false, error: message }, '');
    else console.error(`vsmtp-plugin: ${message}`);
    return usage ? EXIT.usage : EXIT.failed;
  }
}

process.exitCode = await main(process.argv.slice(2));
