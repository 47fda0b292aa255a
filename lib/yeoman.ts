// The Yeoman front end: `yo vsmtp-plugin` and `yo vsmtp-plugin:<kind>`, over the same
// kind registry as the CLI. Yeoman persists through mem-fs, with its conflict handling.
import { basename, join } from 'node:path';
import Generator, { type BaseOptions } from 'yeoman-generator';
import { EXIT, UsageError } from './core/errors.js';
import { projectRecord, recordFile, renderProject } from './core/generate.js';
import { baseRecord, planUpdate } from './core/update.js';
import type { Kind } from './core/kind.js';
import { resolveAnswers, type AnswerValue, type Answers, type Question } from './core/question.js';
import { planOverwrite } from './core/regenerate.js';
import { answersFile, gitInit } from './core/setup.js';
import { unknownOption } from './core/suggest.js';
import { lineProgress } from './core/progress.js';
import { generatorVersion, packageRoot, type ProjectFile } from './core/render.js';
import { verifiedLine } from './core/report.js';
import { verify, verifyOptions } from './core/verify.js';
import { kindById, kinds } from './kinds/index.js';

/** Options are the questions' names, known only from the registry at run time. */
type Options = BaseOptions & Record<string, any>;

const sharedOptions = {
  yes: { type: Boolean, description: 'Take the default of every question that has one' },
  verify: { type: Boolean, description: 'Build the plugin and load it in the reference host' },
  answers: { type: String, description: 'Answers from a JSON file ({"name": ...} or a .yo-rc.json); options override them' },
  update: { type: Boolean, description: 'Merge the new answers into the existing project (three-way, as `vsmtp-plugin update`)' },
  git: { type: Boolean, default: true, description: 'git init and commit the generated files (--no-git to skip; never inside a work tree)' },
} as const;

/**
 * What Yeoman and yo put into a generator's options besides the user's flags: lowercase
 * ones here, camelCase and `_`-prefixed ones by their look. Anything else not declared
 * is a flag the user mistyped.
 */
const yeomanOwn = new Set(['env', 'resolved', 'namespace', 'insight', 'force', 'bail', 'batch', 'compose', 'whitespace', 'experimental', 'conflicter', 'log', 'color', 'dry-run', 'skip-yo-resolve', 'local-config-only', 'skip-local-cache']);

function refuseUnknown(generator: Generator<Record<string, any>, Options>): void {
  const declared = Object.keys((generator as unknown as { _options: Record<string, unknown> })._options);
  for (const key of Object.keys(generator.options)) {
    if (declared.includes(key) || yeomanOwn.has(key) || /[A-Z]/.test(key) || key.startsWith('_')) continue;
    throw new UsageError(unknownOption(`--${key}`, declared.map((name) => `--${name}`)));
  }
}

/**
 * Yeoman's terminal adapter cannot prompt without a TTY ("User force closed the
 * prompt"): there a missing answer is an error naming the option, as in the CLI. A
 * test adapter (yeoman-test) answers without one.
 */
function canAsk(generator: Generator<Record<string, any>, Options>): boolean {
  const adapter = generator.env.adapter as { actualAdapter?: object };
  return Boolean(process.stdin.isTTY) || (adapter.actualAdapter ?? adapter).constructor.name !== 'TerminalAdapter';
}

function nextStepsText(kind: Kind, answers: Answers): string {
  return `\nNext:\n${kind.nextSteps(answers).map((line) => `  ${line}`).join('\n')}`;
}

function declareOptions(generator: Generator<Record<string, any>, Options>, questions: Question[]): void {
  const seen = new Set<string>();
  for (const question of questions) {
    if (seen.has(question.name)) continue;
    seen.add(question.name);
    generator.option(question.name, { type: question.type === 'boolean' ? Boolean : String, description: question.help });
  }
  for (const [name, option] of Object.entries(sharedOptions)) generator.option(name, option);
}

function inquirerQuestion(question: Question, fallback: AnswerValue | undefined) {
  const choices = question.choices?.map((c) => ({ name: c.title, value: c.value }));
  switch (question.type) {
    case 'choice':
      return { type: 'select', name: question.name, message: question.message, choices, default: fallback };
    case 'multi':
      return { type: 'checkbox', name: question.name, message: question.message, choices, default: fallback };
    case 'boolean':
      return { type: 'confirm', name: question.name, message: question.message, default: fallback };
    case 'string':
      return { type: 'input', name: question.name, message: question.message, default: fallback, validate: (v: string) => question.validate?.(v) ?? true };
  }
}

export function kindGenerator(kindId: string) {
  const kind = kindById(kindId);
  return class KindGenerator extends Generator<Record<string, any>, Options> {
    answers: Answers = {};

    constructor(args: string[], options: Options) {
      // No package-manager step: the projects have no package.json.
      super(args, options, { customInstallTask: true });
      declareOptions(this, kind.questions);
      refuseUnknown(this);
    }

    async prompting() {
      const fromFile = typeof this.options.answers === 'string' ? answersFile(this.options.answers, kind) : {};
      const given = { ...fromFile, ...Object.fromEntries(kind.questions.filter((q) => this.options[q.name] !== undefined).map((q) => [q.name, this.options[q.name]])) };
      const name = await this.git.name();
      const email = await this.git.email();
      this.answers = await resolveAnswers(kind.questions, given, {
        yes: Boolean(this.options.yes),
        previous: this.config.get('answers'),
        directoryName: basename(this.destinationRoot()),
        gitUser: name ? (email ? `${name} <${email}>` : name) : undefined,
        ask: canAsk(this) ? async (question, fallback) => ((await this.prompt([inquirerQuestion(question, fallback) as any])) as Answers)[question.name] : undefined,
      });
    }

    async writing() {
      const recorded = this.config.get('answers');
      const recordedKind = this.config.get('kind');
      const rendered = this.options.update ? await this._merge(recorded, recordedKind) : await this._overwrite(recorded, recordedKind);
      // The pristine render, for `vsmtp-plugin update` (.yo-rc.json is written by this.config).
      const base = baseRecord(rendered, generatorVersion);
      this.fs.write(this.destinationPath(base.path), base.contents);
      const record = projectRecord(kind, this.answers);
      this.config.set('kind', record.kind);
      this.config.set('answers', record.answers);
    }

    /** --update: the conflicter sees the three-way merged files, not the bare render. (Yeoman runs every method not starting with _ as a task.) */
    async _merge(recorded: Answers | undefined, recordedKind: string | undefined): Promise<ProjectFile[]> {
      if (!recorded || recordedKind !== kind.id) throw new UsageError(`--update: ${this.destinationRoot()} holds no recorded ${kind.id} project (.yo-rc.json)`);
      const plan = await planUpdate(this.destinationRoot(), kind, this.answers, recorded);
      for (const file of plan.files) {
        if (file.contents !== undefined) this.fs.write(this.destinationPath(file.path), file.contents);
        if (file.outcome === 'removed') this.fs.delete(this.destinationPath(file.path));
        if (file.note) this.log(`kept ${file.path}: ${file.note}`);
      }
      if (plan.conflicts.length) {
        this.log(`conflicts (resolve the <<<<<<< markers, then commit): ${plan.conflicts.join(', ')}`);
        process.exitCode = EXIT.failed;
      }
      return plan.rendered;
    }

    /**
     * A plain re-run: files of the variant the recorded answers gave (C before C++) that
     * are still as generated go, through Yeoman's conflict handling; edited ones stay.
     */
    async _overwrite(recorded: Answers | undefined, recordedKind: string | undefined): Promise<ProjectFile[]> {
      const files = await renderProject(kind, this.answers);
      if (recorded && recordedKind) {
        const plan = await planOverwrite(this.destinationRoot(), files, { kind: kindById(recordedKind), answers: recorded });
        for (const path of plan.remove) this.fs.delete(this.destinationPath(path));
        const stale = plan.kept.filter((path) => !files.some((file) => file.path === path));
        if (stale.length) this.log(`kept (edited since generated, no longer part of this variant; port by hand): ${stale.join(', ')}`);
      }
      for (const file of files) this.fs.write(this.destinationPath(file.path), file.contents);
      return [...files, recordFile(kind, this.answers)];
    }

    async end() {
      if (this.options.git !== false) this.log(`git: ${gitInit(this.destinationRoot(), kind)}`);
      if (!this.options.verify) {
        this.log(nextStepsText(kind, this.answers));
        return;
      }
      const report = await verify(kind, { project: this.destinationRoot(), answers: this.answers }, verifyOptions(kind, {}), lineProgress({ tty: false, color: false, write: (text) => this.log(text.replace(/\n$/, '')) }));
      if (report.ok) {
        this.log(verifiedLine(report));
        this.log(nextStepsText(kind, this.answers));
      } else if (report.status === 'skipped') {
        this.log(`skipped, not verified: ${report.cause}`);
        process.exitCode = EXIT.skipped;
      } else {
        process.exitCode = EXIT.failed;
        throw new Error(`verification failed${report.cause ? `: ${report.cause}` : ''}`);
      }
    }
  };
}

/** `yo vsmtp-plugin`: asks which kind, then hands over to that kind's generator. */
export class AppGenerator extends Generator<Record<string, any>, Options> {
  constructor(args: string[], options: Options) {
    super(args, options, { customInstallTask: true });
    this.option('kind', { type: String, description: `Plugin kind: ${kinds.map((k) => k.id).join(', ')}` });
    declareOptions(this, kinds.flatMap((k) => k.questions));
    refuseUnknown(this);
  }

  async prompting() {
    const choices = kinds.map((k) => ({ value: k.id, title: k.title }));
    const question: Question = { name: 'kind', message: 'Which kind of plugin?', help: `plugin kind, one of ${kinds.map((k) => k.id).join(', ')}`, type: 'choice', choices };
    const [kindId] = Object.values(
      await resolveAnswers([question], { kind: this.options.kind }, {
        yes: false,
        previous: this.config.get('kind') ? { kind: this.config.get('kind') } : undefined,
        directoryName: basename(this.destinationRoot()),
        ask: canAsk(this) ? async (q, fallback) => ((await this.prompt([inquirerQuestion(q, fallback) as any])) as Answers)[q.name] : undefined,
      }),
    );
    const kind = kindById(String(kindId));
    const foreign = [...new Set(kinds.flatMap((k) => k.questions.map((q) => q.name)))].filter((name) => this.options[name] !== undefined && !kind.questions.some((q) => q.name === name));
    if (foreign.length) throw new UsageError(`${foreign.map((name) => `--${name}`).join(', ')}: not a question of ${kind.id}`);
    const passed = Object.fromEntries(
      [...kind.questions.map((q) => q.name), ...Object.keys(sharedOptions)].filter((n) => this.options[n] !== undefined).map((n) => [n, this.options[n]]),
    );
    await this.composeWith(join(packageRoot, 'generators', kind.id, 'index.js'), passed);
  }
}
