import { rules, type Question } from '../../core/question.js';
import { authorQuestion, descriptionQuestion, licenseQuestion } from '../../core/shared-questions.js';
import { callbacks } from './callbacks.js';

export const questions: Question[] = [
  {
    name: 'name',
    message: 'Plugin name (the file is <prefix>-<name>.so)',
    help: 'plugin name; the shared object is <prefix>-<name>.so (MailerQ adds no lib prefix)',
    type: 'string',
    fromDirectory: (directoryName) => directoryName.replace(/^mailerq-plugin-/, ''),
    derived: 'the directory name without mailerq-plugin-, when valid',
    validate: rules.all(rules.kebab, rules.maxLength(40)),
  },
  {
    name: 'language',
    message: 'Language',
    help: 'language of the plugin source',
    type: 'choice',
    choices: [
      { value: 'c', title: 'C (C11)' },
      { value: 'cpp', title: 'C++ (C++17, entry points in extern "C")' },
    ],
    default: 'c',
  },
  {
    name: 'prefix',
    message: 'Load-order prefix (two digits, or none)',
    help: 'two-digit load-order prefix, or none: MailerQ loads plugins and calls callbacks in file-name order',
    type: 'string',
    default: '50',
    // "none" because a prompt turns an empty answer into the default.
    validate: (value) => (/^(\d\d|none)?$/.test(value) ? undefined : 'must be two digits (e.g. 10), or none'),
    normalize: (value) => (value === 'none' ? '' : value),
  },
  {
    name: 'callbacks',
    message: 'Callbacks to implement',
    help: 'optional callbacks to implement, comma-separated (mq_version is always there)',
    type: 'multi',
    choices: callbacks.map((c) => ({ value: c.name, title: c.name, description: c.when })),
    default: ['mq_initialize', 'mq_smtp_in_connect', 'mq_smtp_in_mailfrom', 'mq_smtp_in_close', 'mq_cleanup'],
  },
  descriptionQuestion('A MailerQ plugin', 'README'),
  authorQuestion('LICENSE', (name) => name),
  licenseQuestion('MIT'),
];
