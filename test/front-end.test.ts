// The command line as a new user meets it, through the real bin with no TTY: strict
// parsing, help, version, suggestions, next steps, in-place generation, modes, git,
// answers files and --force that keeps the author's work.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { bin, cli, root, snapshot, tempDir } from './helpers.js';

const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

describe('parsing the command line', () => {
  it('an option missing its value is refused, not fed the next option', async () => {
    const dir = tempDir();
    const result = await cli(['new', 'mailerq', join(dir, 'd'), '--yes', '--description', '--dry-run']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--description needs a value, not the option that follows it/);
    expect(snapshot(dir)).toEqual([]);
  });

  it('short aliases: -y (yes), -n (dry run), -f (force)', async () => {
    const dir = join(tempDir(), 'd');
    const dry = await cli(['new', 'mailerq', dir, '-y', '-n', '--json']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true });
    expect(existsSync(dir)).toBe(false);
    expect((await cli(['new', 'mailerq', dir, '-y', '--no-git'])).exitCode).toBe(0);
    expect((await cli(['new', 'mailerq', dir, '-y', '--no-git'])).exitCode).toBe(2);
    expect((await cli(['new', 'mailerq', dir, '-y', '-f', '--no-git'])).exitCode).toBe(0);
  });

  it('extra positionals are refused; doctor and list take a kind', async () => {
    const dir = tempDir();
    const extra = await cli(['new', 'mailerq', join(dir, 'a'), join(dir, 'b'), '-y']);
    expect(extra.exitCode).toBe(2);
    expect(extra.stderr).toMatch(/unexpected argument ".*b"/);
    expect(snapshot(dir)).toEqual([]);
    const doctor = await cli(['doctor', 'mailerq', '--json']);
    expect(JSON.parse(doctor.stdout).kinds.map((k: any) => k.kind)).toEqual(['mailerq']);
    const list = await cli(['list', 'vpl', '--json']);
    expect(JSON.parse(list.stdout).kinds.map((k: any) => k.id)).toEqual(['vpl']);
    expect((await cli(['doctor', 'mailerq', 'vpl'])).exitCode).toBe(2);
  });

  it('yes/no questions take --x and --no-x, and say so when given a value', async () => {
    const dir = tempDir();
    const off = await cli(['new', 'vpl', join(dir, 'p'), '-y', '-n', '--no-destructor', '--json']);
    expect(JSON.parse(off.stdout).answers.destructor).toBe(false);
    const on = await cli(['new', 'vpl', join(dir, 'p'), '-y', '-n', '--destructor', '--json']);
    expect(JSON.parse(on.stdout).answers.destructor).toBe(true);
    const valued = await cli(['new', 'vpl', join(dir, 'p'), '-y', '--destructor', 'false']);
    expect(valued.exitCode).toBe(2);
    expect(valued.stderr).toMatch(/unexpected argument "false" \(a yes\/no option takes no value: write --<option> or --no-<option>\)/);
    expect((await cli(['new', 'vpl', join(dir, 'p'), '-y', '--destructor=false'])).stderr).toMatch(/--destructor takes no value: write --destructor or --no-destructor/);
    expect((await cli(['new', 'vpl', join(dir, 'p'), '-y', '--no-name'])).stderr).toMatch(/--name takes a value/);
  });

  it('--version and -V print the version', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await cli([flag]);
      expect(result.exitCode).toBe(0);
      expect(result.stdout.trim()).toBe(version);
    }
  });

  it('-h/--help on every command, and per kind with defaults and choices', async () => {
    for (const args of [['--help'], ['-h'], ['new', '--help'], ['verify', '--help'], ['list', '-h'], ['doctor', '--help']]) {
      const result = await cli(args);
      expect(result.exitCode, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/Usage/);
    }
    const kind = await cli(['new', 'vsmtp', '--help']);
    expect(kind.stdout).toMatch(/Usage: vsmtp-plugin new vsmtp <directory>/);
    expect(kind.stdout).toMatch(/--profile <choice>\n.*\n\s+\(default: "vsmtp-2"; one of: vsmtp-2, vsmtp-3, current\)/);
    expect(kind.stdout).toMatch(/--name <text>\n.*\n\s+\(default: the directory name without vsmtp-plugin-, when valid\)/);
    expect(kind.stdout).toMatch(/-y, --yes/);
    expect((await cli(['verify', '--help'])).stdout).toMatch(/--sanitize \| --no-sanitize/);
  });

  it('unknown kinds, options and commands get a suggestion', async () => {
    const dir = tempDir();
    expect((await cli(['new', 'mailer', join(dir, 'p')])).stderr).toMatch(/unknown kind "mailer"; did you mean mailerq\?/);
    const option = await cli(['new', 'mailerq', join(dir, 'p'), '--lanugage', 'cpp']);
    expect(option.exitCode).toBe(2);
    expect(option.stderr).toMatch(/unknown option --lanugage; did you mean --language\?/);
    expect((await cli(['lst'])).stderr).toMatch(/unknown command "lst"; did you mean list\?/);
    // An option of another kind is unknown to this one.
    expect((await cli(['new', 'mailerq', join(dir, 'p'), '--profile', 'vsmtp-2', '-y'])).stderr).toMatch(/unknown option --profile/);
    expect(snapshot(dir)).toEqual([]);
  });

  it('without a TTY, new names what is missing', async () => {
    const none = await cli(['new']);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/new needs a kind \(vsmtp, mailerq, lgc, vpl\) and a directory/);
    const kindOnly = await cli(['new', 'mailerq']);
    expect(kindOnly.exitCode).toBe(2);
    expect(kindOnly.stderr).toMatch(/new needs a directory: vsmtp-plugin new mailerq <directory>/);
  });

  it('an I/O failure is exit 2 with the path and the cause', async () => {
    const proc = await cli(['new', 'vpl', '/proc/vsmtp-plugin-test/p', '-y']);
    expect(proc.exitCode).toBe(2);
    expect(proc.stderr).toMatch(/^vsmtp-plugin: cannot create the directory \/proc\/vsmtp-plugin-test: no such file or directory$/);
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    const under = await cli(['new', 'vpl', join(file, 'p'), '-y']);
    expect(under.exitCode).toBe(2);
    expect(under.stderr).toMatch(/is a file, not a directory/);
  });

  it('prints what to do next; --json carries it', async () => {
    const dir = tempDir();
    const text = await cli(['new', 'mailerq', 'next', '-y', '--no-git'], { cwd: dir });
    expect(text.stdout).toMatch(/Next:\n {2}cd next\n {2}make\n {2}make test\n {2}vsmtp-plugin verify$/);
    const json = await cli(['new', 'vsmtp', 'p2', '-y', '--json', '--no-git'], { cwd: dir });
    expect(JSON.parse(json.stdout).next).toEqual(['cd p2', 'cargo build --release --locked', 'cargo test --locked', 'vsmtp-plugin verify']);
    mkdirSync(join(dir, 'here'));
    const here = await cli(['new', 'vpl', '.', '-y', '--json', '--no-git'], { cwd: join(dir, 'here') });
    expect(JSON.parse(here.stdout).next).toEqual(['make', 'vsmtp-plugin verify']);
  });

  it('list --json says how a computed default is derived instead of a made-up value', async () => {
    const kinds = JSON.parse((await cli(['list', '--json'])).stdout).kinds;
    const name = kinds.find((k: any) => k.id === 'mailerq').questions.find((q: any) => q.name === 'name');
    expect(name).not.toHaveProperty('default');
    expect(name.derived).toBe('the directory name without mailerq-plugin-, when valid');
    expect(JSON.stringify(kinds)).not.toContain('(derived)');
  });
});

describe('writing the project', () => {
  it('fills an existing empty directory in place: same directory, modes from the umask', async () => {
    const dir = join(tempDir(), 'here');
    mkdirSync(dir, { mode: 0o755 });
    const before = statSync(dir).ino;
    const result = await cli(['new', 'mailerq', '.', '-y', '--no-git'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(statSync(dir).ino).toBe(before);
    const umask = process.umask();
    expect(statSync(join(dir, 'src')).mode & 0o777).toBe(0o777 & ~umask);
    expect(statSync(join(dir, 'src', 'plugin.c')).mode & 0o777).toBe(0o666 & ~umask);
  });

  it('a new directory gets the umask\'s mode too (not 0700)', async () => {
    const dir = join(tempDir(), 'fresh');
    expect((await cli(['new', 'vpl', dir, '-y', '--no-git'])).exitCode).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o777 & ~process.umask());
  });

  it('a directory holding only .git counts as empty', async () => {
    const dir = join(tempDir(), 'repo');
    mkdirSync(dir);
    execFileSync('git', ['init', '-q'], { cwd: dir });
    const result = await cli(['new', 'vpl', dir, '-y', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).git).toBe('not initialized: already inside a git work tree');
  });

  it('git init and one commit by default; --no-git skips; no identity: init only, and said so', async () => {
    const dir = tempDir();
    const made = JSON.parse((await cli(['new', 'vpl', join(dir, 'a'), '-y', '--json', '--author', 'A'], { env: { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.org' } })).stdout);
    expect(made.git).toBe('initialized, generated files committed');
    const tracked = execFileSync('git', ['ls-files'], { cwd: join(dir, 'a'), encoding: 'utf8' }).trim().split('\n').sort();
    expect(tracked).toEqual([...made.files].sort());
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: join(dir, 'a'), encoding: 'utf8' })).toBe('');

    const skipped = JSON.parse((await cli(['new', 'vpl', join(dir, 'b'), '-y', '--json', '--no-git'])).stdout);
    expect(skipped.git).toBe('not initialized: --no-git');
    expect(existsSync(join(dir, 'b', '.git'))).toBe(false);

    const nobody = { HOME: tempDir(), GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', EMAIL: '', GIT_AUTHOR_NAME: '', GIT_COMMITTER_NAME: '' };
    const anonymous = JSON.parse((await cli(['new', 'vpl', join(dir, 'c'), '-y', '--json', '--author', 'A'], { env: nobody })).stdout);
    expect(anonymous.git).toBe('initialized, not committed: git has no identity (set user.name and user.email, then commit)');
    expect(existsSync(join(dir, 'c', '.git'))).toBe(true);
  });

  it('--answers FILE (plain or .yo-rc.json) answers; options override it; a recorded .yo-rc.json gives the defaults', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'plain.json'), JSON.stringify({ name: 'from-file', language: 'cpp', prefix: 'none' }));
    const plain = JSON.parse((await cli(['new', 'mailerq', join(dir, 'p'), '-y', '-n', '--json', '--answers', join(dir, 'plain.json'), '--language', 'c'])).stdout);
    expect(plain.answers).toMatchObject({ name: 'from-file', language: 'c', prefix: '' });
    expect(plain.files).toContain('src/plugin.c');

    const first = JSON.parse((await cli(['new', 'mailerq', join(dir, 'q'), '-y', '--json', '--no-git', '--language', 'cpp', '--prefix', '20'])).stdout);
    const record = join(dir, 'q', '.yo-rc.json');
    const replay = JSON.parse((await cli(['new', 'mailerq', join(dir, 'r'), '-y', '-n', '--json', '--answers', record])).stdout);
    expect(replay.answers).toEqual({ ...first.answers, name: 'q' });
    // Re-run in the same directory: the recorded answers are the defaults.
    const again = JSON.parse((await cli(['new', 'mailerq', join(dir, 'q'), '-y', '-n', '--json'])).stdout);
    expect(again.answers).toMatchObject({ language: 'cpp', prefix: '20' });

    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ nmae: 'x' }));
    const typo = await cli(['new', 'mailerq', join(dir, 's'), '-y', '--answers', join(dir, 'typo.json')]);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toMatch(/--answers: .*typo.json answers "nmae", which mailerq does not ask; did you mean name\?/);
  });

  it('--force replaces only what the generator wrote: edits stay, the old variant\'s files go', async () => {
    const dir = join(tempDir(), 'p');
    expect((await cli(['new', 'mailerq', dir, '-y', '--no-git'])).exitCode).toBe(0);
    writeFileSync(join(dir, 'src', 'logic.c'), `${readFileSync(join(dir, 'src', 'logic.c'), 'utf8')}\n/* mine */\n`);
    writeFileSync(join(dir, 'NOTES.md'), 'mine\n');
    const result = await cli(['new', 'mailerq', dir, '-y', '-f', '--no-git', '--language', 'cpp', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.removed).toEqual(['src/plugin.c', 'tests/test_load.c', 'tests/test_logic.c']);
    expect(report.kept).toEqual(['src/logic.c']);
    expect(existsSync(join(dir, 'src', 'plugin.c'))).toBe(false);
    expect(existsSync(join(dir, 'src', 'plugin.cpp'))).toBe(true);
    expect(readFileSync(join(dir, 'src', 'logic.c'), 'utf8')).toContain('/* mine */');
    expect(readFileSync(join(dir, 'NOTES.md'), 'utf8')).toBe('mine\n');
  });
});

describe('verify', () => {
  it('refuses with exit 3 off Linux, naming the platform; new works there', async () => {
    const darwin = ['--import', 'data:text/javascript,Object.defineProperty(process,"platform",{value:"darwin"})', bin];
    const dir = join(tempDir(), 'p');
    const made = await execa(process.execPath, [...darwin, 'new', 'vpl', dir, '-y', '--no-git'], { reject: false, stdin: 'ignore' });
    expect(made.exitCode, made.stderr).toBe(0);
    const checked = await execa(process.execPath, [...darwin, 'verify', dir, '--json'], { reject: false, stdin: 'ignore' });
    expect(checked.exitCode).toBe(3);
    expect(JSON.parse(checked.stdout).cause).toMatch(/^verify runs on Linux only .*; this is darwin\. `new` works here/);
  });

  it('finds the project from a subfolder, as cargo and git do', async () => {
    const dir = join(tempDir(), 'p');
    expect((await cli(['new', 'mailerq', dir, '-y', '--no-git'])).exitCode).toBe(0);
    // No cmake on PATH: a quick, skipped verify that still shows which project it found.
    const result = await execa(process.execPath, [bin, 'verify', join(dir, 'src'), '--json'], { env: { PATH: '/nonexistent' }, extendEnv: false, reject: false, stdin: 'ignore' });
    expect(result.exitCode).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: 'mailerq', status: 'skipped' });
  });
});

describe('doctor', () => {
  /** A PATH holding only the named commands (symlinks to the machine's), as on a C-only machine. */
  function pathWith(...commands: string[]): string {
    const dir = tempDir();
    for (const command of commands) {
      const real = execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
      symlinkSync(real, join(dir, command));
    }
    return dir;
  }

  it('a machine with only a C toolchain: mailerq ready, vsmtp not; exit 3 only when the kind asked for is not ready', async () => {
    const env = { PATH: pathWith('cc', 'c++', 'cmake', 'make') };
    const run = (...args: string[]) => execa(process.execPath, [bin, 'doctor', ...args, '--json'], { env, extendEnv: false, reject: false, stdin: 'ignore' });
    const all = await run();
    expect(all.exitCode).toBe(0);
    const kinds = JSON.parse(all.stdout).kinds;
    expect(kinds.find((k: any) => k.kind === 'mailerq').ready).toBe(true);
    expect(kinds.find((k: any) => k.kind === 'vsmtp')).toMatchObject({ ready: false, tools: expect.arrayContaining([expect.objectContaining({ command: 'cargo', found: false })]) });
    expect((await run('mailerq')).exitCode).toBe(0);
    expect((await run('vsmtp')).exitCode).toBe(3);
    const none = await execa(process.execPath, [bin, 'doctor'], { env: { PATH: pathWith() }, extendEnv: false, reject: false, stdin: 'ignore' });
    expect(none.exitCode).toBe(3);
    expect(none.stdout).toMatch(/^mailerq: NOT READY: missing cmake, cc, c\+\+$/m);
  });

  it('checks clippy and rustfmt for vsmtp, and leaves the network alone unless --online', async () => {
    const result = await cli(['doctor', '--json']);
    const report = JSON.parse(result.stdout);
    const vsmtp = report.kinds.find((k: any) => k.kind === 'vsmtp');
    expect(vsmtp.tools.map((t: any) => t.label ?? t.command)).toEqual(['cargo', 'rustc', 'clippy', 'rustfmt']);
    const componentize = report.kinds.find((k: any) => k.kind === 'lgc').tools.find((t: any) => t.label?.startsWith('componentize-py'));
    // Not asked offline: neither found nor missing.
    expect(componentize.found).toBeNull();
  });
});
