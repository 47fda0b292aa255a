// The Yeoman front end: `yo vsmtp-plugin` and `yo vsmtp-plugin:<kind>`, over the same
// kind registry as the CLI. Yeoman persists through mem-fs, with its conflict handling.
import { basename, join } from 'node:path';
import Generator, { type BaseOptions } from 'yeoman-generator';
import { EXIT } from './core/errors.js';
import { projectRecord, renderProject } from './core/generate.js';
import { resolveAnswers, type AnswerValue, type Answers, type Question } from './core/question.js';
import { lineProgress } from './core/progress.js';
import { packageRoot } from './core/render.js';
import { verifiedLine } from './core/report.js';
import { verify, verifyOptions } from './core/verify.js';
import { kindById, kinds } from './kinds/index.js';

/** Options are the questions' names, known only from the registry at run time. */
type Options = BaseOptions & Record<string, any>;

const sharedOptions = {
  yes: { type: Boolean, description: 'Take the default of every question that has one' },
  verify: { type: Boolean, description: 'Build the plugin and load it in the reference host' },
} as const;

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
      super(args, options);
      declareOptions(this, kind.questions);
    }

    async prompting() {
      const given = Object.fromEntries(kind.questions.filter((q) => this.options[q.name] !== undefined).map((q) => [q.name, this.options[q.name]]));
      const name = await this.git.name();
      const email = await this.git.email();
      this.answers = await resolveAnswers(kind.questions, given, {
        yes: Boolean(this.options.yes),
        previous: this.config.get('answers'),
        directoryName: basename(this.destinationRoot()),
        gitUser: name ? (email ? `${name} <${email}>` : name) : undefined,
        ask: async (question, fallback) => ((await this.prompt([inquirerQuestion(question, fallback) as any])) as Answers)[question.name],
      });
    }

    async writing() {
      for (const file of await renderProject(kind, this.answers)) this.fs.write(this.destinationPath(file.path), file.contents);
      const record = projectRecord(kind, this.answers);
      this.config.set('kind', record.kind);
      this.config.set('answers', record.answers);
    }

    async end() {
      if (!this.options.verify) return;
      const report = await verify(kind, { project: this.destinationRoot(), answers: this.answers }, verifyOptions(kind, {}), lineProgress({ tty: false, color: false, write: (text) => this.log(text.replace(/\n$/, '')) }));
      if (report.ok) {
        this.log(verifiedLine(report));
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
    super(args, options);
    this.option('kind', { type: String, description: `Plugin kind: ${kinds.map((k) => k.id).join(', ')}` });
    declareOptions(this, kinds.flatMap((k) => k.questions));
  }

  async prompting() {
    const choices = kinds.map((k) => ({ value: k.id, title: k.title }));
    const question: Question = { name: 'kind', message: 'Which kind of plugin?', help: 'plugin kind', type: 'choice', choices };
    const [kindId] = Object.values(
      await resolveAnswers([question], { kind: this.options.kind }, {
        yes: false,
        previous: this.config.get('kind') ? { kind: this.config.get('kind') } : undefined,
        directoryName: basename(this.destinationRoot()),
        ask: async (q, fallback) => ((await this.prompt([inquirerQuestion(q, fallback) as any])) as Answers)[q.name],
      }),
    );
    const kind = kindById(String(kindId));
    const passed = Object.fromEntries(
      [...kind.questions.map((q) => q.name), ...Object.keys(sharedOptions)].filter((n) => this.options[n] !== undefined).map((n) => [n, this.options[n]]),
    );
    await this.composeWith(join(packageRoot, 'generators', kind.id, 'index.js'), passed);
  }
}
