import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { expect } from 'vitest';
import { UsageError } from '../lib/core/errors.js';
import { checkAnswer, type Question } from '../lib/core/question.js';
import { count, fault } from './reliability.js';

export const root = resolve(import.meta.dirname, '..');
export const bin = join(root, 'dist', 'bin', 'vsmtp-plugin.cjs');

const madeDirs: string[] = [];

/** A fresh directory under the system's temp dir, removed when the test file ends (see test/setup.ts). */
export function tempDir(prefix = 'vsmtp-plugin-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/**
 * Removes every directory tempDir made. A generated lgc project holds its own venv
 * (about 175 MB): a full run left some 10 GB behind and filled CI's disk.
 * KEEP_TEST_DIRS=1 keeps them for a look after a failure.
 */
export function removeTempDirs(): void {
  for (const dir of madeDirs.splice(0)) discard(dir);
}

/** Removes one directory now (a loop building many projects keeps only one at a time). */
export function discard(dir: string): void {
  if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
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

/** `vsmtp-plugin verify --json` through the real bin, with extra environment: its exit code and parsed report. */
export function verifier(env?: Record<string, string>) {
  return async (path: string, ...options: string[]) => {
    const result = await cli(['verify', path, '--json', ...options], { env });
    return { exitCode: result.exitCode, report: JSON.parse(result.stdout) };
  };
}

export const verify = verifier();

/**
 * Two verifies at once on an empty reference-host cache both pass and leave one whole
 * entry; a damaged entry is then detected and rebuilt. `projects` may name one project
 * twice when the kind's build tolerates that (cargo locks its target directory).
 */
export async function checkHostCache(projects: [string, string], area: string, file: string, step = 'build reference host') {
  const env = { VSMTP_PLUGIN_CACHE: tempDir() };
  const verify = verifier(env);
  const detail = (report: any) => report.steps.find((s: any) => s.name === step).detail as string;
  await fault('cache: two cold verifies at once', async () => {
    const both = await Promise.all(projects.map((project) => verify(project)));
    for (const { exitCode, report } of both) expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(0);
    expect(readdirSync(join(env.VSMTP_PLUGIN_CACHE, area))).toHaveLength(1);
  });
  await fault('cache: damaged entries', async () => {
    const entry = join(env.VSMTP_PLUGIN_CACHE, area, readdirSync(join(env.VSMTP_PLUGIN_CACHE, area))[0]!);
    const binary = join(entry, file);
    truncateSync(binary, 100);
    const again = await verify(projects[0]);
    expect(again.exitCode, JSON.stringify(again.report.steps, null, 2)).toBe(0);
    expect(detail(again.report)).toMatch(new RegExp(`the cached copy was damaged, ${file} has 100 bytes, not \\d+: rebuilt`));
    // The entry's path is its top item: the binary itself, or the folder holding it.
    expect(detail((await verify(projects[0])).report)).toBe(`cached: ${join(entry, file.split('/')[0]!)}`);
  });
}

/** The message a question refuses `value` with (a UsageError), counted as a bad input refused. */
export function refusal(question: Question, value: unknown): string {
  try {
    checkAnswer(question, value);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    count('answers (table-driven)', { refused: 1 });
    return (error as Error).message;
  }
  throw new Error(`${question.name}=${JSON.stringify(value)} was accepted`);
}

/**
 * Turns a generated vSMTP project into what the generator made before it pinned the
 * host's closure: no Cargo.lock, no alignment entries, no pinned toolchain. cargo then
 * resolves rhai's dependencies afresh (today's crates need today's rustc), which the
 * real vSMTP 2.2.1 refuses ("Function not found").
 */
export function unalign(project: string): void {
  for (const file of ['Cargo.lock', 'rust-toolchain.toml']) rmSync(join(project, file));
  const manifest = join(project, 'Cargo.toml');
  const text = readFileSync(manifest, 'utf8');
  writeFileSync(manifest, text.slice(0, text.indexOf('# Feature alignment with the host')));
}

/** A project's test SIEM, started as its README says (on a free port here). */
export async function testSiem(project: string) {
  const child = spawn('python3', ['test_siem.py', '--port', '0', '--token', 'change-me'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  const first = (await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()).value as string | undefined;
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(first ?? '')?.[0];
  if (!url) throw new Error(`test_siem.py said ${first}`);
  return { url, log: () => log, stop: () => child.kill() };
}
