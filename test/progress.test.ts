// What the user sees while build and verify run: a spinner with elapsed time on a
// terminal, plain lines without one, colours only on a terminal and never with
// NO_COLOR, and the tools' own output with --verbose.
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lineProgress, terminalProgress } from '../lib/core/progress.js';
import { cargoProgress } from '../lib/kinds/vsmtp/host.js';
import type { Step } from '../lib/core/report.js';
import { cli, tempDir } from './helpers.js';

const step = (status: Step['status'], detail = ''): Step => ({ name: 'build plugin', ok: status === 'passed', status, ms: 2500, detail });

function record(tty: boolean, color: boolean) {
  let out = '';
  return { progress: lineProgress({ tty, color, write: (text) => (out += text) }), out: () => out };
}

describe('progress lines', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it('on a TTY, redraws one line with a spinner and the elapsed time, then replaces it with the result', () => {
    vi.useFakeTimers();
    const { progress, out } = record(true, true);
    progress.begin('build plugin');
    progress.note('first time: compiling, cached for next time');
    vi.advanceTimersByTime(1500);
    progress.end(step('passed', 'built'));
    const text = out();
    expect(text).toMatch(/\r\x1b\[2K⠋ build plugin \(0\.0 s\)/);
    expect(text).toMatch(/\r\x1b\[2K. build plugin \(1\.\d s\): first time: compiling, cached for next time/);
    expect(text.endsWith('\r\x1b[2K\x1b[32mok\x1b[0m   build plugin (2.5 s): built\n')).toBe(true);
  });

  it('without a TTY, writes plain lines with no control characters', () => {
    const { progress, out } = record(false, false);
    progress.begin('build plugin');
    progress.note('first time: compiling, cached for next time');
    progress.end(step('failed', '`make` failed (exit 2):\ncc: error: x.c: No such file'));
    expect(out()).toBe(['.... build plugin', '       first time: compiling, cached for next time', 'FAIL build plugin (2.5 s): `make` failed (exit 2):', '       cc: error: x.c: No such file', ''].join('\n'));
    expect(out()).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  });

  it('honours NO_COLOR on a terminal, and --verbose turns the spinner into lines', () => {
    const terminal = () => {
      let out = '';
      return { stream: { isTTY: true, write: (text: string) => ((out += text), true) } as unknown as NodeJS.WriteStream, out: () => out };
    };
    vi.stubEnv('NO_COLOR', '1');
    const plain = terminal();
    terminalProgress(false, plain.stream).end(step('failed'));
    expect(plain.out()).toBe('FAIL build plugin (2.5 s)\n');
    vi.unstubAllEnvs();
    const verbose = terminal();
    const progress = terminalProgress(true, verbose.stream);
    progress.begin('build plugin');
    progress.end(step('skipped'));
    expect(verbose.out()).toBe('.... build plugin\n\x1b[33mskip\x1b[0m build plugin (2.5 s)\n');
  });
});

describe("cargo's progress", () => {
  it('counts the crates cargo finished out of the total, naming the last one compiled, and never a fresh one', () => {
    const notes: string[] = [];
    const progress = cargoProgress(3, (text) => notes.push(text), 0);
    const artifact = (id: string, name: string, fresh: boolean) => JSON.stringify({ reason: 'compiler-artifact', package_id: id, target: { name }, fresh });
    progress(artifact('serde 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)', 'serde', true));
    progress('{"reason":"build-script-executed","package_id":"serde 1.0.0"}');
    progress(artifact('libc 0.2.140 (registry+https://github.com/rust-lang/crates.io-index)', 'build-script-build', false));
    progress('not json from a build script');
    progress(artifact('registry+https://github.com/rust-lang/crates.io-index#rhai@1.27.0', 'rhai', false));
    expect(notes).toEqual(['compiled 2 of 3 crates (libc)', 'compiled 3 of 3 crates (rhai)']);
  });
});

describe('the CLI while verify runs', () => {
  it('prints plain step lines without a TTY, and streams the tools\' output with --verbose', { timeout: 5 * 60_000 }, async () => {
    const project = join(tempDir(), 'progress');
    expect((await cli(['new', 'vpl', project, '--name', 'progress', '--yes', '--author', 'A'])).exitCode).toBe(0);
    const verbose = await cli(['verify', project, '--verbose']);
    expect(verbose.exitCode).toBe(0);
    // make's own command lines, and the host's JSON steps, as they were written.
    expect(verbose.stderr).toMatch(/^cc .*-shared/m);
    expect(verbose.stderr).toMatch(/^\{"name": ?"open archive"/m);
    const quiet = await cli(['verify', project]);
    expect(quiet.exitCode, quiet.stdout).toBe(0);
    expect(quiet.stdout).toMatch(/^\.\.\.\. build package\nok   build package \(/m);
    expect(quiet.stdout).toMatch(/^\.\.\.\. host: running\nok   host: open archive/m);
    expect(quiet.stdout + quiet.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(quiet.stderr).toBe('');
  });
});
