import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedBuild } from '../lib/core/cache.js';
import { tempDir } from './helpers.js';

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
    expect(readdirSync(join(cache, 'area', 'key'))).toEqual(['venv']);
  });

  it('leaves no entry when the build fails', async () => {
    const cache = tempDir();
    process.env.VSMTP_PLUGIN_CACHE = cache;
    await expect(cachedBuild('area', 'key', 'out', async () => Promise.reject(new Error('compiler said no')))).rejects.toThrow('compiler said no');
    expect(existsSync(join(cache, 'area', 'key', 'out'))).toBe(false);
    expect(readdirSync(join(cache, 'area', 'key'))).toEqual([]);
  });
});
