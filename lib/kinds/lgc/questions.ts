import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { rules, type Question } from '../../core/question.js';
import { authorQuestion, descriptionQuestion, licenseQuestion, versionQuestion } from '../../core/shared-questions.js';

/** lgc's identifier rule: what load() must return, and the .wasm file stem. */
const lgcIdentifier = (value: string) =>
  /^[a-z0-9]+(-[a-z0-9]+)*$/.test(value) ? undefined : 'must be kebab-case as lgc requires: lowercase letters and digits in groups joined by single dashes (e.g. "siem-prod", "service-2-0")';

function witFolder(value: string): string | undefined {
  if (value === '') return undefined;
  const path = resolve(value);
  if (!existsSync(path) || !statSync(path).isDirectory()) return 'must be an existing directory (your lgc checkout\'s wit/ folder), or empty for the bundled one';
  return readdirSync(path).some((file) => file.endsWith('.wit')) ? undefined : 'must hold .wit files';
}

export const questions: Question[] = [
  {
    name: 'name',
    message: 'Plugin name (kebab-case; the component is <name>.wasm)',
    help: 'plugin name: what load() returns and the .wasm file stem, kebab-case per lgc',
    type: 'string',
    fromDirectory: (directoryName) => directoryName,
    derived: 'the directory name, when valid',
    validate: rules.all(lgcIdentifier, rules.maxLength(64)),
  },
  versionQuestion('returned by load()'),
  {
    name: 'api',
    message: 'lgc plugin API',
    help: 'plugin contract: 1 = lgc 1.x; 0.1 = lgc 0.1.x (four-field metadata, string results)',
    type: 'choice',
    choices: [
      { value: '1', title: '1 (lgc 1.x: bytes, validate, read returns option)' },
      { value: '0.1', title: '0.1 (lgc 0.1.x, as on the plugin-authoring page)' },
    ],
    default: '1',
  },
  descriptionQuestion('A LogCraft lgc plugin', 'the 0.1 metadata, pyproject.toml, README'),
  authorQuestion('the 0.1 metadata, pyproject.toml, LICENSE', (name) => name),
  {
    name: 'package-tool',
    message: 'Python package tool',
    help: "how the project installs its pinned tools: poetry (as lgc's guide) or pip with a venv",
    type: 'choice',
    choices: [
      { value: 'pip', title: 'pip with a virtual environment (.venv)' },
      { value: 'poetry', title: "Poetry (as lgc's plugin guide uses)" },
    ],
    default: 'pip',
  },
  {
    name: 'wit',
    message: "WIT folder of your own lgc checkout (empty: the bundled one)",
    help: "path to a WIT folder of your lgc checkout to use instead of the bundled one (empty for bundled)",
    type: 'string',
    default: '',
    validate: witFolder,
    normalize: (value) => (value === '' ? '' : resolve(value)),
  },
  licenseQuestion('MIT'),
];
