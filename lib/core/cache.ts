import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { cacheDir } from './cache-dir.js';

export { cacheDir };

/**
 * Cargo's target directory for reference hosts: shared, so hosts reuse each other's
 * crates and a plugin whose rhai build is the vSMTP host's reuses it.
 */
export function cargoTargetDir(): string {
  return process.env.CARGO_TARGET_DIR || join(cacheDir(), 'cargo-target');
}

export function hashOf(...parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

const MANIFEST = 'manifest.json';

/** Per file: its size and checksum, and the times that any write changes (ctime cannot be set back). */
type Manifest = Record<string, { size: number; sha256: string; mtimeMs?: number; ctimeMs?: number }>;

// Whole-file reads: several times faster than streams over a venv's many small files.
function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every regular file under `root` (symbolic links, as a venv has, are not followed). */
function filesUnder(root: string): string[] {
  if (statSync(root).isFile()) return [root];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function manifestOf(entry: string, built: string): Manifest {
  const manifest: Manifest = {};
  for (const file of filesUnder(built)) {
    const { size, mtimeMs, ctimeMs } = statSync(file);
    manifest[relative(entry, file)] = { size, sha256: sha256(file), mtimeMs, ctimeMs };
  }
  return manifest;
}

/** What is wrong with a cache entry, or undefined when every file is as it was written. */
function damage(entry: string): string | undefined {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(entry, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return 'its manifest is missing or unreadable';
  }
  for (const [file, expected] of Object.entries(manifest)) {
    const path = join(entry, file);
    if (!existsSync(path)) return `${file} is missing`;
    const { size, mtimeMs, ctimeMs } = statSync(path);
    if (size !== expected.size) return `${file} has ${size} bytes, not ${expected.size}`;
    // Untouched since written (as make and git judge a file): no need to read it. A
    // venv is hundreds of MB, read on every verify otherwise.
    if (mtimeMs === expected.mtimeMs && ctimeMs === expected.ctimeMs) continue;
    if (sha256(path) !== expected.sha256) return `${file} does not match its checksum`;
  }
  return undefined;
}

/** Removes an entry, renamed aside first so that no reader ever sees it half-deleted. */
async function removeEntry(entry: string): Promise<void> {
  const stale = await mkdtemp(join(dirname(entry), '.stale-'));
  await rename(entry, join(stale, 'entry')).catch(() => undefined);
  await rm(stale, { recursive: true, force: true });
}

export interface CacheHit {
  path: string;
  cached: boolean;
  /** Why an existing entry was thrown away and rebuilt. */
  rebuilt?: string;
}

/**
 * A file or directory built once per key and kept in the cache. `build` makes it in a
 * scratch directory; it moves, with a manifest of sizes and checksums, into a staging
 * directory renamed into place whole: an entry exists complete or not at all. When
 * two processes build the same entry at once, the first rename wins and the other
 * uses that entry. An entry changed since it was written (truncated, deleted from, or
 * corrupted) fails its checksums, is moved aside and rebuilt; a file whose size and
 * times are as written is taken as it is. `onBuild` is told before
 * a build starts, so a front end can say that long first-time work is going on.
 */
export async function cachedBuild(area: string, key: string, file: string, build: (work: string) => Promise<string>, onBuild: () => void = () => undefined): Promise<CacheHit> {
  const areaDir = join(cacheDir(), area);
  const entry = join(areaDir, key);
  const path = join(entry, file);
  let rebuilt: string | undefined;
  if (existsSync(entry)) {
    rebuilt = damage(entry);
    if (!rebuilt) {
      // Marked used, for pruneEntries.
      utimesSync(entry, new Date(), new Date());
      return { path, cached: true };
    }
    await removeEntry(entry);
  }
  onBuild();
  await mkdir(areaDir, { recursive: true });
  const scratch = await mkdtemp(join(areaDir, `.build-${key}-`));
  const staged = await mkdtemp(join(areaDir, `.entry-${key}-`));
  try {
    await rename(await build(scratch), join(staged, file));
    await writeFile(join(staged, MANIFEST), JSON.stringify(manifestOf(staged, join(staged, file))));
    try {
      await rename(staged, entry);
    } catch (error) {
      // Another process put a complete entry in place first.
      if (existsSync(join(entry, MANIFEST))) return { path, cached: true };
      throw error;
    }
    return { path, cached: false, rebuilt };
  } finally {
    await Promise.all([scratch, staged].map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** A step's detail for a cache lookup: where the entry is, or what was made and why. */
export function cacheNote(hit: CacheHit, made: string): string {
  if (hit.cached) return `cached: ${hit.path}`;
  return `${made}${hit.rebuilt ? ` (the cached copy was damaged, ${hit.rebuilt}: rebuilt)` : ''}, cached for next time: ${hit.path}`;
}

/** The most the cache of compiled components may hold (VSMTP_PLUGIN_CACHE_LIMIT_MB, default 400 MB). */
export function cacheLimitBytes(): number {
  const mb = Number(process.env.VSMTP_PLUGIN_CACHE_LIMIT_MB);
  return (Number.isFinite(mb) && mb > 0 ? mb : 400) * 1024 * 1024;
}

/** Entries used in the last ten minutes are never pruned: another verify may be reading them. */
const IN_USE_MS = 10 * 60_000;

interface CachedFile {
  path: string;
  bytes: number;
  used: number;
}

function filesOf(dir: string): CachedFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      const stat = statSync(path);
      return { path, bytes: stat.size, used: stat.mtimeMs };
    });
}

/** Each area of the cache: its size and files. */
export function cacheUsage(): Array<{ area: string; bytes: number; files: number }> {
  const root = cacheDir();
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const files = filesOf(join(root, entry.name));
      return { area: entry.name, bytes: files.reduce((sum, file) => sum + file.bytes, 0), files: files.length };
    });
}

/**
 * Trims an area to `limit` bytes, least recently used first (a cache hit marks an entry
 * used). Entries used in the last ten minutes stay: another verify may be reading them.
 * Returns the bytes removed.
 */
export async function pruneArea(area: string, limit = cacheLimitBytes(), now = Date.now()): Promise<number> {
  const files = filesOf(join(cacheDir(), area)).sort((a, b) => b.used - a.used);
  let kept = 0;
  let removed = 0;
  for (const file of files) {
    if (kept + file.bytes <= limit || now - file.used < IN_USE_MS) {
      kept += file.bytes;
      continue;
    }
    await rm(file.path, { force: true });
    removed += file.bytes;
  }
  return removed;
}

/** How many of the virtual environments lgc plugins are built with stay (one per set of pins). */
export const LGC_VENVS_KEPT = 4;

/**
 * Keeps the `keep` most recently used entries of an area (whole entries, such as
 * virtual environments, which are of no use in part) and removes the rest.
 * Returns the bytes removed.
 */
export async function pruneEntries(area: string, keep: number, now = Date.now()): Promise<number> {
  const areaDir = join(cacheDir(), area);
  if (!existsSync(areaDir)) return 0;
  const entries = readdirSync(areaDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => ({ path: join(areaDir, entry.name), used: statSync(join(areaDir, entry.name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  let removed = 0;
  for (const entry of entries.slice(keep).filter((entry) => now - entry.used >= IN_USE_MS)) {
    removed += filesOf(entry.path).reduce((sum, file) => sum + file.bytes, 0);
    await removeEntry(entry.path);
  }
  return removed;
}
