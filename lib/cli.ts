// vsmtp-plugin: the non-Yeoman front end, for CI and people without yo. Its bin is
// lib/bin.ts, which runs this file bundled (dist/bin/cli.cjs).
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { cacheDir, cacheLimitBytes, cacheUsage, LGC_VENVS_KEPT, pruneArea, pruneEntries } from './core/cache.js';
import { basename, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, UsageError } from './core/errors.js';
import { echoOutput, probe } from './core/exec.js';
import { readProjectRecord, recordFile, renderProject } from './core/generate.js';
import type { Kind } from './core/kind.js';
import { writeProject } from './core/persist.js';
import { planOverwrite } from './core/regenerate.js';
import { baseRecord, onDisk, planUpdate } from './core/update.js';
import { answersFile, gitInit } from './core/setup.js';
import { suggestion, unknownOption } from './core/suggest.js';
import { resolveAnswers, type AnswerValue, type Question } from './core/question.js';
import { terminalProgress } from './core/progress.js';
import { verifiedLine, type Progress, type VerifyReport } from './core/report.js';
import { locate, verify, verifyOptions } from './core/verify.js';
import { availableSandbox, installSandbox } from './core/sandbox.js';
import { kindById, kinds } from './kinds/index.js';
import { generatorVersion } from './core/render.js';

/** An option of a command: parseArgs' type plus what help shows. */
interface Flag {
  type: 'string' | 'boolean';
  short?: string;
  help: string;
}

const common: Record<string, Flag> = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
  json: { type: 'boolean', help: 'print one JSON object instead of text' },
};
const verbose: Record<string, Flag> = {
  verbose: { type: 'boolean', help: "also stream the tools' own output to stderr" },
};
const newFlags: Record<string, Flag> = {
  yes: { type: 'boolean', short: 'y', help: 'take the default of every question that has one' },
  force: { type: 'boolean', short: 'f', help: 'write into a non-empty directory, replacing the generated files' },
  'dry-run': { type: 'boolean', short: 'n', help: 'list the files that would be written, write nothing' },
  verify: { type: 'boolean', help: 'then build the plugin and load it in the reference host' },
  answers: { type: 'string', help: 'answers from a JSON file ({"name": ...} or a .yo-rc.json); options given here override them' },
  git: { type: 'boolean', help: 'git init and commit the generated files (default; --no-git to skip; never inside an existing work tree)' },
  ...verbose,
  ...common,
};


const USAGE = `Usage:
  vsmtp-plugin new <kind> <directory> [--<question> <value>]... [-y] [-f] [-n] [--verify] [--json] [--verbose]
  vsmtp-plugin update [path] [--<question> <value>]... [-n] [--json]
  vsmtp-plugin verify [path] [--<verify option> <value>]... [--json] [--verbose]
  vsmtp-plugin list [kind] [--json]
  vsmtp-plugin doctor [kind] [--online] [--json]
  vsmtp-plugin cache [--prune | --clear] [--json]
  vsmtp-plugin --version

Kinds: ${kinds.map((kind) => kind.id).join(', ')}. \`vsmtp-plugin new <kind> --help\` shows that kind's questions.
Steps show as they run (a spinner on a terminal; NO_COLOR turns colours off); --verbose
also streams the tools' own output to stderr.
Exit codes: 0 success, 1 build or verify failed, 2 bad input, 3 toolchain missing (skipped).`;

class Cancelled extends Error {}

/** Options for questions: booleans take `--x`/`--no-x`, every other type a value. */
function questionFlags(questions: Question[]): Record<string, Flag> {
  return Object.fromEntries(questions.map((q) => [q.name, { type: q.type === 'boolean' ? 'boolean' : 'string', help: q.help } satisfies Flag]));
}

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Strict parsing with node:util: an option missing its value, an unknown option or a
 * value given to a boolean is refused with the option named, and a close name offered.
 */
function parse(args: string[], flags: Record<string, Flag>): Parsed {
  const options = Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, { type: flag.type, ...(flag.short ? { short: flag.short } : {}) }]));
  try {
    return parseArgs({ args, options, allowPositionals: true, allowNegative: true, strict: true }) as Parsed;
  } catch (error) {
    const message = (error as Error).message;
    const code = (error as NodeJS.ErrnoException).code;
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    const names = Object.keys(flags).map((name) => `--${name}`);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const negated = /^--no-(.+)$/.exec(option)?.[1];
      if (negated && flags[negated]) throw new UsageError(`--${negated} takes a value: --no-${negated} is only for yes/no options`);
      throw new UsageError(unknownOption(option, names));
    }
    if (/argument is ambiguous/.test(message)) throw new UsageError(`${option} needs a value, not the option that follows it (to give a value starting with "-", write ${option}=-...)`);
    if (/argument missing/.test(message)) throw new UsageError(`${option} needs a value`);
    if (/does not take an argument/.test(message)) throw new UsageError(`${option.split('=')[0]} takes no value: write ${option.split('=')[0]} or --no-${option.split('=')[0]!.slice(2)}`);
    throw new UsageError(message.split('\n')[0]!);
  }
}

/** Refuses positionals beyond what a command takes, naming the first extra one. */
function atMost(positionals: string[], count: number, usage: string): void {
  const extra = positionals[count];
  if (extra === undefined) return;
  const hint = /^(true|false|yes|no)$/.test(extra) ? ' (a yes/no option takes no value: write --<option> or --no-<option>)' : '';
  throw new UsageError(`unexpected argument ${JSON.stringify(extra)}${hint}: ${usage}`);
}

function given(values: Parsed['values'], questions: Question[]): Record<string, unknown> {
  return Object.fromEntries(questions.filter((q) => values[q.name] !== undefined).map((q) => [q.name, values[q.name]]));
}

function gitUser(): string | undefined {
  // One git process for both keys: `new` is expected to start about as fast as node.
  const lines = spawnSync('git', ['config', '--get-regexp', '^user\\.(name|email)$'], { encoding: 'utf8' }).stdout ?? '';
  const value = (key: string) => lines.split('\n').filter((line) => line.startsWith(`${key} `)).at(-1)?.slice(key.length + 1).trim();
  const name = value('user.name');
  if (!name) return undefined;
  const email = value('user.email');
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

const interactive = () => Boolean(process.stdin.isTTY && process.stdout.isTTY);

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
function showSteps(values: Parsed['values']): Progress | undefined {
  echoOutput(values.verbose === true ? process.stderr : undefined);
  return values.json === true ? undefined : terminalProgress(values.verbose === true);
}

/** One question or option as help shows it: type, default or how it is derived, choices. */
function describeFlag(name: string, flag: Flag, question?: Question): string {
  const short = flag.short ? `-${flag.short}, ` : '';
  const value = flag.type === 'boolean' ? (question ? ` | --no-${name}` : '') : ` <${question?.type === 'choice' || question?.type === 'multi' ? question.type : 'text'}>`;
  const fallback = question?.derived ?? (question?.default === undefined || typeof question.default === 'function' ? undefined : JSON.stringify(question.default));
  const notes = [fallback && `default: ${fallback}`, question?.choices && `${question.type === 'multi' ? 'any of' : 'one of'}: ${question.choices.map((c) => c.value).join(', ')}`].filter(Boolean);
  return `  ${short}--${name}${value}\n      ${flag.help}${notes.length ? `\n      (${notes.join('; ')})` : ''}`;
}

function newHelp(kind: Kind): string {
  return [
    `Usage: vsmtp-plugin new ${kind.id} <directory> [options]`,
    '',
    `${kind.title}: ${kind.summary}.`,
    '',
    'Questions (asked on a terminal; each also an option):',
    ...kind.questions.map((q) => describeFlag(q.name, questionFlags([q])[q.name]!, q)),
    '',
    'Options:',
    ...Object.entries(newFlags).map(([name, flag]) => describeFlag(name, flag)),
  ].join('\n');
}

async function pickKind(): Promise<Kind> {
  const question: Question = { name: 'kind', message: 'Which kind of plugin?', help: 'plugin kind', type: 'choice', choices: kinds.map((k) => ({ value: k.id, title: `${k.id}: ${k.title}` })) };
  return kindById(String(await ask(question, undefined)));
}

async function pickDirectory(kind: Kind): Promise<string> {
  const question: Question = { name: 'directory', message: 'Directory for the new project', help: 'where to write it', type: 'string', validate: (v) => (v.trim() ? undefined : 'must not be empty') };
  return String(await ask(question, `my-${kind.id}-plugin`));
}

/** The commands that come next, from where the user stands: `cd` first unless it is here. */
function nextSteps(kind: Kind, answers: Record<string, AnswerValue>, directory: string): string[] {
  const path = relative(process.cwd(), resolve(directory));
  const cd = path === '' ? [] : [`cd ${/^[\w./-]+$/.test(path) ? path : JSON.stringify(path)}`];
  return [...cd, ...kind.nextSteps(answers)];
}

async function commandNew(args: string[]): Promise<number> {
  // The kind decides the options: it is the first word after `new` when given there.
  const first = args[0] && !args[0].startsWith('-') ? args[0] : undefined;
  const known = first ? kindById(first) : undefined;
  const flags = { ...questionFlags(known?.questions ?? kinds.flatMap((k) => k.questions)), ...newFlags };
  const { values, positionals } = parse(args, flags);
  const json = values.json === true;
  let [kindId, directory] = positionals;
  atMost(positionals, 2, 'vsmtp-plugin new <kind> <directory>');
  if (values.help) {
    console.log(kindId ? newHelp(kindById(kindId)) : USAGE);
    return EXIT.ok;
  }
  const person = interactive() && !json;
  if (!kindId && !person) throw new UsageError(`new needs a kind (${kinds.map((k) => k.id).join(', ')}) and a directory: vsmtp-plugin new <kind> <directory>`);
  const kind = kindId ? kindById(kindId) : await pickKind();
  if (!known && kindId) parse(args, { ...questionFlags(kind.questions), ...newFlags }); // refuse options of other kinds
  if (!directory && !person) throw new UsageError(`new needs a directory: vsmtp-plugin new ${kind.id} <directory>`);
  directory ??= await pickDirectory(kind);
  // Answers recorded in the destination are the defaults, as with yo.
  const recorded = readProjectRecord(resolve(directory));
  const fromFile = typeof values.answers === 'string' ? answersFile(values.answers, kind) : {};
  const answers = await resolveAnswers(kind.questions, { ...fromFile, ...given(values, kind.questions) }, {
    yes: values.yes === true,
    ask: person ? ask : undefined,
    previous: recorded?.kind === kind.id ? recorded.answers : undefined,
    directoryName: basename(resolve(directory)),
    gitUser: values.author === undefined ? gitUser() : undefined,
  });
  const rendered = [...(await renderProject(kind, answers)), recordFile(kind, answers)];
  const files = [...rendered, baseRecord(rendered, generatorVersion)];
  const next = nextSteps(kind, answers, directory);
  if (values['dry-run']) {
    print(json, { kind: kind.id, directory, dryRun: true, answers, files: files.map((f) => f.path), next }, [`would write ${files.length} files to ${directory}:`, ...files.map((f) => `  ${f.path}`)].join('\n'));
    return EXIT.ok;
  }
  const previous = recorded && { kind: kindById(recorded.kind), answers: recorded.answers };
  const plan = await planOverwrite(resolve(directory), files, previous);
  await writeProject(directory, plan.write, values.force === true, plan.remove);
  if (plan.kept.length) console.error(`kept as they are (changed since generated, or not the generator's): ${plan.kept.join(', ')}`);
  const git = values.git === false ? 'not initialized: --no-git' : gitInit(resolve(directory), kind);
  if (!json) console.log(`created ${directory}: ${kind.title}, ${files.length} files; git: ${git}`);
  const result = { kind: kind.id, directory, answers, files: files.map((f) => f.path), kept: plan.kept, removed: plan.remove, git, next };
  if (!values.verify) {
    print(json, result, `\nNext:\n${next.map((line) => `  ${line}`).join('\n')}`);
    return EXIT.ok;
  }
  const report = await verify(kind, { project: resolve(directory), answers }, verifyOptions(kind, {}), showSteps(values));
  print(json, { ...result, verify: report }, summary(report));
  return exitFor(report);
}

async function commandVerify(args: string[]): Promise<number> {
  // Which kind's options apply depends on what the path is: parsed once leniently to find it.
  const everyOption = questionFlags(kinds.flatMap((k) => k.verifyOptions));
  const { values, positionals } = parse(args, { ...everyOption, ...verbose, ...common });
  atMost(positionals, 1, 'vsmtp-plugin verify [path]');
  if (values.help) {
    console.log([
      'Usage: vsmtp-plugin verify [path] [options]',
      '',
      'Builds a generated project (the current directory by default, or the project above it)',
      'and loads the result in the reference host of its kind; or loads a built artifact.',
      '',
      ...kinds.flatMap((kind) => [`Options for ${kind.id}:`, ...kind.verifyOptions.map((q) => describeFlag(q.name, questionFlags([q])[q.name]!, q))]),
      '',
      'Options:',
      ...Object.entries({ ...verbose, ...common }).map(([name, flag]) => describeFlag(name, flag)),
    ].join('\n'));
    return EXIT.ok;
  }
  const { kind, target } = locate(positionals[0] ?? '.');
  const own = parse(args, { ...questionFlags(kind.verifyOptions), ...verbose, ...common }).values;
  const report = await verify(kind, target, verifyOptions(kind, given(own, kind.verifyOptions)), showSteps(own));
  print(own.json === true, report, summary(report));
  return exitFor(report);
}

function describe(question: Question) {
  const fallback = typeof question.default === 'function' || question.fromDirectory ? undefined : question.default;
  return { name: question.name, type: question.type, help: question.help, ...(fallback !== undefined ? { default: fallback } : {}), ...(question.derived ? { derived: question.derived } : {}), choices: question.choices?.map((c) => c.value) };
}

function commandList(args: string[]): number {
  const { values, positionals } = parse(args, common);
  atMost(positionals, 1, 'vsmtp-plugin list [kind]');
  if (values.help) return (console.log('Usage: vsmtp-plugin list [kind] [--json]\n\nEvery question of every kind (or of one), with its type, default and choices.'), EXIT.ok);
  const chosen = positionals[0] ? [kindById(positionals[0])] : kinds;
  const listing = chosen.map((kind) => ({ id: kind.id, title: kind.title, summary: kind.summary, questions: kind.questions.map(describe), verifyOptions: kind.verifyOptions.map(describe) }));
  const text = chosen.map((kind) => [
    `${kind.id}: ${kind.title}`,
    ...kind.questions.map((q) => describeFlag(q.name, questionFlags([q])[q.name]!, q)),
    '  verify options:',
    ...kind.verifyOptions.map((q) => describeFlag(q.name, questionFlags([q])[q.name]!, q)),
  ].join('\n')).join('\n\n');
  print(values.json === true, { kinds: listing }, text);
  return EXIT.ok;
}

function commandDoctor(args: string[]): number {
  const { values, positionals } = parse(args, { ...common, online: { type: 'boolean', help: "also ask package indexes (network) for what projects install, such as lgc's componentize-py" } });
  atMost(positionals, 1, 'vsmtp-plugin doctor [kind]');
  if (values.help) return (console.log('Usage: vsmtp-plugin doctor [kind] [--online] [--json]\n\nChecks the tools each kind (or one kind) needs. Exit 3 when the kind asked for is not ready,\nor, without a kind, when no kind is.'), EXIT.ok);
  const chosen = positionals[0] ? [kindById(positionals[0])] : kinds;
  const report = chosen.map((kind) => {
    const tools = [...kind.tools, ...(kind.projectTools ?? []), ...(kind.installs ?? [])].map((tool) => (tool.online && !values.online ? { ...tool, found: undefined, path: undefined, version: undefined } : probe(tool)));
    return { kind: kind.id, ready: tools.every((tool) => tool.found !== false), tools };
  });
  const text = report.map((entry) => [
    `${entry.kind}: ${entry.ready ? 'ready' : `NOT READY: missing ${entry.tools.filter((t) => t.found === false).map((t) => t.label ?? t.command).join(', ')}`}`,
    ...entry.tools.map((t) =>
      t.found === undefined ? `  unchecked ${t.label ?? t.command} (${t.why}): needs the network, \`doctor --online\` asks` : t.found ? `  found    ${t.label ?? t.command}: ${t.version}` : `  MISSING  ${t.label ?? t.command} (${t.why}): ${t.install}`,
    ),
  ].join('\n')).join('\n');
  const ok = positionals[0] ? report[0]!.ready : report.some((entry) => entry.ready);
  // Not part of readiness: without one, a project still verifies (rlimits only, with a warning).
  const sandbox = availableSandbox();
  const sandboxText = sandbox.tool
    ? `sandbox: ${sandbox.version} (${sandbox.tool}): verify confines the native hosts`
    : `sandbox: NONE (${sandbox.why}): a project's verify runs with rlimits only, a bare artifact is refused without --no-sandbox; ${installSandbox}`;
  const sandboxJson = sandbox.tool ? { tool: sandbox.tool, version: sandbox.version } : { tool: null, why: sandbox.why, install: installSandbox };
  print(values.json === true, { ok, sandbox: sandboxJson, kinds: report.map((e) => ({ kind: e.kind, ready: e.ready, tools: e.tools.map(({ command, label, found, version, path, why, install }) => ({ command, label, found: found ?? null, version, path, why, install })) })) }, `${text}\n${sandboxText}`);
  return ok ? EXIT.ok : EXIT.skipped;
}

async function commandUpdate(args: string[]): Promise<number> {
  const flags = { 'dry-run': newFlags['dry-run']!, ...common };
  const first = parse(args, { ...questionFlags(kinds.flatMap((k) => k.questions)), ...flags });
  atMost(first.positionals, 1, 'vsmtp-plugin update [path]');
  if (first.values.help) {
    console.log('Usage: vsmtp-plugin update [path] [--<question> <value>]... [-n] [--json]\n\nMoves a generated project to new answers, or to this version of the generator, by a\nthree-way merge of each file: your edits stay, the template\'s changes arrive; where both\nchanged the same lines, git-style conflict markers (exit 1). -n/--dry-run prints the diffs.');
    return EXIT.ok;
  }
  const { kind, target } = locate(first.positionals[0] ?? '.');
  const project = target.project;
  const recorded = project ? readProjectRecord(project) : undefined;
  if (!project || !recorded) throw new UsageError(`update: ${first.positionals[0] ?? '.'} is not a generated project with recorded answers (.yo-rc.json)`);
  const { values } = parse(args, { ...questionFlags(kind.questions), ...flags });
  const json = values.json === true;
  const answers = await resolveAnswers(kind.questions, { ...recorded.answers, ...given(values, kind.questions) }, { yes: true, directoryName: basename(project) });
  const plan = await planUpdate(project, kind, answers, recorded.answers);
  const changed = plan.files.filter((file) => file.outcome !== 'unchanged');
  const lines = changed.map((file) => `  ${file.outcome === 'conflict' ? 'CONFLICT' : file.outcome.padEnd(8)} ${file.path}${file.note ? `: ${file.note}` : ''}`);
  const report = { kind: kind.id, project, answers, twoWay: plan.twoWay, dryRun: values['dry-run'] === true, conflicts: plan.conflicts, files: changed.map(({ path, outcome, note, diff }) => ({ path, outcome, note, ...(values['dry-run'] ? { diff } : {}) })) };
  const twoWay = plan.twoWay ? '\n(no pristine render recorded: the first update of a project generated before update existed is two-way, from its answers rendered now)' : '';
  if (values['dry-run']) {
    const diffs = changed.map((file) => file.diff).filter(Boolean).join('');
    print(json, report, `${diffs}${changed.length ? `would update ${project}:\n${lines.join('\n')}` : 'nothing to update'}${twoWay}`);
    return plan.conflicts.length ? EXIT.failed : EXIT.ok;
  }
  const writes = plan.files.flatMap((file) => (file.contents !== undefined ? [{ path: file.path, contents: file.contents }] : []));
  // The new pristine render becomes the base of the next update.
  const base = baseRecord(plan.rendered, generatorVersion);
  if (onDisk(project, base.path) !== base.contents) writes.push(base);
  const removals = plan.files.filter((file) => file.outcome === 'removed').map((file) => file.path);
  if (writes.length || removals.length) await writeProject(project, writes, true, removals);
  const conflicts = plan.conflicts.length ? `\n${plan.conflicts.length} file${plan.conflicts.length > 1 ? 's' : ''} with conflicts: resolve the <<<<<<< ======= >>>>>>> markers, then commit` : '';
  print(json, report, `${changed.length ? `updated ${project}:\n${lines.join('\n')}` : 'nothing to update'}${conflicts}${twoWay}`);
  return plan.conflicts.length ? EXIT.failed : EXIT.ok;
}

async function commandCache(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    prune: { type: 'boolean', help: `trim the compiled components to the limit, and the lgc venvs to the ${LGC_VENVS_KEPT} most recently used` },
    clear: { type: 'boolean', help: 'remove the whole cache (hosts, venvs, compiled components): rebuilt on demand' },
    ...common,
  });
  atMost(positionals, 0, 'vsmtp-plugin cache [--prune | --clear] [--json]');
  if (values.help) return (console.log(`Usage: vsmtp-plugin cache [--prune | --clear] [--json]\n\nWhat the cache in ${cacheDir()} holds, by area. Compiled lgc components are kept to\nVSMTP_PLUGIN_CACHE_LIMIT_MB (default 400), least recently used out, after every verify;\nof the venvs lgc plugins are built with, the ${LGC_VENVS_KEPT} most recently used.`), EXIT.ok);
  if (values.prune && values.clear) throw new UsageError('--prune and --clear go alone: pick one');
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  let done = '';
  if (values.clear) {
    await rm(cacheDir(), { recursive: true, force: true });
    done = `cleared ${cacheDir()}`;
  } else if (values.prune) {
    done = `pruned lgc-compiled: ${mb(await pruneArea('lgc-compiled'))} removed; lgc-venv: ${mb(await pruneEntries('lgc-venv', LGC_VENVS_KEPT))} removed`;
  }
  const areas = cacheUsage();
  const total = areas.reduce((sum, area) => sum + area.bytes, 0);
  const text = [...(done ? [done] : []), `${cacheDir()}: ${mb(total)}`, ...areas.map((area) => `  ${area.area.padEnd(22)} ${mb(area.bytes).padStart(10)}  ${area.files} files`), `compiled components are kept to ${mb(cacheLimitBytes())} (VSMTP_PLUGIN_CACHE_LIMIT_MB)`].join('\n');
  print(values.json === true, { dir: cacheDir(), bytes: total, limitBytes: cacheLimitBytes(), areas, ...(done ? { done } : {}) }, text);
  return EXIT.ok;
}

const commands: Record<string, (args: string[]) => number | Promise<number>> = { new: commandNew, update: commandUpdate, cache: commandCache, verify: commandVerify, list: commandList, doctor: commandDoctor };

const ioCalls: Record<string, string> = { open: 'write', mkdir: 'create the directory', mkdtemp: 'create a directory beside', rename: 'move into place', rmdir: 'remove', unlink: 'remove', scandir: 'read the directory', copyfile: 'copy' };
const ioCauses: Record<string, string> = { EACCES: 'permission denied', EPERM: 'not permitted', EROFS: 'read-only file system', ENOSPC: 'no space left on the device', ENOTDIR: 'a part of the path is a file', ENOENT: 'no such file or directory' };

/** A failure of the file system (a parent not writable, /proc) as a sentence naming the path and the cause. */
function ioMessage(error: NodeJS.ErrnoException): string | undefined {
  if (!error.code || !error.syscall || !error.path) return undefined;
  return `cannot ${ioCalls[error.syscall] ?? error.syscall} ${error.path}: ${ioCauses[error.code] ?? error.code}`;
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    const [command, ...rest] = argv;
    if (command === '--version' || command === '-V' || command === 'version') return (console.log(generatorVersion), EXIT.ok);
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      console.log(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    const run = commands[command];
    if (!run) throw new UsageError(`unknown command ${JSON.stringify(command)}${suggestion(command, Object.keys(commands))}\n${USAGE}`);
    return await run(rest);
  } catch (error) {
    if (error instanceof Cancelled) {
      console.error('vsmtp-plugin: cancelled, nothing written');
      return 130;
    }
    const io = ioMessage(error as NodeJS.ErrnoException);
    const message = io ?? (error as Error).message;
    if (json) print(true, { ok: false, error: message }, '');
    else console.error(`vsmtp-plugin: ${message}`);
    return error instanceof UsageError || io ? EXIT.usage : EXIT.failed;
  }
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
