// Any free text (description, author) gives a project whose files still parse, with
// the text unchanged where the format holds it, or a clear refusal. Cases are
// generated; PROPERTY_RUNS (default 1000 per kind) and PROPERTY_SEED repeat a run.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/core/errors.js';
import { recordFile, renderProject } from '../lib/core/generate.js';
import type { Kind } from '../lib/core/kind.js';
import { checkAnswer, resolveAnswers } from '../lib/core/question.js';
import { kinds } from '../lib/kinds/index.js';

const runs = Number(process.env.PROPERTY_RUNS ?? 1000);
const seed = Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31);

const hostile = fc.constantFrom('"', "'", '\\', '\n', '\r\n', '\t', '\0', '<%', '%>', '<%=', '*/', '/*', '"""', "'''", '#', '${{', '}}', '-', '--', '\u200f', '\u202e', '\u2028', '\ufeff', '`', '$(', '\x7f', '\ud800', '\udfff', '𝄞', ' ');
const text = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.oneof(hostile, fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 12 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1000, maxLength: 4000 }) },
);

/** Where each kind's manifest keeps the description and the author. */
const fields: Record<string, (toml: Record<string, any>) => [unknown, unknown]> = {
  'vsmtp:Cargo.toml': (t) => [t.package.description, t.package.authors[0]],
  'vpl:metadata.toml': (t) => [t.metadata.description, undefined],
  'lgc:pyproject.toml': (t) => (t.project ? [t.project.description, t.project.authors[0].name] : [t.tool.poetry.description, t.tool.poetry.authors[0]]),
};

async function baseAnswers(kind: Kind) {
  return resolveAnswers(kind.questions, { name: 'prop', author: 'A' }, { yes: true, directoryName: 'prop' });
}

describe.each(kinds.map((kind) => [kind.id, kind] as const))('free text for %s', (id, kind) => {
  it(`holds for ${runs} generated cases`, { timeout: 10 * 60_000 }, async () => {
    const base = await baseAnswers(kind);
    const description = kind.questions.find((q) => q.name === 'description')!;
    const counts = { cases: 0, refused: 0, generated: 0 };
    const python: Array<{ source: string; description: string; author: string }> = [];
    await fc.assert(
      fc.asyncProperty(text, text, async (desc, author) => {
        counts.cases++;
        const valid = (value: string) => value.trim() !== '' && value.isWellFormed();
        if (!valid(desc)) {
          counts.refused++;
          expect(() => checkAnswer(description, desc)).toThrow(UsageError);
          expect(() => checkAnswer(description, desc)).toThrow(/^--description: must (not be empty|be valid Unicode text \(it has an unpaired surrogate\))/);
          return;
        }
        if (!valid(author)) author = 'A';
        const answers = { ...base, description: desc, author };
        const files = await renderProject(kind, answers);
        counts.generated++;
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
    console.log(`free text (${id}): ${counts.cases} cases, ${counts.generated} projects parsed, ${counts.refused} refused, seed ${seed} (PROPERTY_SEED=${seed} repeats it)`);
    expect(counts.generated).toBeGreaterThan(runs / 2);
  });
});
