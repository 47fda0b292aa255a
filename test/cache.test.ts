import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedBuild, cacheNote, pruneArea, pruneEntries } from '../lib/core/cache.js';
import { cli, tempDir } from './helpers.js';
import { count } from './reliability.js';

describe('cachedBuild', () => {
  const saved = process.env.VSMTP_PLUGIN_CACHE;
  afterEach(() => {
    process.env.VSMTP_PLUGIN_CACHE = saved;
  });

  it('builds once, then answers from the cache', async () => {
    process.env.VSMTP_PLUGIN_CACHE = tempDir();
    let builds = 0;
    const build = async (work: string) => {
      builds++;
      writeFileSync(join(work, 'out'), 'built');
      return join(work, 'out');
    };
    const first = await cachedBuild('area', 'key', 'out', build);
    const second = await cachedBuild('area', 'key', 'out', build);
    expect([first.cached, second.cached, builds]).toEqual([false, true, 1]);
    expect(readFileSync(second.path, 'utf8')).toBe('built');
  });

  it('lets two cold builds of the same directory entry at once both succeed, leaving one whole entry', async () => {
    const cache = tempDir();
    process.env.VSMTP_PLUGIN_CACHE = cache;
    const build = (label: string) => async (work: string) => {
      const dir = join(work, 'venv');
      mkdirSync(join(dir, 'bin'), { recursive: true });
      await sleep(50);
      writeFileSync(join(dir, 'bin', 'python'), label);
      return dir;
    };
    const results = await Promise.all([cachedBuild('area', 'key', 'venv', build('a')), cachedBuild('area', 'key', 'venv', build('b'))]);
    expect(results[0]!.path).toBe(results[1]!.path);
    expect(results.map((r) => r.cached).sort()).toEqual([false, true]);
    expect(['a', 'b']).toContain(readFileSync(join(results[0]!.path, 'bin', 'python'), 'utf8'));
    // No work directory is left behind.
    expect(readdirSync(join(cache, 'area'))).toEqual(['key']);
    expect(readdirSync(join(cache, 'area', 'key')).sort()).toEqual(['manifest.json', 'venv']);
  });

  it('leaves no entry when the build fails', async () => {
    const cache = tempDir();
    process.env.VSMTP_PLUGIN_CACHE = cache;
    await expect(cachedBuild('area', 'key', 'out', async () => Promise.reject(new Error('compiler said no')))).rejects.toThrow('compiler said no');
    expect(readdirSync(join(cache, 'area'))).toEqual([]);
  });

  // Each way an entry can be damaged after it was written: it is detected, named, and rebuilt.
  const damages: Array<[string, (entry: string) => void, RegExp]> = [
    ['a truncated file', (entry) => truncateSync(join(entry, 'venv', 'bin', 'python'), 3), /bin\/python has 3 bytes, not 6/],
    ['a flipped byte', (entry) => writeFileSync(join(entry, 'venv', 'bin', 'python'), 'builT!'), /bin\/python does not match its checksum/],
    ['a flipped byte, its mtime set back (its ctime cannot be)', (entry) => {
      const path = join(entry, 'venv', 'bin', 'python');
      const { atime, mtime } = statSync(path);
      writeFileSync(path, 'builT!');
      utimesSync(path, atime, mtime);
    }, /bin\/python does not match its checksum/],
    ['a deleted file', (entry) => rmSync(join(entry, 'venv', 'lib', 'module.py')), /lib\/module.py is missing/],
    ['no manifest (a half-written entry of an older version)', (entry) => rmSync(join(entry, 'manifest.json')), /manifest is missing/],
  ];
  it.each(damages)('detects %s and rebuilds the entry', async (_, damage, reason) => {
    const cache = tempDir();
    process.env.VSMTP_PLUGIN_CACHE = cache;
    let builds = 0;
    const build = async (work: string) => {
      builds++;
      mkdirSync(join(work, 'venv', 'bin'), { recursive: true });
      mkdirSync(join(work, 'venv', 'lib'));
      writeFileSync(join(work, 'venv', 'bin', 'python'), 'built!');
      writeFileSync(join(work, 'venv', 'lib', 'module.py'), 'x = 1');
      return join(work, 'venv');
    };
    await cachedBuild('area', 'key', 'venv', build);
    count('cache: damaged entries', { injected: 1 });
    // Past the kernel's timestamp tick (up to 10 ms on older kernels), as any real damage is.
    await sleep(20);
    damage(join(cache, 'area', 'key'));
    const again = await cachedBuild('area', 'key', 'venv', build);
    expect(again.cached).toBe(false);
    expect(again.rebuilt).toMatch(reason);
    expect(cacheNote(again, 'installed')).toMatch(/^installed \(the cached copy was damaged, .+: rebuilt\), cached for next time: /);
    expect(readFileSync(join(again.path, 'bin', 'python'), 'utf8')).toBe('built!');
    expect(existsSync(join(again.path, 'lib', 'module.py'))).toBe(true);
    expect((await cachedBuild('area', 'key', 'venv', build)).cached).toBe(true);
    expect(builds).toBe(2);
    expect(readdirSync(join(cache, 'area'))).toEqual(['key']);
    count('cache: damaged entries', { handled: 1 });
  });
});

describe('the bounded cache of compiled components', () => {
  const saved = process.env.VSMTP_PLUGIN_CACHE;
  afterEach(() => {
    process.env.VSMTP_PLUGIN_CACHE = saved;
  });

  /** An entry of `mb` MB last used `minutesAgo` minutes ago. */
  function entry(dir: string, name: string, mb: number, minutesAgo: number): void {
    const path = join(dir, name);
    writeFileSync(path, Buffer.alloc(mb * 1024 * 1024));
    const when = new Date(Date.now() - minutesAgo * 60_000);
    utimesSync(path, when, when);
  }

  it('keeps the most recently used within the limit, and anything used in the last ten minutes', async () => {
    process.env.VSMTP_PLUGIN_CACHE = tempDir();
    const area = join(process.env.VSMTP_PLUGIN_CACHE, 'lgc-compiled');
    mkdirSync(join(area, 'wasmtime-22'), { recursive: true });
    entry(area, 'newest.cwasm', 2, 20);
    entry(join(area, 'wasmtime-22'), 'older.cwasm', 2, 30);
    entry(area, 'oldest.cwasm', 2, 40);
    entry(area, 'in-use.cwasm', 2, 1);
    const removed = await pruneArea('lgc-compiled', 6 * 1024 * 1024);
    expect(removed).toBe(2 * 1024 * 1024);
    expect(readdirSync(area, { recursive: true }).sort()).toEqual(['in-use.cwasm', 'newest.cwasm', 'wasmtime-22', 'wasmtime-22/older.cwasm']);
  });

  it('keeps whole venvs: the most recently used (a cache hit marks one used), and any used in the last ten minutes', async () => {
    process.env.VSMTP_PLUGIN_CACHE = tempDir();
    const area = join(process.env.VSMTP_PLUGIN_CACHE, 'lgc-venv');
    const venv = async (key: string, minutesAgo: number) => {
      await cachedBuild('lgc-venv', key, 'venv', async (work) => {
        mkdirSync(join(work, 'venv', 'bin'), { recursive: true });
        writeFileSync(join(work, 'venv', 'bin', 'python'), Buffer.alloc(1024 * 1024));
        return join(work, 'venv');
      });
      const when = new Date(Date.now() - minutesAgo * 60_000);
      utimesSync(join(area, key), when, when);
    };
    await venv('a', 50);
    await venv('b', 40);
    await venv('c', 30);
    await venv('d', 5);
    // Used again now: the oldest becomes the newest.
    expect((await cachedBuild('lgc-venv', 'a', 'venv', async () => { throw new Error('cached, not built'); })).cached).toBe(true);
    // b and c, each 1 MB and its manifest.
    const removed = await pruneEntries('lgc-venv', 1);
    expect(removed).toBeGreaterThan(2 * 1024 * 1024);
    expect(removed).toBeLessThan(2 * 1024 * 1024 + 4096);
    expect(readdirSync(area).sort()).toEqual(['a', 'd']);
  });

  it('vsmtp-plugin cache shows it by area, --prune trims it, --clear empties it', async () => {
    const cache = tempDir();
    mkdirSync(join(cache, 'lgc-compiled'));
    entry(join(cache, 'lgc-compiled'), 'a.cwasm', 3, 30);
    entry(join(cache, 'lgc-compiled'), 'b.cwasm', 3, 20);
    const env = { VSMTP_PLUGIN_CACHE: cache, VSMTP_PLUGIN_CACHE_LIMIT_MB: '4' };
    const shown = JSON.parse((await cli(['cache', '--json'], { env })).stdout);
    expect(shown).toMatchObject({ dir: cache, bytes: 6 * 1024 * 1024, limitBytes: 4 * 1024 * 1024, areas: [{ area: 'lgc-compiled', files: 2 }] });
    const pruned = JSON.parse((await cli(['cache', '--prune', '--json'], { env })).stdout);
    expect(pruned.areas).toEqual([{ area: 'lgc-compiled', bytes: 3 * 1024 * 1024, files: 1 }]);
    expect(existsSync(join(cache, 'lgc-compiled', 'b.cwasm'))).toBe(true);
    expect((await cli(['cache', '--clear'], { env })).exitCode).toBe(0);
    expect(existsSync(cache)).toBe(false);
    expect((await cli(['cache', '--prune', '--clear'], { env })).exitCode).toBe(2);
  });
});
