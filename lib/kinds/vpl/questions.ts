import { rules, type Question } from '../../core/question.js';
import { authorQuestion, descriptionQuestion, licenseQuestion, versionQuestion } from '../../core/shared-questions.js';

/** C keywords and names the entry point cannot take (Rust's matter for Rust plugins). */
const notEntry = new Set(
  'auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while main vplugin_exit as async await crate dyn fn impl let loop match mod move mut pub ref self super trait type unsafe use where yield'.split(' '),
);

export const questions: Question[] = [
  {
    name: 'name',
    message: 'Plugin name',
    help: 'plugin name ([metadata] name; the package is <name>-<version>.vpl)',
    type: 'string',
    fromDirectory: (directoryName) => directoryName,
    derived: 'the directory name, when valid',
    validate: rules.all(
      rules.nonEmpty,
      (value) => (/\s/.test(value) ? 'must not contain whitespace' : undefined),
      (value) =>
        /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(value) ? undefined : 'must be a file-name-safe word: letters, digits, ".", "_", "+", "-", starting with a letter or digit',
      rules.maxLength(64),
    ),
  },
  versionQuestion('[metadata] version'),
  descriptionQuestion('A VPlugin plugin', '[metadata] description, README'),
  {
    name: 'objfile',
    message: 'Object file name',
    help: 'shared object at the package root ([metadata] objfile); any file name, e.g. plugin.so or plugin.obj',
    type: 'string',
    default: 'plugin.so',
    // Any name will do (the vplugin crate's tutorial suggests plugin.obj), but the object
    // sits at the archive root beside metadata.toml and the Makefile takes it unquoted.
    validate: rules.all(
      rules.nonEmpty,
      (value) => (/[/\\]/.test(value) ? 'must be a file name at the package root, without "/" or "\\"' : undefined),
      (value) => (value === 'metadata.toml' ? 'must not be metadata.toml, which the package holds beside the object' : undefined),
      (value) =>
        /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(value) ? undefined : 'must be a plain file name: letters, digits, ".", "_", "+", "-", starting with a letter, digit or "_"',
      rules.maxLength(64),
    ),
  },
  {
    name: 'entry',
    message: 'Entry-point name',
    help: 'entry point the host calls, int32_t f(void), 0 = started',
    type: 'string',
    default: 'vplugin_init',
    validate: (value) =>
      !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value)
        ? 'must be a C identifier: a letter or _, then letters, digits or _ (at most 64)'
        : notEntry.has(value)
          ? 'must not be a C or Rust keyword, main, or vplugin_exit'
          : undefined,
  },
  {
    name: 'destructor',
    message: 'Include the vplugin_exit destructor?',
    help: 'export vplugin_exit, called when the plugin is stopped',
    type: 'boolean',
    default: true,
  },
  {
    name: 'language',
    message: 'Language of the shared object',
    help: 'C, or Rust (cdylib with extern "C")',
    type: 'choice',
    choices: [
      { value: 'c', title: 'C' },
      { value: 'rust', title: 'Rust (cdylib, extern "C")' },
    ],
    default: 'c',
  },
  authorQuestion('LICENSE', (name) => name),
  licenseQuestion('MIT'),
];
