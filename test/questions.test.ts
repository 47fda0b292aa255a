import { describe, expect, it } from 'vitest';
import { checkAnswer, resolveAnswers } from '../lib/core/question.js';
import { vsmtp } from '../lib/kinds/vsmtp/index.js';
import { refusal as refusalOf } from './helpers.js';

const question = (name: string) => vsmtp.questions.find((q) => q.name === name)!;
const refusal = (name: string, value: unknown) => refusalOf(question(name), value);

const KEBAB = 'must be lowercase kebab-case: a letter first, then letters, digits and single dashes (e.g. "mysql", "rate-limit")';
const SEED = 'must be four unsigned 64-bit integers (0 to 18446744073709551615) separated by commas, e.g. 1,2,3,4';

describe('vsmtp answers', () => {
  it.each(['mysql', 'rate-limit', 'a', 'csv2', 'x-1-y'])('accepts the name %s', (value) => {
    expect(checkAnswer(question('name'), value)).toBe(value);
  });

  it.each([
    ['', KEBAB],
    ['MySQL', KEBAB],
    ['my_sql', KEBAB],
    ['-mysql', KEBAB],
    ['mysql-', KEBAB],
    ['my--sql', KEBAB],
    ['2fa', KEBAB],
    ['../x', KEBAB],
    ['a/b', KEBAB],
    ['.', KEBAB],
    ['/etc', KEBAB],
    ['a'.repeat(41), 'must be at most 40 characters'],
    ['fn', 'must not be a Rhai or Rust keyword (it is used as a script alias)'],
    ['import', 'must not be a Rhai or Rust keyword (it is used as a script alias)'],
    ['self', 'must not be a Rhai or Rust keyword (it is used as a script alias)'],
  ])('refuses the name %j', (value, rule) => {
    expect(refusal('name', value)).toBe(`--name: ${rule} (got ${JSON.stringify(value)})`);
  });

  it.each([
    ['1,2,3,4', '1, 2, 3, 4'],
    ['[1, 2, 3, 4]', '1, 2, 3, 4'],
    [' 0 ,0,0, 18446744073709551615 ', '0, 0, 0, 18446744073709551615'],
  ])('accepts the seed %j as %j', (value, stored) => {
    expect(checkAnswer(question('seed'), value)).toBe(stored);
  });

  it.each(['1,2,3', '1,2,3,4,5', '1,2,3,-4', '1,2,3,18446744073709551616', 'a,b,c,d', '1.0,2,3,4', ''])('refuses the seed %j', (value) => {
    expect(refusal('seed', value)).toBe(`--seed: ${SEED} (got ${JSON.stringify(value)})`);
  });

  it('refuses an empty description and author', () => {
    expect(refusal('description', '  ')).toBe('--description: must not be empty (got "  ")');
    expect(refusal('author', '')).toBe('--author: must not be empty (got "")');
  });

  const ONE_LINE = (code: string) => `must be one line without control characters (it has U+${code})`;
  it.each([
    ['two\nlines', ONE_LINE('000A')],
    ['cr\r\nlf', ONE_LINE('000D')],
    ['nul\0', ONE_LINE('0000')],
    ['esc\x1b[31m', ONE_LINE('001B')],
    ['del\x7f', ONE_LINE('007F')],
    ['next line\x85', ONE_LINE('0085')],
    ['line\u2028separator', ONE_LINE('2028')],
    ['lone \ud800', 'must be valid Unicode text (it has an unpaired surrogate)'],
  ])('refuses the free text %j in description and author', (value, rule) => {
    expect(refusal('description', value)).toBe(`--description: ${rule} (got ${JSON.stringify(value)})`);
    expect(refusal('author', value)).toBe(`--author: ${rule} (got ${JSON.stringify(value)})`);
  });

  it.each(['tab\there', '"quotes" \'and\' \\', '<% ejs %> */ """ # ${{ x }}', '-leading dash', '\u202eright-to-left\u200f', 'ｆｕｌｌ𝄞', 'x'.repeat(5000)])(
    'accepts the free text %j unchanged',
    (value) => {
      expect(checkAnswer(question('description'), value)).toBe(value);
      expect(checkAnswer(question('author'), value)).toBe(value);
    },
  );

  it('refuses unknown choices, naming the allowed ones', () => {
    expect(refusal('profile', 'vsmtp-9')).toBe('--profile: must be one of vsmtp-2, vsmtp-3, current (got "vsmtp-9")');
    expect(refusal('license', 'WTFPL')).toMatch(/^--license: must be one of MIT OR Apache-2.0, MIT, /);
  });

  it('takes defaults without a terminal, and derives the name from the directory', async () => {
    const answers = await resolveAnswers(vsmtp.questions, {}, { yes: false, directoryName: 'vsmtp-plugin-geoip', gitUser: 'Jane <j@example.com>' });
    expect(answers).toEqual({
      name: 'geoip',
      description: 'A vSMTP plugin',
      author: 'Jane <j@example.com>',
      license: 'MIT OR Apache-2.0',
      profile: 'vsmtp-2',
      seed: '1, 2, 3, 4',
    });
  });

  it('fails naming the option and why the directory name does not do, when nobody can be asked', async () => {
    await expect(resolveAnswers(vsmtp.questions, {}, { yes: true, directoryName: 'vsmtp-plugin-Not_A_Name' })).rejects.toThrow(
      /^--name: the directory name "vsmtp-plugin-Not_A_Name" gives no valid name: "Not_A_Name" must be lowercase kebab-case.*; pass --name$/,
    );
  });

  it('fails naming the option when a required answer has no default and nobody can be asked', async () => {
    const question = { name: 'token', message: 'Token', help: 'API token', type: 'string' as const };
    await expect(resolveAnswers([question], {}, { yes: true, directoryName: 'x' })).rejects.toThrow(/^--token is required: API token \(no terminal to ask, and it has no default\)$/);
  });

  it('asks only what is missing, offering the recorded answer', async () => {
    const asked: string[] = [];
    const answers = await resolveAnswers(vsmtp.questions, { name: 'x', seed: '5,6,7,8' }, {
      yes: false,
      directoryName: 'd',
      previous: { description: 'from last time' },
      ask: async (q, fallback) => {
        asked.push(q.name);
        return fallback;
      },
    });
    expect(asked).toEqual(['description', 'author', 'license', 'profile']);
    expect(answers.description).toBe('from last time');
    expect(answers.seed).toBe('5, 6, 7, 8');
  });
});
