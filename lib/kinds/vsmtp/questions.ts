import { rules, type Question } from '../../core/question.js';
import { authorQuestion, descriptionQuestion, licenseQuestion } from '../../core/shared-questions.js';
import { profiles } from './profiles.js';

export const defaultSeed = '1, 2, 3, 4';
const maxU64 = 2n ** 64n - 1n;

/** Words the name cannot be: it becomes a Rhai alias (`import ... as <name>`) and a Rust identifier. */
const reserved = new Set(
  [
    // Rhai keywords and reserved words
    'true false let const if else switch do while until loop for in break continue return throw try catch import export as global private fn this is call curry eval print debug type_of is_def_var is_def_fn is_shared var static shared goto exit match case public protected new use with module package super thread spawn go await async sync yield default void null nil',
    // Rust keywords
    'abstract become box crate dyn enum extern final impl macro mod move mut override priv pub ref self struct trait type typeof unsafe unsized virtual where',
  ]
    .join(' ')
    .split(' '),
);

export function parseSeed(value: string): bigint[] | undefined {
  const inner = value.trim().replace(/^\[(.*)\]$/s, '$1');
  const parts = inner.split(',').map((part) => part.trim());
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,20}$/.test(part))) return undefined;
  const numbers = parts.map((part) => BigInt(part));
  return numbers.every((n) => n <= maxU64) ? numbers : undefined;
}

export const questions: Question[] = [
  {
    name: 'name',
    message: 'Plugin name (the crate is vsmtp-plugin-<name>)',
    help: 'plugin name; the crate is vsmtp-plugin-<name> and scripts import it as <name>',
    type: 'string',
    fromDirectory: (directoryName) => directoryName.replace(/^vsmtp-plugin-/, ''),
    derived: 'the directory name without vsmtp-plugin-, when valid',
    validate: rules.all(rules.kebab, rules.maxLength(40), (value) =>
      reserved.has(value.replace(/-/g, '_')) ? 'must not be a Rhai or Rust keyword (it is used as a script alias)' : undefined,
    ),
  },
  descriptionQuestion('A vSMTP plugin', 'Cargo.toml, README'),
  authorQuestion('Cargo.toml, LICENSE', (name) => `vsmtp-plugin-${name}`),
  licenseQuestion('MIT OR Apache-2.0'),
  {
    name: 'profile',
    message: 'Target host',
    help: 'host profile: fixes the exact rhai version and features the plugin must share with its host',
    type: 'choice',
    choices: profiles.map((p) => ({ value: p.id, title: p.title, description: `rhai =${p.rhai} [${p.rhaiFeatures.join(', ')}]` })),
    default: 'vsmtp-2',
  },
  {
    name: 'seed',
    message: 'Rhai hashing seed (four u64)',
    help: "rhai hashing seed, four u64; must equal the host's (vSMTP uses 1, 2, 3, 4)",
    type: 'string',
    default: defaultSeed,
    validate: (value) =>
      parseSeed(value) ? undefined : 'must be four unsigned 64-bit integers (0 to 18446744073709551615) separated by commas, e.g. 1,2,3,4',
    normalize: (value) => parseSeed(value)!.join(', '),
  },
];
