import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { UsageError } from './errors.js';
import type { ProjectFile } from './render.js';

/** What is in `dir`, or undefined when it does not exist. */
async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new UsageError(`destination ${dir}: it, or a folder above it, is a file, not a directory`);
    throw error;
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir loops forever where a directory
 * cannot be made in a parent that exists (/proc), instead of failing. Returns the
 * outermost directory it made, so that an interrupted write can take it all back.
 */
async function makeDirectory(dir: string): Promise<string | undefined> {
  try {
    await mkdir(dir);
    return dir;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw error;
    const outermost = await makeDirectory(dirname(dir));
    await mkdir(dir);
    return outermost ?? dir;
  }
}

function safeRelative(path: string): string {
  const clean = normalize(path);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith('../') || clean === '.') {
    throw new Error(`refusing to write ${JSON.stringify(path)}: outside the project`);
  }
  return clean;
}

/**
 * Writes a rendered project so that a failure never leaves half of it: files are
 * staged in a hidden directory inside the destination, then moved into place. The
 * destination itself is kept (a shell standing in it stays there; nothing is written
 * beside it), and files and folders get the modes the umask gives. A destination that
 * holds anything but a `.git` is refused unless `force` is set (then `files` are written
 * and `remove` removed: see planOverwrite; other files stay). An interrupt (SIGINT,
 * SIGTERM) while files are staged removes them, and the directories this call made,
 * and exits 130;
 * once they are moving into place (a few renames) it lets the move finish first: the
 * destination is untouched or complete.
 */
export async function writeProject(destination: string, files: ProjectFile[], force: boolean, remove: string[] = []): Promise<void> {
  const target = resolve(destination);
  const existing = await entriesOf(target);
  if (existing?.some((name) => name !== '.git') && !force) {
    throw new UsageError(`destination ${destination} exists and is not empty; use --force to write into it`);
  }
  // Listening before anything exists on disk: no moment is left where an interrupt
  // would end the process with the staging directory there.
  let staging: string | undefined;
  let made: string | undefined;
  let moving = false;
  let interrupted = false;
  const undo = () => {
    if (staging) rmSync(staging, { recursive: true, force: true });
    // Before makeDirectory returned, `made` is not known yet: the destination at least.
    const ours = made ?? (existing ? undefined : target);
    if (ours) rmSync(ours, { recursive: true, force: true });
  };
  const interrupt = () => {
    interrupted = true;
    if (moving) return;
    undo();
    process.exit(130);
  };
  process.on('SIGINT', interrupt).on('SIGTERM', interrupt);
  try {
    made = await makeDirectory(target);
    staging = await mkdtemp(join(target, '.vsmtp-plugin-partial-'));
    if (interrupted) return;
    // Synchronous: dozens of small files, where a round trip through the event loop
    // for each would cost more than the write. An interrupt is handled after the loop.
    const directories = new Set<string>();
    const parentOf = (path: string) => {
      const dir = dirname(path);
      if (!directories.has(dir)) mkdirSync(dir, { recursive: true });
      directories.add(dir);
      return path;
    };
    for (const file of files) writeFileSync(parentOf(join(staging, safeRelative(file.path))), file.contents);
    moving = true;
    const tops = readdirSync(staging);
    // Into an empty destination (or one with only .git), whole top-level entries move:
    // a few renames instead of one per file and a mkdir per folder.
    if (!tops.some((name) => existing?.includes(name))) for (const name of tops) renameSync(join(staging, name), join(target, name));
    else for (const file of files) renameSync(join(staging, safeRelative(file.path)), parentOf(join(target, safeRelative(file.path))));
    for (const path of remove) await rm(join(target, safeRelative(path)), { force: true });
  } catch (error) {
    if (!moving) undo();
    throw error;
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    if (staging) await rm(staging, { recursive: true, force: true });
    if (interrupted) process.exit(130);
  }
}
