import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where built reference hosts and shared build output live, outside any project. */
export function cacheDir(): string {
  if (process.env.VSMTP_PLUGIN_CACHE) return process.env.VSMTP_PLUGIN_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vsmtp-plugin');
}

export function hashOf(...parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/**
 * A file or directory built once per key and kept in the cache. `build` makes it in
 * a fresh work directory; it is renamed into place only when complete, so an entry
 * that exists is whole. When two processes build the same entry at once, the first
 * rename wins and the other uses that entry.
 */
export async function cachedBuild(area: string, key: string, file: string, build: (work: string) => Promise<string>): Promise<{ path: string; cached: boolean }> {
  const entry = join(cacheDir(), area, key);
  const path = join(entry, file);
  if (existsSync(path)) return { path, cached: true };
  await mkdir(entry, { recursive: true });
  const work = await mkdtemp(join(entry, 'build-'));
  try {
    const built = await build(work);
    try {
      await rename(built, path);
    } catch (error) {
      // A directory cannot replace one another process has already put in place.
      if (existsSync(path)) return { path, cached: true };
      throw error;
    }
    return { path, cached: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
