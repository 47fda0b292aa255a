// VPlugin packages: generated, built, packaged and verified for real, then hostile
// or broken packages that verify must refuse, each with the fault named.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, verify } from './helpers.js';
import { zip, type ZipEntry } from './zip.js';
import { count, fault } from './reliability.js';

const LONG = 10 * 60_000;

/** Runs make in a generated project: its exit status and everything it printed. */
function make(project: string, ...args: string[]) {
  const result = spawnSync('make', args, { cwd: project, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** Each entry of a ZIP with its compression method (0 = stored). */
const zipEntries = (path: string) =>
  execFileSync('python3', ['-c', 'import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, i.compress_type)', path], { encoding: 'utf8' }).trim().split('\n');

/** Bugs each sanitizer must catch in the plugin's entry point, while plain `make test` passes. */
const sanitizerBugs = [
  ['AddressSanitizer: heap-use-after-free', 'volatile char *volatile bytes = malloc(1); free((void *)bytes); bytes[0] = 0;'],
  ['runtime error: signed integer overflow', 'volatile int32_t largest = INT32_MAX; largest += 1;'],
] as const;

describe.each([
  ['C with the defaults', ['--language', 'c'], { sanitize: true, bump: true }],
  ['C without destructor, custom names, an objfile not named .so', ['--language', 'c', '--no-destructor', '--objfile', 'greet.obj', '--entry', 'greet_start'], {}],
  ['Rust', ['--language', 'rust'], {}],
] as const)('VPlugin in %s', (_, options, checks: { sanitize?: boolean; bump?: boolean }) => {
  it('generates, packages and verifies; make test passes', { timeout: LONG }, async () => {
    const project = join(tempDir(), 'pkg');
    const args = ['new', 'vpl', project, '--name', 'demo', '--plugin-version', '1.2.3', '--yes', '--author', 'E2E', '--verify', '--json', ...options];
    const created = await cli(args);
    const out = JSON.parse(created.stdout);
    expect(created.exitCode, JSON.stringify(out, null, 2)).toBe(0);
    expect(out.verify).toMatchObject({ kind: 'vpl', ok: true, status: 'passed' });
    expect(out.verify.artifact).toBe(join(project, 'demo-1.2.3.vpl'));
    const names = out.verify.steps.map((s: any) => s.name);
    expect(names).toEqual(['build package', 'sandbox', 'host: open archive', 'host: check entries', 'host: extract', 'host: read metadata', 'host: find object', 'host: load object', 'host: entry point', 'host: destructor', 'host: vplugin crate']);
    const step = (name: string) => out.verify.steps.find((s: any) => s.name === `host: ${name}`);
    expect(step('destructor').detail).toMatch(out.answers.destructor ? /called vplugin_exit/ : /no vplugin_exit/);
    // A custom entry point comes with the spec's vplugin_init beside it, so the vplugin
    // crate's one-entry-point manager starts it too; only the missing destructor warns.
    const crate = step('vplugin crate');
    if (out.answers.destructor) expect(crate).toMatchObject({ ok: true, status: 'passed' });
    else expect(crate).toMatchObject({ ok: true, status: 'warned', detail: expect.stringMatching(/^no vplugin_exit: the crate's terminate\(\) returns an error without it \(/) });
    // Both entries at the root, stored uncompressed as the README and Makefile say.
    expect(zipEntries(out.verify.artifact)).toEqual(['metadata.toml 0', `${out.answers.objfile} 0`]);

    // The unit test, then the package loaded by the project's own loader.
    const tested = make(project, 'test');
    expect(tested.status, tested.output).toBe(0);
    expect(tested.output).toMatch(out.answers.language === 'c' ? /^ok: unit test$/m : /^test result: ok\. [1-9]\d* passed/m);
    expect(tested.output).toContain(`ok: demo-1.2.3.vpl: ${out.answers.objfile} loaded, ${out.answers.entry}() returned 0${out.answers.destructor ? ', vplugin_exit() ran' : ''}`);

    if (checks.bump) {
      // metadata.toml alone names the package: verify builds and opens the new one.
      const metadata = join(project, 'metadata.toml');
      writeFileSync(metadata, readFileSync(metadata, 'utf8').replace('version = "1.2.3"', 'version = "1.3.0"'));
      const bumped = await verify(project);
      expect(bumped.exitCode, JSON.stringify(bumped.report.steps, null, 2)).toBe(0);
      expect(bumped.report.artifact).toBe(join(project, 'demo-1.3.0.vpl'));
    }

    if (checks.sanitize) {
      const clean = make(project, 'test', 'SANITIZE=1');
      expect(clean.status, clean.output).toBe(0);
      expect(clean.output).toContain('-fsanitize=address,undefined');
      expect(clean.output).toMatch(/^ok: build\/sanitize\/demo-[\d.]+\.vpl: plugin\.so loaded/m);
      const source = join(project, 'src', 'plugin.c');
      const original = readFileSync(source, 'utf8');
      for (const [report, bug] of sanitizerBugs) {
        writeFileSync(source, `#include <stdlib.h>\n${original.replace('    return 0;', `    ${bug}\n    return 0;`)}`);
        expect(make(project, 'test').status, 'plain make test misses it').toBe(0);
        const caught = make(project, 'test', 'SANITIZE=1');
        expect(caught.status).not.toBe(0);
        expect(caught.output).toContain(report);
      }
    }
  });
});

describe('verify refuses a broken or hostile .vpl, naming the fault', () => {
  const dir = tempDir();
  const source = join(dir, 'entry.c');
  // Entry points that misbehave on purpose: ENTRY_RESULT -1 calls exit(0), -2 floods
  // stdout, -3 forks a long-lived child (sleep 987654) and then reports success.
  writeFileSync(
    source,
    [
      '#include <stdint.h>',
      '#include <stdio.h>',
      '#include <stdlib.h>',
      '#include <string.h>',
      '#include <unistd.h>',
      '__attribute__((visibility("default"))) int32_t vplugin_init(void) {',
      '  if (ENTRY_RESULT == -1) exit(0);',
      '  if (ENTRY_RESULT == -2) { static char line[65536]; memset(line, 120, sizeof line); for (;;) fwrite(line, 1, sizeof line, stdout); }',
      '  if (ENTRY_RESULT == -3) { if (fork() == 0) { execl("/bin/sleep", "sleep", "987654", (char *)0); _exit(1); } return 0; }',
      '  return ENTRY_RESULT;',
      '}',
      '',
    ].join('\n'),
  );
  const object = (result: number) => {
    const out = join(dir, `entry-${result}.so`);
    if (!existsSync(out)) execFileSync('cc', ['-shared', '-fPIC', `-DENTRY_RESULT=${result}`, '-o', out, source]);
    return readFileSync(out);
  };
  const metadata = (fields: Record<string, string>) =>
    `[metadata]\n${Object.entries(fields).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}\n`;
  const good = { name: 'bad', version: '1.0.0', objfile: 'plugin.so' };
  const pack = (label: string, entries: ZipEntry[]) => {
    const path = join(dir, `${label}.vpl`);
    writeFileSync(path, zip(entries));
    return path;
  };

  it.each([
    ['an empty name', () => pack('empty-name', [{ name: 'metadata.toml', data: metadata({ ...good, name: '' }) }, { name: 'plugin.so', data: object(0) }]), 'read metadata', /name/],
    ['a name with a space', () => pack('space', [{ name: 'metadata.toml', data: metadata({ ...good, name: 'my plugin' }) }, { name: 'plugin.so', data: object(0) }]), 'read metadata', /whitespace/],
    ['no objfile', () => pack('no-objfile', [{ name: 'metadata.toml', data: metadata({ name: 'bad', version: '1.0.0' }) }, { name: 'plugin.so', data: object(0) }]), 'read metadata', /objfile/],
    ['an objfile absent from the archive', () => pack('absent', [{ name: 'metadata.toml', data: metadata({ ...good, objfile: 'missing.so' }) }, { name: 'plugin.so', data: object(0) }]), 'find object', /missing\.so/],
    ['a ../ entry', () => pack('dotdot', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(0) }, { name: '../escaped.txt', data: 'x' }]), 'check entries', /\.\./],
    ['a link entry', () => pack('link', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: '/etc/passwd', mode: 0o120777 }]), 'check entries', /link/i],
    ['a zip bomb (64 MiB of zeros in 64 KiB)', () => pack('bomb', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(0) }, { name: 'zeros', data: Buffer.alloc(64 << 20), deflate: true }]), 'check entries', /zip bomb: entry 'zeros' expands \d+ bytes to 67108864/],
    ['an entry hiding its real size (a bomb behind a lying header)', () => pack('liar', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(0) }, { name: 'zeros', data: Buffer.alloc(4 << 20), deflate: true, declaredSize: 1000 }]), 'extract', /zip bomb: entry 'zeros' decompresses to more than its declared 1000 bytes/],
    ['an absolute path entry', () => pack('absolute', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(0) }, { name: '/tmp/planted.txt', data: 'x' }]), 'check entries', /entry '\/tmp\/planted.txt' has an absolute path/],
    ['duplicate entries', () => pack('duplicate', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(0) }, { name: 'plugin.so', data: object(3) }]), 'check entries', /duplicate entry 'plugin.so'/],
    ['a truncated archive', () => { const path = pack('truncated', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(0) }]); writeFileSync(path, readFileSync(path).subarray(0, 4000)); return path; }, 'open archive', /not a ZIP archive \(truncated or corrupt\)/],
    ['a metadata.toml that is not UTF-8', () => pack('latin1', [{ name: 'metadata.toml', data: Buffer.from('[metadata]\nname = "caf\xe9"\nversion = "1.0.0"\nobjfile = "plugin.so"\n', 'latin1') }, { name: 'plugin.so', data: object(0) }]), 'read metadata', /metadata.toml is not UTF-8/],
    ['an entry point returning non-zero', () => pack('nonzero', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(3) }]), 'entry point', /returned 3/],
    ['an entry point flooding its output', () => pack('floods', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(-2) }]), 'entry point', /wrote more than 16 MB of output/],
    ['an entry point calling exit(0)', () => pack('exits', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(-1) }]), 'entry point', /exited with 0 before reporting "entry point"/],
  ] as const)('%s', async (_, build, step, message) => {
    // A misbehaving entry point is a fault injected; anything earlier, a hostile file.
    const isFault = step === 'entry point';
    if (isFault) count('plugin faults: vpl', { injected: 1 });
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith('vsmtp-plugin-sandbox-')).sort();
    const { exitCode, report } = await verify(build());
    expect(exitCode).toBe(1);
    expect(report.ok).toBe(false);
    const failed = report.steps.find((s: any) => s.status === 'failed');
    expect(failed.name).toBe(`host: ${step}`);
    expect(failed.detail).toMatch(message);
    expect(report.cause).toMatch(message);
    expect(existsSync(join(dir, 'escaped.txt'))).toBe(false);
    expect(existsSync('/tmp/planted.txt')).toBe(false);
    // The private extraction directory (inside the sandbox's scratch folder) is gone.
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('vsmtp-plugin-sandbox-')).sort()).toEqual(before);
    count(isFault ? 'plugin faults: vpl' : 'hostile .vpl', isFault ? { handled: 1 } : { refused: 1 });
  });

  it('an entry point that forks: reported, and nothing it started outlives verify', { timeout: LONG }, async () => {
    const path = pack('forks', [{ name: 'metadata.toml', data: metadata(good) }, { name: 'plugin.so', data: object(-3) }]);
    await fault('plugin faults: vpl', async () => {
      const { exitCode, report } = await verify(path);
      expect(exitCode).toBe(1);
      expect(report.cause).toMatch(/nothing left running: the plugin left 1 processes running after the host exited; the sandbox killed them/);
      const survivors = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes('sleep 987654'));
      expect(survivors).toEqual([]);
    });
  });
});
