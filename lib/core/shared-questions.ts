// Questions and tools that several kinds ask or need, written once.
import type { Tool } from './exec.js';
import { licenseChoices } from './licenses.js';
import { rules, type Question } from './question.js';

/** Semantic Versioning 2.0.0, as semver.org gives it. */
const semver =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** `--plugin-version` (plain `--version` belongs to the tools themselves). */
export function versionQuestion(usedIn: string): Question {
  return {
    name: 'plugin-version',
    message: 'Version',
    help: `plugin version, semver (${usedIn})`,
    type: 'string',
    default: '0.1.0',
    validate: rules.all(rules.nonEmpty, (value) => (semver.test(value) ? undefined : 'must be a semantic version, e.g. 1.0.0 or 2.1.0-rc.1')),
  };
}

export function descriptionQuestion(fallback: string, usedIn: string): Question {
  return { name: 'description', message: 'Description', help: `one-line description (${usedIn})`, type: 'string', default: fallback, validate: rules.all(rules.nonEmpty, rules.unicode, rules.oneLine) };
}

/** The author, from git when it knows one; `project` names the default holder otherwise. */
export function authorQuestion(usedIn: string, project: (name: string) => string): Question {
  return {
    name: 'author',
    message: 'Author',
    help: `author, e.g. "Jane Doe <jane@example.com>" (${usedIn})`,
    type: 'string',
    default: ({ gitUser, answers }) => gitUser ?? `The ${project(String(answers.name))} authors`,
    derived: 'git\'s user.name <user.email>, else "The <project> authors"',
    validate: rules.all(rules.nonEmpty, rules.unicode, rules.oneLine),
  };
}

export function licenseQuestion(fallback: string): Question {
  return { name: 'license', message: 'License', help: 'SPDX license of the plugin; its text is written to LICENSE', type: 'choice', choices: licenseChoices, default: fallback };
}

/** `verify --timeout`: how long a reference host may run before it is killed. */
export function timeoutOption(seconds: number): Question {
  return {
    name: 'timeout',
    message: 'Host time limit in seconds',
    help: 'seconds the reference host may run before it is killed',
    type: 'string',
    default: String(seconds),
    validate: (value) => (/^[1-9]\d{0,4}$/.test(value) ? undefined : 'must be a whole number of seconds from 1 to 99999'),
  };
}

const rustup = 'install Rust with rustup: https://rustup.rs';

/** Tools by command; each kind says why it needs them. */
export const tool = {
  cargo: (why: string): Tool => ({ command: 'cargo', versionArgs: ['--version'], why, install: `${rustup} (or apt-get install cargo)` }),
  rustc: (why: string): Tool => ({ command: 'rustc', versionArgs: ['--version'], why, install: `${rustup} (or apt-get install rustc)` }),
  cc: (why: string): Tool => ({ command: 'cc', versionArgs: ['--version'], why, install: 'apt-get install gcc' }),
  cxx: (why: string): Tool => ({ command: 'c++', versionArgs: ['--version'], why, install: 'apt-get install g++' }),
  cmake: (why: string): Tool => ({ command: 'cmake', versionArgs: ['--version'], why, install: 'apt-get install cmake (or https://cmake.org/download)' }),
  make: (why: string): Tool => ({ command: 'make', versionArgs: ['--version'], why, install: 'apt-get install make' }),
  python3: (why: string): Tool => ({ command: 'python3', versionArgs: ['--version'], why, install: 'apt-get install python3' }),
};
