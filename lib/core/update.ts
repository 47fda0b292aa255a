// `update`: moves a generated project to new answers or a newer generator by a
// three-way merge of each file: base (the pristine render the project started from),
// theirs (a render of the new answers now) and ours (the files on disk).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordFile, renderProject } from './generate.js';
import type { Kind } from './kind.js';
import type { Answers } from './question.js';
import type { ProjectFile } from './render.js';

/** The pristine render, kept in the project so that a fresh clone can still be updated. */
export const baseFile = '.vsmtp-plugin-base.json';

export interface Base {
  /** The generator version that rendered it. */
  version: string;
  files: Record<string, string>;
}

/** `.vsmtp-plugin-base.json` for a render: written beside `.yo-rc.json` at every generation. */
export function baseRecord(files: ProjectFile[], version: string): ProjectFile {
  const base: Base = { version, files: Object.fromEntries(files.map((file) => [file.path, file.contents])) };
  return { path: baseFile, contents: `${JSON.stringify(base, null, 1)}\n` };
}

export function readBase(directory: string): Base | undefined {
  const path = join(directory, baseFile);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Base) : undefined;
}

/** A project file's contents, or undefined when it is not there. */
export function onDisk(directory: string, path: string): string | undefined {
  const full = join(directory, path);
  return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
}

/**
 * The render a project started from: the one it kept, else (a project from before
 * `update` existed) its recorded answers rendered now. `stored` tells which.
 */
export async function pristine(directory: string, kind: Kind, recorded: Answers): Promise<{ files: Record<string, string>; stored: boolean }> {
  const kept = readBase(directory);
  if (kept) return { files: kept.files, stored: true };
  const rendered = [...(await renderProject(kind, recorded)), recordFile(kind, recorded)];
  return { files: Object.fromEntries(rendered.map((file) => [file.path, file.contents])), stored: false };
}

export type Outcome = 'replaced' | 'added' | 'merged' | 'conflict' | 'removed' | 'kept' | 'unchanged';

export interface FileUpdate {
  path: string;
  outcome: Outcome;
  /** Why, when the file is kept as it is or left to the author. */
  note?: string;
  /** The new contents (undefined: the file is removed or left alone). */
  contents?: string;
  /** Unified diff from the file on disk to the result. */
  diff?: string;
}

export interface UpdatePlan {
  files: FileUpdate[];
  /** The render of the new answers: the next update's base. */
  rendered: ProjectFile[];
  conflicts: string[];
  /** The base came from the recorded answers rendered now: an older project, two-way. */
  twoWay: boolean;
}

const labels = { a: 'yours', o: 'as generated before', b: 'as generated now' };

type MergeDiff3 = typeof import('node-diff3').mergeDiff3;

/** Three lines-based versions merged; conflicts carry git-style markers with the base between. */
function merge(mergeDiff3: MergeDiff3, ours: string, base: string, theirs: string): { text: string; conflict: boolean } {
  const split = (text: string) => text.split('\n');
  const { conflict, result } = mergeDiff3(split(ours), split(base), split(theirs), { label: labels });
  return { text: result.join('\n'), conflict };
}

/**
 * Plans an update: what becomes of each file. A file the author never touched is
 * replaced; one only the author changed is kept; one both changed is merged; one the
 * new render drops is removed only when unmodified; one the author deleted stays deleted.
 */
export async function planUpdate(directory: string, kind: Kind, answers: Answers, recorded: Answers): Promise<UpdatePlan> {
  const { files: base, stored } = await pristine(directory, kind, recorded);
  const rendered = [...(await renderProject(kind, answers)), recordFile(kind, answers)];
  const theirs = new Map(rendered.map((file) => [file.path, file.contents]));
  const files: FileUpdate[] = [];
  // Loaded here, once: `new`, which shares this module, neither diffs nor merges.
  const [{ createTwoFilesPatch }, { mergeDiff3 }] = await Promise.all([import('diff'), import('node-diff3')]);
  const add = (update: FileUpdate, ours: string | undefined) => {
    if (update.contents !== undefined && update.contents === ours) return files.push({ path: update.path, outcome: 'unchanged' });
    const diff = update.contents !== undefined || update.outcome === 'removed' ? createTwoFilesPatch(`a/${update.path}`, `b/${update.path}`, ours ?? '', update.contents ?? '') : undefined;
    return files.push({ ...update, diff });
  };
  for (const path of [...new Set([...theirs.keys(), ...Object.keys(base)])].sort()) {
    const ours = onDisk(directory, path);
    const old = base[path];
    const now = theirs.get(path);
    if (path === '.yo-rc.json') add({ path, outcome: 'replaced', contents: now }, ours);
    else if (now === undefined) {
      if (ours === undefined) continue;
      if (ours === old) add({ path, outcome: 'removed' }, ours);
      else files.push({ path, outcome: 'kept', note: 'no longer generated, and edited since: port it by hand, then delete it' });
    } else if (old === undefined) {
      if (ours === undefined) add({ path, outcome: 'added', contents: now }, ours);
      else {
        const merged = merge(mergeDiff3, ours, '', now);
        add({ path, outcome: merged.conflict ? 'conflict' : 'merged', contents: merged.text }, ours);
      }
    } else if (ours === undefined) files.push({ path, outcome: 'kept', note: 'deleted by you: stays deleted' });
    else if (ours === old) add({ path, outcome: 'replaced', contents: now }, ours);
    else if (now === old) files.push({ path, outcome: 'kept', note: 'only you changed it' });
    else {
      const merged = merge(mergeDiff3, ours, old, now);
      add({ path, outcome: merged.conflict ? 'conflict' : 'merged', contents: merged.text }, ours);
    }
  }
  return { files, rendered, conflicts: files.filter((file) => file.outcome === 'conflict').map((file) => file.path), twoWay: !stored };
}
