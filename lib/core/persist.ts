import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { UsageError } from './errors.js';
import type { ProjectFile } from './render.js';

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new UsageError(`destination ${dir} is a file, not a directory`);
    throw error;
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
 * staged in a sibling temporary directory, then renamed into place. An existing,
 * non-empty destination is refused unless `force` is set (then only the generated
 * files are replaced; other files stay). An interrupt (SIGINT, SIGTERM) while files
 * are staged removes them and exits 130; once they are moving into place (a few
 * renames) it lets the move finish first: the destination is untouched or complete.
 */
export async function writeProject(destination: string, files: ProjectFile[], force: boolean): Promise<void> {
  const target = resolve(destination);
  const fresh = await isEmptyOrMissing(target);
  if (!fresh && !force) {
    throw new UsageError(`destination ${destination} exists and is not empty; use --force to write into it`);
  }
  await mkdir(dirname(target), { recursive: true });
  // Listening before the staging directory exists: no moment is left where an
  // interrupt would end the process with it on disk.
  let staging: string | undefined;
  let moving = false;
  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
    if (moving || !staging) return;
    rmSync(staging, { recursive: true, force: true });
    process.exit(130);
  };
  process.on('SIGINT', interrupt).on('SIGTERM', interrupt);
  try {
    staging = await mkdtemp(join(dirname(target), `.${basename(target)}.partial-`));
    if (interrupted) return;
    for (const file of files) {
      const path = join(staging, safeRelative(file.path));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.contents);
    }
    moving = true;
    if (fresh) {
      await rmdir(target).catch(() => undefined);
      await rename(staging, target);
      return;
    }
    for (const file of files) {
      const path = join(target, safeRelative(file.path));
      await mkdir(dirname(path), { recursive: true });
      await rename(join(staging, safeRelative(file.path)), path);
    }
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    if (staging) await rm(staging, { recursive: true, force: true });
    if (interrupted) process.exit(130);
  }
}
