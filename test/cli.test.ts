import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { bin, cli, snapshot, tempDir } from './helpers.js';
import { count } from './reliability.js';

describe('vsmtp-plugin CLI (no TTY)', () => {
  it('lists kinds and their questions as JSON', async () => {
    const result = await cli(['list', '--json']);
    expect(result.exitCode).toBe(0);
    const listing = JSON.parse(result.stdout);
    const vsmtp = listing.kinds.find((k: any) => k.id === 'vsmtp');
    expect(vsmtp.questions.map((q: any) => q.name)).toEqual(['name', 'description', 'author', 'license', 'profile', 'seed']);
    expect(vsmtp.questions.find((q: any) => q.name === 'profile')).toMatchObject({ type: 'choice', default: 'vsmtp-2', choices: ['vsmtp-2', 'vsmtp-3', 'current'] });
  });

  it('doctor reports each tool with its version', async () => {
    const result = await cli(['doctor', '--json']);
    const report = JSON.parse(result.stdout);
    const cargo = report.kinds.find((k: any) => k.kind === 'vsmtp').tools.find((t: any) => t.command === 'cargo');
    expect(cargo).toMatchObject({ found: true });
    expect(cargo.version).toMatch(/^cargo \d+\.\d+/);
    expect(result.exitCode).toBe(report.ok ? 0 : 3);
  });

  it('doctor and verify report a missing toolchain as skipped with exit 3', async () => {
    count('missing toolchains', { injected: 1 });
    const dir = tempDir();
    expect((await cli(['new', 'vsmtp', join(dir, 'p'), '--name', 'p', '--yes'])).exitCode).toBe(0);
    // A PATH with no cargo: node is called by its absolute path.
    const withoutRust = (args: string[]) =>
      execa(process.execPath, [bin, ...args], { env: { PATH: '/nonexistent' }, extendEnv: false, reject: false, stdin: 'ignore' });
    const doctor = await withoutRust(['doctor', 'vsmtp', '--json']);
    expect(doctor.exitCode).toBe(3);
    expect(JSON.parse(doctor.stdout).kinds[0].tools[0]).toMatchObject({ command: 'cargo', found: false, install: expect.stringContaining('rustup') });
    const verify = await withoutRust(['verify', join(dir, 'p'), '--json']);
    expect(verify.exitCode).toBe(3);
    const report = JSON.parse(verify.stdout);
    expect(report).toMatchObject({ ok: false, status: 'skipped', steps: [{ name: 'toolchain', status: 'skipped', ok: false }] });
    expect(report.cause).toMatch(/cargo not found .*install it: install Rust with rustup/);
    count('missing toolchains', { handled: 1 });
  });

  it('componentize-py failing to install: verify and doctor name it with exit 3', { timeout: 5 * 60_000 }, async () => {
    count('missing toolchains', { injected: 1 });
    const project = join(tempDir(), 'offline');
    expect((await cli(['new', 'lgc', project, '--name', 'offline', '--yes', '--author', 'A'])).exitCode).toBe(0);
    // pip with no index to install from, as on a machine cut off from PyPI, and a
    // cache without the venv other tests made.
    const env = { PIP_NO_INDEX: '1', PIP_FIND_LINKS: '', VSMTP_PLUGIN_CACHE: tempDir() };
    const verify = await cli(['verify', project, '--json'], { env });
    expect(verify.exitCode, verify.stdout).toBe(3);
    const report = JSON.parse(verify.stdout);
    expect(report).toMatchObject({ ok: false, status: 'skipped' });
    expect(report.cause).toMatch(/^componentize-py not found \(the pinned tools did not install: `make venv` failed \(exit 2\):[\s\S]*install it: cd .*offline && make venv$/);
    const doctor = await cli(['doctor', 'lgc', '--online', '--json'], { env });
    expect(doctor.exitCode).toBe(3);
    const lgc = JSON.parse(doctor.stdout).kinds.find((k: any) => k.kind === 'lgc');
    expect(lgc.tools.find((t: any) => t.label?.startsWith('componentize-py'))).toMatchObject({ found: false, install: expect.stringContaining('PIP_INDEX_URL') });
    count('missing toolchains', { handled: 1 });
  });

  it.each([
    ['lgc', 'python3', /python3 not found .*install it: apt-get install python3/],
    ['mailerq', 'cmake', /cmake not found .*install it: apt-get install cmake/],
    ['vpl', 'python3', /python3 not found/],
  ])('verify of a %s project without %s is skipped with exit 3 and how to install it', async (kind, _, message) => {
    const dir = tempDir();
    expect((await cli(['new', kind, join(dir, 'p'), '--name', 'p', '--yes'])).exitCode).toBe(0);
    const verify = await execa(process.execPath, [bin, 'verify', join(dir, 'p'), '--json'], { env: { PATH: '/nonexistent' }, extendEnv: false, reject: false, stdin: 'ignore' });
    expect(verify.exitCode).toBe(3);
    const report = JSON.parse(verify.stdout);
    expect(report).toMatchObject({ kind, ok: false, status: 'skipped' });
    expect(report.cause).toMatch(message);
  });

  it('generates with --yes, taking the name from the directory, and records the answers', async () => {
    const dir = tempDir();
    const result = await cli(['new', 'vsmtp', join(dir, 'vsmtp-plugin-geoip'), '--yes', '--author', 'CI', '--json']);
    expect(result.exitCode).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.answers.name).toBe('geoip');
    const record = JSON.parse(readFileSync(join(dir, 'vsmtp-plugin-geoip', '.yo-rc.json'), 'utf8'));
    expect(record['generator-vsmtp-plugin']).toEqual({ kind: 'vsmtp', answers: out.answers });
  });

  it('without a TTY, a missing answer with no default is an error naming the option', async () => {
    const dir = tempDir();
    const result = await cli(['new', 'vsmtp', join(dir, 'Not A Name')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--name: the directory name "Not A Name" gives no valid name: "Not A Name" must be lowercase kebab-case.*; pass --name/);
    expect(snapshot(dir)).toEqual([]);
  });

  it('refuses a bad answer with exit 2, naming the field and the rule, writing nothing', async () => {
    const dir = tempDir();
    const result = await cli(['new', 'vsmtp', join(dir, 'p'), '--name', 'p', '--seed', '1,2,3']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--seed: must be four unsigned 64-bit integers');
    expect(snapshot(dir)).toEqual([]);
  });

  it('refuses unknown options and kinds with exit 2', async () => {
    const dir = tempDir();
    expect((await cli(['new', 'vsmtp', join(dir, 'p'), '--nme', 'x'])).stderr).toMatch(/unknown option --nme/);
    const kind = await cli(['new', 'postfix', join(dir, 'p')]);
    expect(kind.exitCode).toBe(2);
    expect(kind.stderr).toMatch(/unknown kind "postfix" \(kinds: vsmtp, mailerq, lgc, vpl\)/);
    expect(snapshot(dir)).toEqual([]);
  });

  it('refuses a non-empty destination without --force, and keeps other files with it', async () => {
    const dir = tempDir();
    const dest = join(dir, 'p');
    mkdirSync(dest);
    writeFileSync(join(dest, 'notes.txt'), 'mine');
    const before = snapshot(dir);
    const refused = await cli(['new', 'vsmtp', dest, '--name', 'p', '--yes']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('exists and is not empty; use --force');
    expect(snapshot(dir)).toEqual(before);
    const forced = await cli(['new', 'vsmtp', dest, '--name', 'p', '--yes', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(join(dest, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dest, 'src', 'lib.rs'))).toBe(true);
  });

  it('--dry-run lists the files and writes nothing', async () => {
    const dir = tempDir();
    const before = snapshot(dir);
    const result = await cli(['new', 'vsmtp', join(dir, 'p'), '--name', 'p', '--yes', '--dry-run', '--json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).files).toContain('src/lib.rs');
    expect(snapshot(dir)).toEqual(before);
  });

  it("keeps V8's code cache of the CLI in the tool's cache, made again when damaged", async () => {
    const cache = tempDir();
    const env = { VSMTP_PLUGIN_CACHE: cache };
    const store = join(cache, 'node-code');
    expect((await cli(['--version'], { env })).exitCode).toBe(0);
    const [name] = readdirSync(store);
    expect(name).toMatch(/^cli-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+\.bin$/);
    expect(statSync(join(store, name!)).size).toBeGreaterThan(10_000);
    // Damaged, beside another build's: V8 refuses it, the command runs, and the cache is made again.
    writeFileSync(join(store, name!), 'damaged');
    writeFileSync(join(store, 'cli-0000000000000000-v0.0.0-x64.bin'), "an older build's");
    const project = join(tempDir(), 'cached');
    const created = await cli(['new', 'vpl', project, '--yes', '--no-git'], { env });
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stderr).toBe('');
    expect(readdirSync(store)).toEqual([name]);
    expect(readFileSync(join(store, name!), 'utf8')).not.toBe('damaged');
    // From the accepted cache, the CLI's lazy imports still load (update's diff library).
    writeFileSync(join(project, 'README.md'), 'mine\n', { flag: 'a' });
    const update = await cli(['update', '--dry-run'], { cwd: project, env });
    expect(update.exitCode, update.stderr).toBe(0);
    expect(update.stdout).toContain('kept     README.md');
    // A cache that cannot be written only costs time.
    const blocked = join(tempDir(), 'a-file');
    writeFileSync(blocked, '');
    const uncached = await cli(['new', 'vpl', join(tempDir(), 'uncached'), '--yes', '--no-git'], { env: { VSMTP_PLUGIN_CACHE: blocked } });
    expect(uncached.exitCode, uncached.stderr).toBe(0);
  });

  it('verify refuses a path that is neither a project nor an artifact', async () => {
    const dir = tempDir();
    const result = await cli(['verify', dir, '--json']);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout).error).toMatch(/is not in a generated plugin project/);
  });
});
