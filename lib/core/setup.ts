// What both front ends do around writing a project: answers from a file, git, next steps.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { recordKey } from './generate.js';
import type { Kind } from './kind.js';
import { suggestion } from './suggest.js';

/** `--answers FILE`: a plain object of answers, or a `.yo-rc.json` as Yeoman and `new` write it. */
export function answersFile(path: string, kind: Kind): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--answers: cannot read ${path}: ${(error as Error).message}`);
  }
  const record = (data as Record<string, any>)?.[recordKey];
  const answers = record ? record.answers : data;
  if (typeof answers !== 'object' || answers === null || Array.isArray(answers)) throw new UsageError(`--answers: ${path} must hold a JSON object of answers`);
  if (record?.kind && record.kind !== kind.id) throw new UsageError(`--answers: ${path} holds answers for a ${record.kind} project, not ${kind.id}`);
  const unknown = Object.keys(answers).filter((name) => !kind.questions.some((q) => q.name === name));
  if (unknown.length) throw new UsageError(`--answers: ${path} answers ${unknown.map((n) => JSON.stringify(n)).join(', ')}, which ${kind.id} does not ask${suggestion(unknown[0]!, kind.questions.map((q) => q.name))}`);
  return answers as Record<string, unknown>;
}

/**
 * `git init` and one commit of what was generated, as cargo-generate does: not inside an
 * existing work tree, and no commit (said so) without a git identity.
 */
export function gitInit(directory: string, kind: Kind): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: directory, encoding: 'utf8' });
  const inside = git('rev-parse', '--is-inside-work-tree');
  if (inside.error) return 'not initialized: git is not installed';
  if (inside.status === 0) return 'not initialized: already inside a git work tree';
  if (git('init', '-q').status !== 0) return 'not initialized: git init failed';
  git('add', '-A');
  const commit = git('-c', 'commit.gpgsign=false', 'commit', '-q', '-m', `Initial commit: ${kind.title} from vsmtp-plugin new`);
  if (commit.status === 0) return 'initialized, generated files committed';
  return /identity|user\.(name|email)|empty ident/i.test(commit.stderr)
    ? 'initialized, not committed: git has no identity (set user.name and user.email, then commit)'
    : `initialized, not committed: ${commit.stderr.trim().split('\n')[0]}`;
}

