// MailerQ plugins in C and C++, generated, built with CMake (its presets, -Werror on),
// tested plain and under sanitizers and verified in the reference host (alone, then
// as 10-… and 20-… to check the load order); then plugins that break MailerQ's
// rules, which verify (or the project's own tests) must refuse by name.
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { renderProject } from '../lib/core/generate.js';
import { callbacks } from '../lib/kinds/mailerq/callbacks.js';
import { mailerq } from '../lib/kinds/mailerq/index.js';
import { checkHostCache, cli, tempDir, verify } from './helpers.js';
import { count } from './reliability.js';

const LONG = 10 * 60_000;

/** Runs a command in the project; fails the test, with its output, unless it exits 0. */
async function inProject(project: string, command: string, ...args: string[]): Promise<string> {
  const result = await execa(command, args, { cwd: project, reject: false, all: true });
  expect(result.exitCode, `${command} ${args.join(' ')}\n${result.all}`).toBe(0);
  return result.all ?? '';
}

/** Every source file under the project, relative to it. */
const sources = (project: string) =>
  readdirSync(project, { recursive: true, encoding: 'utf8' }).filter((path) => /\.(c|h|cpp|hpp)$/.test(path) && !path.startsWith('build'));

async function generate(name: string, ...options: string[]): Promise<string> {
  const project = join(tempDir(), name);
  const created = await cli(['new', 'mailerq', project, '--name', name, '--yes', '--author', 'E2E', ...options]);
  expect(created.exitCode, created.stderr).toBe(0);
  return project;
}

describe.each([
  ['C, default callbacks', 'c', undefined],
  ['C, every callback', 'c', callbacks.map((c) => c.name).join(',')],
  ['C, no optional callback', 'c', ''],
  ['C++, worker and inbound callbacks', 'cpp', 'mq_context_initialize,mq_context_cleanup,mq_smtp_in_rcptto,mq_smtp_in_mailfrom,mq_smtp_in_data,mq_smtp_in_message,mq_smtp_out_sent'],
  ['C++, every callback', 'cpp', callbacks.map((c) => c.name).join(',')],
] as const)('MailerQ plugin in %s', (label, language, selection) => {
  it('generates, builds with -Werror, tests plain and sanitized and verifies, alone and as two plugins in file-name order', { timeout: LONG }, async () => {
    const name = `e2e-${language}-${label.length}`;
    const project = await generate(name, '--language', language, ...(selection === undefined ? [] : ['--callbacks', selection]));
    const chosen = selection === undefined ? ['mq_initialize', 'mq_smtp_in_connect', 'mq_smtp_in_mailfrom', 'mq_smtp_in_close', 'mq_cleanup'] : selection.split(',').filter(Boolean);
    for (const source of sources(project)) {
      expect(readFileSync(join(project, source), 'utf8').split('\n').slice(0, 3).join('\n'), source).toMatch(/^\/\/ SPDX-License-Identifier: MIT$/m);
    }
    const plugin = readFileSync(join(project, 'src', `plugin.${language}`), 'utf8');
    if (language === 'cpp') {
      // Every entry point noexcept, every callback with a catch-all that logs.
      expect(plugin.match(/^MQ_EXPORT .*\) MQ_NOEXCEPT$/gm)).toHaveLength(chosen.length + 1);
      expect(plugin.match(/\} catch \(\.\.\.\) \{\n {8}log_exception\("mq_/g) ?? []).toHaveLength(chosen.length);
    }

    // What CI runs: both presets with warnings as errors. verify then reuses both builds.
    for (const preset of ['default', 'sanitize']) {
      await inProject(project, 'cmake', '--preset', preset, '-DMAILERQ_PLUGIN_WERROR=ON');
      await inProject(project, 'cmake', '--build', '--preset', preset);
      const tested = await inProject(project, 'ctest', '--preset', preset);
      expect(tested, preset).toMatch(/100% tests passed, 0 tests failed out of 3/);
      expect(tested, preset).toMatch(/logic[ .]+Passed[\s\S]*load[ .]+Passed[\s\S]*exports[ .]+Passed/);
    }
    const compileCommands = readFileSync(join(project, 'build', 'compile_commands.json'), 'utf8');
    expect(compileCommands).toMatch(/-pedantic -Werror -std=(c11|c\+\+17)/);

    const { exitCode, report } = await verify(project);
    expect(exitCode, JSON.stringify(report, null, 2)).toBe(0);
    expect(report).toMatchObject({ kind: 'mailerq', ok: true, status: 'passed' });
    const names = report.steps.map((s: any) => s.name);
    expect(names.slice(0, 3)).toEqual(['build plugin', 'plugin tests', 'build reference host']);
    expect(names).toContain(`host: mq_version 50-${name}.so`);
    expect(names).toContain(`host (2 plugins): mq_version 20-${name}.so`);
    expect(report.steps.find((s: any) => s.name === 'callbacks in file-name order')).toMatchObject({ ok: true });
    // Then again, instrumented, in the host built with ASan and UBSan.
    expect(report.steps.find((s: any) => s.name === 'plugin tests (sanitizers)')).toMatchObject({ status: 'passed' });
    expect(report.steps.find((s: any) => s.name === 'host (sanitizers): leaks')).toMatchObject({ status: 'passed', detail: 'LeakSanitizer found none' });
    // The example of taking control and handing it back later, from a timer.
    if (chosen.includes('mq_smtp_in_mailfrom')) {
      expect(report.steps.find((s: any) => s.name === 'host (2 plugins): smtp in: mailfrom').detail).toMatch(/^10-\S+: MQ_continue after \d+ ms; 20-\S+: MQ_continue after \d+ ms$/);
    }
    // Connection data made on connect and freed on close: the leak check above passed with it.
    expect(plugin.includes('MQ_setConnectionData')).toBe(chosen.includes('mq_smtp_in_connect') && chosen.includes('mq_smtp_in_close'));

    const destdir = tempDir();
    await inProject(project, 'make', 'install', `DESTDIR=${destdir}`, 'PREFIX=/usr/local');
    expect(lstatSync(join(destdir, `/usr/local/lib/mailerq/plugins/50-${name}.so`)).isFile()).toBe(true);
    if (selection === undefined) {
      // The README's way to install elsewhere.
      await inProject(project, 'cmake', '-S', '.', '-B', 'build', '-DMAILERQ_PLUGIN_DIR=/var/lib/mailerq/plugins');
      await inProject(project, 'make', 'install', `DESTDIR=${destdir}`);
      expect(lstatSync(join(destdir, `/var/lib/mailerq/plugins/50-${name}.so`)).isFile()).toBe(true);
    }
  });
});

describe('export hygiene', () => {
  it('a C++ plugin using std templates still exports only the mq_* entry points', { timeout: LONG }, async () => {
    const project = await generate('templates', '--language', 'cpp', '--callbacks', 'mq_smtp_in_mailfrom');
    const path = join(project, 'src', 'plugin.cpp');
    const source = readFileSync(path, 'utf8')
      .replace('#include <string>', '#include <string>\n#include <vector>')
      .replace('        MQ_log(MQ_INFO, line.c_str());', '        std::vector<std::string> lines{line};\n        lines.push_back(line);\n        MQ_log(MQ_INFO, lines.back().c_str());');
    expect(source).toContain('std::vector<std::string> lines');
    writeFileSync(path, source);
    const { exitCode, report } = await verify(project);
    expect(exitCode, JSON.stringify(report.steps.filter((s: any) => !s.ok), null, 2)).toBe(0);
    expect(report.steps.find((s: any) => s.name === 'host: exports 50-templates.so').detail).toBe('exports: mq_smtp_in_mailfrom, mq_version');

    // An exception in a callback is caught there and logged; the callback returns its safe value (declines).
    writeFileSync(path, source.replace('#include <string>', '#include <stdexcept>\n#include <string>').replace('        std::vector<std::string> lines{line};', '        if (MQ_email(address) != nullptr)\n            throw std::runtime_error("lookup failed");\n        std::vector<std::string> lines{line};'));
    const thrown = await verify(project, '--no-sanitize');
    expect(thrown.exitCode, JSON.stringify(thrown.report.steps.filter((s: any) => !s.ok), null, 2)).toBe(0);
    expect(thrown.report.steps.find((s: any) => s.name === 'host: smtp in: mailfrom').detail).toBe('50-templates.so: declined');

    // A helper named like an entry point gets past the version script: the project's own exports test names it.
    writeFileSync(path, `${source}\nextern "C" MQ_EXPORT int mq_helper(void)\n{\n    return 1;\n}\n`);
    await inProject(project, 'cmake', '--build', 'build');
    const tested = await execa('ctest', ['--test-dir', 'build', '--output-on-failure'], { cwd: project, reject: false, all: true });
    expect(tested.exitCode).not.toBe(0);
    expect(tested.all).toMatch(/load[ .]+Passed/);
    expect(tested.all).toMatch(/exported, not listed: mq_helper\b/);
  });
});

describe('the generated README', () => {
  it('says where MAILERQ_PLUGIN_DIR installs, and what no prefix means', async () => {
    const readme = async (prefix: string) => {
      const files = await renderProject(mailerq, { name: 'grey', language: 'c', prefix, callbacks: [], description: 'd', author: 'a', license: 'MIT' });
      return files.find((f) => f.path === 'README.md')!.contents;
    };
    const numbered = await readme('10');
    expect(numbered).toContain('cmake -S . -B build -DMAILERQ_PLUGIN_DIR=/var/lib/mailerq/plugins');
    expect(numbered).toContain('The prefix `10` fixes this plugin\'s place');
    expect(await readme('')).toContain('This plugin has no prefix (the answer `none`): its file is plain `grey.so`');
  });
});

describe('the reference-host cache', () => {
  it('serves two cold verifies at once, and rebuilds a damaged host', { timeout: LONG }, async () => {
    await checkHostCache([await generate('cache-one'), await generate('cache-two')], 'mailerq-host', 'mq-ref-host');
  });
});

describe('where the sanitizers cannot run', () => {
  it('a compiler without sanitizer runtimes: the check is skipped, said so, and how to install them', { timeout: LONG }, async () => {
    const project = await generate('no-sanitizers');
    // A cc that refuses -fsanitize, as one without libasan does; a fresh host cache.
    const bin = tempDir();
    writeFileSync(join(bin, 'cc'), '#!/bin/sh\ncase "$*" in *-fsanitize*) echo "cannot find -lasan" >&2; exit 1;; esac\nexec /usr/bin/cc "$@"\n', { mode: 0o755 });
    const result = await cli(['verify', project, '--json'], { env: { PATH: `${bin}:${process.env.PATH}`, VSMTP_PLUGIN_CACHE: tempDir() } });
    const report = JSON.parse(result.stdout);
    expect(result.exitCode, JSON.stringify(report.steps, null, 2)).toBe(0);
    expect(report.steps.find((s: any) => s.name === 'build reference host (sanitizers)')).toMatchObject({ status: 'skipped', ok: false });
    expect(report.steps.find((s: any) => s.name === 'build reference host (sanitizers)').detail).toMatch(/cannot find -lasan.*apt-get install libasan8 libubsan1/s);
    expect(report.steps.some((s: any) => s.name.startsWith('host (sanitizers)'))).toBe(false);
    const text = await cli(['verify', project], { env: { PATH: `${bin}:${process.env.PATH}`, VSMTP_PLUGIN_CACHE: tempDir() } });
    expect(text.stdout + text.stderr).toMatch(/1 check skipped/);
  });

  it('LeakSanitizer not working (detect_leaks=0): the leak check is skipped, never passed', { timeout: LONG }, async () => {
    const project = await generate('no-leak-check');
    const result = await cli(['verify', project, '--json'], { env: { ASAN_OPTIONS: 'detect_leaks=0' } });
    const report = JSON.parse(result.stdout);
    expect(result.exitCode, JSON.stringify(report.steps, null, 2)).toBe(0);
    expect(report.steps.find((s: any) => s.name === 'host (sanitizers): leaks')).toMatchObject({ status: 'skipped' });
  });

  it('--no-sanitize leaves the sanitizer run out', { timeout: LONG }, async () => {
    const project = await generate('unsanitized');
    const { exitCode, report } = await verify(project, '--no-sanitize');
    expect(exitCode).toBe(0);
    expect(report.steps.some((s: any) => s.name.includes('sanitizers'))).toBe(false);
  });
});

describe('the header MailerQ installs', () => {
  it('is used instead of the stand-in when MAILERQ_INCLUDE_DIR points at it, and sets the API version', { timeout: LONG }, async () => {
    const project = await generate('real-header');
    const include = tempDir();
    const standIn = readFileSync(join(project, 'stand-in', 'mailerq.h'), 'utf8');
    const installed = standIn.replace(/#\s*define\s+MQ_API_VERSION\s+\d+/, '#define MQ_API_VERSION 42');
    expect(installed).not.toBe(standIn);
    writeFileSync(join(include, 'mailerq.h'), installed);
    const result = await cli(['verify', project, '--json'], { env: { MAILERQ_INCLUDE_DIR: include } });
    const report = JSON.parse(result.stdout);
    expect(result.exitCode, JSON.stringify(report, null, 2)).toBe(0);
    expect(report.steps.find((s: any) => s.name === 'host: mq_version 50-real-header.so').detail).toBe('returned 42');
    expect(readFileSync(join(project, 'build', 'CMakeCache.txt'), 'utf8')).toContain(`MAILERQ_INCLUDE_DIR:PATH=${include}`);
  });
});

describe('verify refuses a plugin that breaks MailerQ\'s rules', () => {
  const edit = (project: string, file: string, from: string | RegExp, to: string) => {
    const path = join(project, 'src', file);
    const text = readFileSync(path, 'utf8');
    const changed = text.replace(from, to);
    expect(changed, `${file} has ${from}`).not.toBe(text);
    writeFileSync(path, changed);
  };

  it('mq_version returning another value', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('wrong-version');
    edit(project, 'plugin.c', 'return MQ_API_VERSION;', 'return MQ_API_VERSION + 6;');
    const { exitCode, report } = await verify(project);
    expect(exitCode).toBe(1);
    // The project's own load test sees it first, then the host refuses the module.
    expect(report.steps.find((s: any) => s.status === 'failed')).toMatchObject({ name: 'plugin tests', detail: expect.stringMatching(/mq_version\(\) returned 7, MQ_API_VERSION is 1/) });
    const bare = await verify(join(project, 'build', '50-wrong-version.so'));
    expect(bare.exitCode).toBe(1);
    expect(bare.report.cause).toMatch(/mq_version\(\) returned 7, this MailerQ expects 1/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('a callback that takes control and never hands it back', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('holds-control', '--callbacks', 'mq_smtp_in_mailfrom');
    edit(project, 'plugin.c', '    MQ_continue(conn);\n', '');
    const { exitCode, report } = await verify(project);
    expect(exitCode).toBe(1);
    expect(report.cause).toMatch(/mq_smtp_in_mailfrom returned true but never called MQ_continue, MQ_complete or MQ_retry/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('a callback that never returns: killed at the time limit, named', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('hangs', '--callbacks', 'mq_smtp_in_connect');
    edit(project, 'plugin.c', /return false;(?![\s\S]*return false;)/, 'for (;;) {\n    }');
    const { exitCode, report } = await verify(project, '--timeout', '3');
    expect(exitCode).toBe(1);
    expect(report.steps.at(-1)).toMatchObject({ name: 'host: smtp in: connect', status: 'failed' });
    expect(report.steps.at(-1).detail).toMatch(/^timed out after 3 s/);
    expect(report.cause).toMatch(/never returns .* "smtp in: connect"/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('a misspelled callback: exported, but MailerQ never calls it', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('misspelled', '--callbacks', 'mq_smtp_in_mailfrom');
    edit(project, 'plugin.c', 'MQ_EXPORT bool mq_smtp_in_mailfrom(', 'MQ_EXPORT bool mq_smtp_in_mailfrm(');
    const { exitCode, report } = await verify(project);
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(1);
    // The project's own exports test sees it first, then the host refuses the module.
    expect(report.steps.find((s: any) => s.status === 'failed')).toMatchObject({ name: 'plugin tests', detail: expect.stringMatching(/exported, not listed: mq_smtp_in_mailfrm\n\s*listed, not exported: mq_smtp_in_mailfrom/) });
    const bare = await verify(join(project, 'build', '50-misspelled.so'));
    expect(bare.report.steps.find((s: any) => s.status === 'failed')).toMatchObject({ name: 'host: exports 50-misspelled.so' });
    expect(bare.report.cause).toMatch(/mq_smtp_in_mailfrm is no MailerQ entry point \(misspelled\?\), so MailerQ never calls it/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('a short sleep in a callback (30 ms): blocking the event loop whatever it lasts', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('naps', '--callbacks', 'mq_smtp_in_mailfrom');
    edit(project, 'plugin.c', '#include <mailerq.h>', '#include <mailerq.h>\n#include <time.h>');
    edit(project, 'plugin.c', '    return MQ_startTimer(', '    nanosleep(&(struct timespec){ .tv_nsec = 30 * 1000 * 1000 }, NULL);\n    return MQ_startTimer(');
    const { exitCode, report } = await verify(project);
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(1);
    expect(report.cause).toMatch(/blocks: mq_smtp_in_mailfrom called nanosleep\(\) on MailerQ's event loop/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('a thread started in mq_initialize and left running after mq_cleanup', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('threads', '--callbacks', 'mq_initialize');
    edit(project, 'plugin.c', '#include <mailerq.h>', '#include <mailerq.h>\n#include <pthread.h>\n#include <unistd.h>\n\nstatic void *work(void *unused)\n{\n    for (;;)\n        sleep(1);\n    return unused;\n}');
    edit(project, 'plugin.c', '    MQ_log(MQ_INFO, "threads: loaded");', '    pthread_t worker;\n    pthread_create(&worker, NULL, work, NULL);');
    const { exitCode, report } = await verify(project);
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(1);
    expect(report.steps.find((s: any) => s.status === 'failed')).toMatchObject({ name: 'host: threads after mq_cleanup' });
    expect(report.cause).toMatch(/1 thread a plugin started still running after mq_cleanup/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  /**
   * verify fails at `step` of the sanitized run, and its cause names the mistake. Unless
   * `crashes`, the Release build passed the plain host: only the sanitizers see it.
   */
  async function sanitizerVerdict(project: string, step: string, cause: RegExp, crashes?: string) {
    const { exitCode, report } = await verify(project);
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(1);
    const failed = report.steps.filter((s: any) => s.status === 'failed').map((s: any) => s.name);
    expect(failed).toEqual([...(crashes ? [`host: ${crashes}`] : []), `host (sanitizers): ${step}`]);
    expect(report.cause).toMatch(cause);
  }

  it('connection data allocated on connect and never freed: a leak, named where it was allocated', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('leaks', '--callbacks', 'mq_smtp_in_connect');
    edit(project, 'plugin.c', '#include <mailerq.h>', '#include <mailerq.h>\n#include <stdlib.h>');
    edit(project, 'plugin.c', '    (void)conn;\n    return false;', '    MQ_setConnectionData(conn, malloc(32));\n    return false;');
    await sanitizerVerdict(project, 'leaks', /^LeakSanitizer: 32 bytes in 1 object never freed, allocated in mq_smtp_in_connect \(plugin\.c:\d+\)$/);
    count('plugin faults: mailerq', { handled: 1 });

    // The built .so alone (not instrumented) still shows the leak.
    const { exitCode, report } = await verify(join(project, 'build', '50-leaks.so'));
    expect(exitCode, JSON.stringify(report.steps, null, 2)).toBe(1);
    expect(report.steps.find((s: any) => s.name === 'build plugin (sanitizers)')).toMatchObject({ status: 'skipped' });
    expect(report.cause).toMatch(/^LeakSanitizer: 32 bytes in 1 object never freed, allocated in mq_smtp_in_connect \(50-leaks\.so\+0x[0-9a-f]+\)$/);
  });

  it('the generated connection data, not freed in mq_smtp_in_close: a leak', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('keeps', '--callbacks', 'mq_smtp_in_connect,mq_smtp_in_close');
    edit(project, 'plugin.c', '    free(state);\n', '');
    await sanitizerVerdict(project, 'leaks', /^LeakSanitizer: 46 bytes in 1 object never freed, allocated in mq_smtp_in_connect \(plugin\.c:\d+\)$/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('a buffer overflow on the stack', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('overflows', '--callbacks', 'mq_smtp_in_connect');
    edit(project, 'plugin.c', '#include <mailerq.h>', '#include <mailerq.h>\n#include <string.h>');
    edit(project, 'plugin.c', '    (void)conn;\n    return false;', '    (void)conn;\n    char name[4];\n    memset(name, 0, sizeof name + (ctx != NULL));\n    MQ_log(MQ_INFO, name);\n    return false;');
    await sanitizerVerdict(project, 'smtp in: connect', /^AddressSanitizer: stack-buffer-overflow, WRITE of size 5 in mq_smtp_in_connect \(plugin\.c:\d+\)$/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('memory used after it was freed (C++)', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('after-free', '--language', 'cpp', '--callbacks', 'mq_smtp_in_mailfrom');
    edit(project, 'plugin.cpp', '        MQ_log(MQ_INFO, line.c_str());', '        static int *seen;\n        seen = new int(1);\n        delete seen;\n        MQ_log(MQ_INFO, *seen > 0 ? line.c_str() : "none");');
    await sanitizerVerdict(project, 'smtp in: mailfrom', /^AddressSanitizer: heap-use-after-free, READ of size 4 in mq_smtp_in_mailfrom \(plugin\.cpp:\d+\); freed in mq_smtp_in_mailfrom \(plugin\.cpp:\d+\); previously allocated in mq_smtp_in_mailfrom \(plugin\.cpp:\d+\)$/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('a null pointer read: the crash explained, where it happened', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('null-read', '--callbacks', 'mq_smtp_in_connect');
    edit(project, 'plugin.c', '    (void)conn;\n    return false;', '    const char *name = conn == NULL ? "none" : NULL;\n    MQ_log(MQ_INFO, name[0] == 0 ? "empty" : name);\n    return false;');
    // The Release build crashes in the plain host; the sanitized run says where.
    await sanitizerVerdict(project, 'smtp in: connect', /^UndefinedBehaviorSanitizer: load of null pointer of type 'const char' in mq_smtp_in_connect \(plugin\.c:\d+\)$/, 'smtp in: connect');
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('undefined behaviour (a shift past the width of int)', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('undefined', '--callbacks', 'mq_smtp_in_connect');
    edit(project, 'plugin.c', '    (void)conn;\n    return false;', '    int shift = 40 + (int)((size_t)conn % 2);\n    MQ_log(MQ_INFO, (1 << shift) > 1 ? "more" : "less");\n    return false;');
    await sanitizerVerdict(project, 'smtp in: connect', /^UndefinedBehaviorSanitizer: shift exponent 4\d is too large for 32-bit type 'int' in mq_smtp_in_connect \(plugin\.c:\d+\)$/);
    count('plugin faults: mailerq', { handled: 1 });
  });

  it('a plugin crashing in mq_initialize', { timeout: LONG }, async () => {
    count('plugin faults: mailerq', { injected: 1 });
    const project = await generate('crashes', '--callbacks', 'mq_initialize');
    edit(project, 'plugin.c', '    MQ_log(MQ_INFO, "crashes: loaded");', '    raise(SIGSEGV);');
    edit(project, 'plugin.c', '#include <mailerq.h>', '#include <mailerq.h>\n#include <signal.h>');
    const { exitCode, report } = await verify(project);
    expect(exitCode).toBe(1);
    expect(report.steps.find((s: any) => s.status === 'failed')).toMatchObject({ name: 'host: mq_initialize 50-crashes.so' });
    expect(report.steps.find((s: any) => s.status === 'failed').detail).toMatch(/^crashed with SIGSEGV/);
    // The sanitized run names the function it happened in.
    expect(report.cause).toMatch(/^AddressSanitizer: SEGV in mq_initialize \(plugin\.c:\d+\)/);
    count('plugin faults: mailerq', { handled: 1 });
  });
});
