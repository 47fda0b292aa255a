// Any free text (description, author), with any choice of the other answers, gives a
// project whose files still parse, with the text unchanged where the format holds it,
// or a clear refusal. Cases are generated; a random sample of them is then built and
// verified for real. PROPERTY_RUNS (default 1000 per kind), PROPERTY_BUILDS (default
// 20 per kind) and PROPERTY_SEED repeat or resize a run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../lib/core/errors.js';
import { recordFile, renderProject } from '../lib/core/generate.js';
import type { Kind } from '../lib/core/kind.js';
import { writeProject } from '../lib/core/persist.js';
import { checkAnswer, resolveAnswers, type Answers } from '../lib/core/question.js';
import type { ProjectFile } from '../lib/core/render.js';
import { kinds } from '../lib/kinds/index.js';
import { cli, discard, tempDir } from './helpers.js';
import { count } from './reliability.js';

const runs = Number(process.env.PROPERTY_RUNS ?? 1000);
const builds = Number(process.env.PROPERTY_BUILDS ?? 20);
const seed = Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31);

// Line breaks and control characters are refused (rules.oneLine): one case in five
// may hold them, so most cases still reach the templates.
const control = /[\0-\x08\n-\x1f\x7f-\x9f\u2028\u2029]/g;
const refusedPieces = fc.constantFrom('\n', '\r\n', '\0', '\x7f', '\x1b', '\u2028', '\x85');
const hostile = fc.constantFrom('"', "'", '\\', '\t', '<%', '%>', '<%=', '*/', '/*', '"""', "'''", '#', '${{', '}}', '-', '--', '\u200f', '\u202e', '\ufeff', '`', '$(', '\ud800', '\udfff', '𝄞', ' ');
const pieces = (extra: fc.Arbitrary<string>[]) =>
  fc.array(fc.oneof(hostile, fc.string({ unit: 'binary', maxLength: 6 }).map((s) => s.replace(control, '')), ...extra), { maxLength: 12 }).map((parts) => parts.join(''));
const text = fc.oneof(
  { weight: 20, arbitrary: pieces([]) },
  { weight: 5, arbitrary: pieces([refusedPieces]) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1000, maxLength: 4000 }).map((s) => s.replace(control, '')) },
);
/** The rules of every free-text answer, restated independently of lib/. */
const acceptable = (value: string) => value.trim() !== '' && value.isWellFormed() && !new RegExp(control.source).test(value);
const refusalMessage = (option: string) =>
  new RegExp(`^--${option}: must (not be empty|be valid Unicode text \\(it has an unpaired surrogate\\)|be one line without control characters \\(it has U\\+[0-9A-F]{4}\\))`);

/** Any value of each choice, multi and boolean question: every template variant is reached. */
function choices(kind: Kind): fc.Arbitrary<Answers> {
  const arbitraries: Record<string, fc.Arbitrary<unknown>> = {};
  for (const question of kind.questions) {
    const values = question.choices?.map((choice) => choice.value) ?? [];
    if (question.type === 'choice') arbitraries[question.name] = fc.constantFrom(...values);
    if (question.type === 'multi') arbitraries[question.name] = fc.subarray(values).map((picked) => picked.join(','));
    if (question.type === 'boolean') arbitraries[question.name] = fc.boolean();
  }
  return fc.record(arbitraries) as fc.Arbitrary<Answers>;
}

/** Where each kind's manifest keeps the description and the author. */
const fields: Record<string, (toml: Record<string, any>) => [unknown, unknown]> = {
  'vsmtp:Cargo.toml': (t) => [t.package.description, t.package.authors[0]],
  'vpl:metadata.toml': (t) => [t.metadata.description, undefined],
  'lgc:pyproject.toml': (t) => (t.project ? [t.project.description, t.project.authors[0].name] : [t.tool.poetry.description, t.tool.poetry.authors[0]]),
};

/** The only files free text may reach; every other file must not change with it. */
const holdsText = (path: string) => /^(README\.md|LICENSE[^/]*|[^/]+\.toml|plugin_logic\.py)$/.test(path);

/**
 * Parses each file of a variant in its own language. The files free text never
 * reaches are checked once per variant (they are proven identical across its cases).
 */
function parseInLanguage(files: ProjectFile[]): void {
  const dir = tempDir('vsmtp-plugin-parse-');
  for (const file of files) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.contents);
  }
  const paths = (pattern: RegExp) => files.filter((f) => pattern.test(f.path)).map((f) => join(dir, f.path));
  for (const { path, contents } of files) {
    if (path.endsWith('.json')) JSON.parse(contents);
    else if (path.endsWith('.toml')) parse(contents);
    else if (/\.ya?ml$/.test(path)) parseYaml(contents, { strict: true, uniqueKeys: true });
  }
  // One compiler run per language and variant: a thousand cases stay within seconds.
  const includes = ['-I', join(dir, 'src'), '-I', join(dir, 'stand-in')];
  const checks: Array<[string, string[], RegExp]> = [
    ['cc', ['-fsyntax-only', '-std=c11', '-Wall', '-Werror', ...includes], /\.c$/],
    ['c++', ['-fsyntax-only', '-std=c++17', '-Wall', '-Werror', ...includes], /\.(cc|cpp)$/],
    ['rustfmt', ['--check', '--edition', '2021'], /\.rs$/],
    ['python3', ['-c', 'import ast, sys\nfor f in sys.argv[1:]: ast.parse(open(f, encoding="utf-8").read(), f)'], /\.py$/],
  ];
  for (const [command, args, pattern] of checks) {
    const sources = paths(pattern);
    if (sources.length) execFileSync(command, [...args, ...sources]);
  }
  discard(dir);
}

/** Picks `n` of `items` with a generator seeded from the run's seed, so a sample repeats. */
function sample<T>(items: T[], n: number, salt: number): T[] {
  let state = (seed ^ salt) >>> 0 || 1;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pool = [...items];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

describe.each(kinds.map((kind, index) => [kind.id, kind, index] as const))('free text for %s', (id, kind, index) => {
  const accepted: Answers[] = [];

  it(`holds for ${runs} generated cases`, { timeout: 10 * 60_000 }, async () => {
    const base = await resolveAnswers(kind.questions, { name: 'prop', author: 'A' }, { yes: true, directoryName: 'prop' });
    const question = (name: string) => kind.questions.find((q) => q.name === name)!;
    const counts = { cases: 0, refused: 0, generated: 0 };
    const variants = new Map<string, Map<string, string>>();
    const python: Array<{ source: string; description: string; author: string }> = [];
    await fc.assert(
      fc.asyncProperty(text, text, choices(kind), async (desc, author, chosen) => {
        counts.cases++;
        // A refused answer is refused with its rule; the other answer is still tried.
        const refused = (name: string, value: string) => {
          if (acceptable(value)) return false;
          counts.refused++;
          expect(() => checkAnswer(question(name), value)).toThrow(UsageError);
          expect(() => checkAnswer(question(name), value)).toThrow(refusalMessage(name));
          return true;
        };
        if (refused('author', author)) author = 'A';
        if (refused('description', desc)) return;
        expect(checkAnswer(question('description'), desc)).toBe(desc);
        expect(checkAnswer(question('author'), author)).toBe(author);
        const answers = { ...base, ...chosen, description: desc, author };
        const files = await renderProject(kind, answers);
        counts.generated++;
        accepted.push(answers);

        // The files the text may not reach are those of the variant with neutral text.
        const variantKey = JSON.stringify(chosen);
        if (!variants.has(variantKey)) {
          const neutral = await renderProject(kind, { ...base, ...chosen });
          parseInLanguage(neutral);
          variants.set(variantKey, new Map(neutral.map((file) => [file.path, file.contents])));
        }
        const neutral = variants.get(variantKey)!;
        expect(files.map((f) => f.path)).toEqual([...neutral.keys()]);
        for (const file of files.filter((f) => !holdsText(f.path))) expect(file.contents, file.path).toBe(neutral.get(file.path));

        for (const file of files.filter((f) => f.path.endsWith('.toml'))) {
          const toml = parse(file.contents) as Record<string, any>;
          const where = fields[`${id}:${file.path}`];
          if (where) {
            const [d, a] = where(toml);
            expect(d).toBe(desc);
            if (a !== undefined) expect(a).toBe(author);
          }
        }
        expect(JSON.parse(recordFile(kind, answers).contents)['generator-vsmtp-plugin'].answers).toEqual(answers);
        expect(files.find((f) => f.path === 'README.md')!.contents).toContain(desc);
        // MIT and BSD texts name the copyright holder.
        if (/MIT|BSD/.test(String(answers.license))) expect(files.some((f) => f.path.startsWith('LICENSE') && f.contents.includes(author))).toBe(true);
        const logic = files.find((f) => f.path === 'plugin_logic.py');
        if (logic) python.push({ source: logic.contents, description: desc, author });
      }),
      { numRuns: runs, seed },
    );
    if (python.length) {
      // One Python process compiles every generated module and reads the constants back.
      const script = [
        'import ast, json, sys',
        'bad = []',
        'for i, case in enumerate(json.load(sys.stdin)):',
        '    tree = ast.parse(case["source"])',
        '    compile(tree, "plugin_logic.py", "exec")',
        '    values = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id.startswith("PLUGIN_")}',
        '    if values["PLUGIN_DESCRIPTION"] != case["description"] or values["PLUGIN_AUTHOR"] != case["author"]: bad.append(i)',
        'print(json.dumps(bad))',
      ].join('\n');
      const bad = JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(python), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }));
      expect(bad).toEqual([]);
    }
    console.log(`free text (${id}): ${counts.cases} cases, ${counts.generated} projects parsed, ${variants.size} variants compiled or parsed, ${counts.refused} answers refused, seed ${seed} (PROPERTY_SEED=${seed} repeats it)`);
    count(`free text: ${id}`, { generated: counts.cases, refused: counts.refused });
    expect(counts.generated).toBeGreaterThan(runs / 2);
  });

  it(`builds and verifies ${builds} of those cases, picked at random`, { timeout: 60 * 60_000 }, async () => {
    const picked = sample(accepted, builds, index);
    expect(picked.length, 'the property run above must come first and accept cases').toBe(Math.min(builds, accepted.length));
    const failures: string[] = [];
    for (const [i, answers] of picked.entries()) {
      const dir = tempDir();
      const project = join(dir, 'prop');
      await writeProject(project, [...(await renderProject(kind, answers)), recordFile(kind, answers)], false);
      const result = await cli(['verify', project, '--json']);
      const report = result.stdout ? JSON.parse(result.stdout) : {};
      if (result.exitCode === 0 && report.ok === true) count(`free text: ${id}`, { built: 1 });
      else failures.push(`case ${i} (exit ${result.exitCode}): ${report.cause ?? result.stderr}\nanswers: ${JSON.stringify(answers)}`);
      discard(dir);
    }
    console.log(`free text (${id}): ${picked.length - failures.length} of ${picked.length} sampled cases built and verified, seed ${seed}`);
    expect(failures).toEqual([]);
  });
});
