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
 * files are replaced; other files stay).
 */
export async function writeProject(destination: string, files: ProjectFile[], force: boolean): Promise<void> {
  const target = resolve(destination);
  const fresh = await isEmptyOrMissing(target);
  if (!fresh && !force) {
    throw new UsageError(`destination ${destination} exists and is not empty; use --force to write into it`);
  }
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.partial-`));
  try {
    for (const file of files) {
      const path = join(staging, safeRelative(file.path));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.contents);
    }
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
    await rm(staging, { recursive: true, force: true });
  }
}
