import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { execa } from 'execa';

export const root = resolve(import.meta.dirname, '..');
export const bin = join(root, 'dist', 'lib', 'cli.js');

export function tempDir(prefix = 'vsmtp-plugin-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the real bin with no TTY and closed stdin, as CI does. */
export function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return execa('node', [bin, ...args], { cwd: options.cwd, env: options.env, reject: false, stdin: 'ignore', timeout: 30 * 60_000 });
}

/** Every file under a directory with its size and mtime, to prove nothing changed. */
export function snapshot(dir: string): string[] {
  const entries: string[] = [];
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      const stat = statSync(path);
      entries.push(`${relative(dir, path)} ${stat.size} ${stat.mtimeMs}`);
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return entries.sort();
}
