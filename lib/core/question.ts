import { UsageError } from './errors.js';

export type AnswerValue = string | boolean | string[];
export type Answers = Record<string, AnswerValue>;

export interface Choice {
  value: string;
  title: string;
  description?: string;
}

/** What a default may depend on: earlier answers and where the project is going. */
export interface DefaultContext {
  answers: Answers;
  directoryName: string;
  gitUser?: string;
}

/**
 * One question of a kind. Every front end derives its prompt and its command-line
 * option (`--<name>`) from this, so a rule lives in exactly one place.
 */
export interface Question {
  name: string;
  message: string;
  help: string;
  type: 'string' | 'choice' | 'multi' | 'boolean';
  choices?: Choice[];
  default?: AnswerValue | ((context: DefaultContext) => AnswerValue | undefined);
  /** How a computed default is found, for help and `list` (e.g. "the directory name, when valid"). */
  derived?: string;
  /**
   * The default is this candidate taken from the destination's directory name, when
   * valid; when it is not, the refusal says why that name does not do.
   */
  fromDirectory?: (directoryName: string) => string;
  /** Returns the rule the value breaks, or undefined when it is accepted. */
  validate?: (value: string) => string | undefined;
  /** Canonical form stored in the project (e.g. a seed without brackets). */
  normalize?: (value: string) => string;
}

export function defaultFor(question: Question, context: DefaultContext): AnswerValue | undefined {
  if (question.fromDirectory) {
    const candidate = question.fromDirectory(context.directoryName);
    return question.validate?.(candidate) ? undefined : candidate;
  }
  return typeof question.default === 'function' ? question.default(context) : question.default;
}

/** Checks one raw value against its question; throws a UsageError naming the field and the rule. */
export function checkAnswer(question: Question, raw: unknown): AnswerValue {
  const field = `--${question.name}`;
  const shown = JSON.stringify(raw);
  switch (question.type) {
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'yes') return true;
      if (raw === 'false' || raw === 'no') return false;
      throw new UsageError(`${field}: must be true or false (got ${shown})`);
    }
    case 'multi': {
      const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((v) => v.trim()).filter(Boolean);
      const allowed = new Set(question.choices!.map((c) => c.value));
      const unknown = list.filter((v) => !allowed.has(v));
      if (unknown.length > 0) {
        throw new UsageError(`${field}: unknown choice ${unknown.join(', ')}; allowed: ${[...allowed].join(', ')}`);
      }
      return [...new Set(list)];
    }
    case 'choice': {
      const value = String(raw);
      const allowed = question.choices!.map((c) => c.value);
      if (!allowed.includes(value)) {
        throw new UsageError(`${field}: must be one of ${allowed.join(', ')} (got ${shown})`);
      }
      return value;
    }
    case 'string': {
      if (typeof raw !== 'string') throw new UsageError(`${field}: must be text (got ${shown})`);
      const broken = question.validate?.(raw);
      if (broken) throw new UsageError(`${field}: ${broken} (got ${shown})`);
      return question.normalize ? question.normalize(raw) : raw;
    }
  }
}

export interface AskOptions {
  /** Take the default of every question that has one. */
  yes: boolean;
  /** Present only when a person can answer (a TTY): asks one question. */
  ask?: (question: Question, fallback: AnswerValue | undefined, answers: Answers) => Promise<unknown>;
  directoryName: string;
  gitUser?: string;
  /** Answers recorded by an earlier run: offered as defaults. */
  previous?: Answers;
}

/**
 * Resolves every question in order: a given value is validated; a missing one is
 * asked when a person is there, else its default is taken; with no default and no
 * person, it is an error naming the option.
 */
export async function resolveAnswers(questions: Question[], given: Record<string, unknown>, options: AskOptions): Promise<Answers> {
  const answers: Answers = {};
  for (const question of questions) {
    const context: DefaultContext = { answers, directoryName: options.directoryName, gitUser: options.gitUser };
    const fallback = options.previous?.[question.name] ?? defaultFor(question, context);
    if (given[question.name] !== undefined) {
      answers[question.name] = checkAnswer(question, given[question.name]);
    } else if (options.ask && !(options.yes && fallback !== undefined)) {
      answers[question.name] = checkAnswer(question, await options.ask(question, fallback, answers));
    } else if (fallback !== undefined) {
      answers[question.name] = checkAnswer(question, fallback);
    } else if (question.fromDirectory) {
      const candidate = question.fromDirectory(options.directoryName);
      throw new UsageError(`--${question.name}: the directory name ${JSON.stringify(options.directoryName)} gives no valid ${question.name}: ${JSON.stringify(candidate)} ${question.validate?.(candidate)}; pass --${question.name}`);
    } else {
      throw new UsageError(`--${question.name} is required: ${question.help} (no terminal to ask, and it has no default)`);
    }
  }
  return answers;
}

/** Rules shared by several kinds, each phrased as the rule a rejected value breaks. */
export const rules = {
  nonEmpty: (value: string) => (value.trim() === '' ? 'must not be empty' : undefined),
  /** Unpaired surrogates cannot be written as UTF-8: the text would not arrive unchanged. */
  unicode: (value: string) => (value.isWellFormed() ? undefined : 'must be valid Unicode text (it has an unpaired surrogate)'),
  /**
   * Manifests take these as one line: Poetry and PEP 621 refuse a line break in a
   * description, and cargo cannot hand a NUL to rustc (it passes them as variables).
   */
  oneLine: (value: string) => {
    const found = /[\0-\x08\n-\x1f\x7f-\x9f\u2028\u2029]/.exec(value);
    return found ? `must be one line without control characters (it has U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})` : undefined;
  },
  kebab: (value: string) =>
    /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(value)
      ? undefined
      : 'must be lowercase kebab-case: a letter first, then letters, digits and single dashes (e.g. "mysql", "rate-limit")',
  maxLength: (max: number) => (value: string) => (value.length > max ? `must be at most ${max} characters` : undefined),
  all:
    (...checks: Array<(value: string) => string | undefined>) =>
    (value: string) => {
      for (const check of checks) {
        const broken = check(value);
        if (broken) return broken;
      }
      return undefined;
    },
};
