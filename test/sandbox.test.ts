// Verify confines the native code it loads. Hostile plugins (test/fixtures/hostile.c,
// built here for each native kind) each try one thing; verify must not pass, and the
// thing must not happen: no secret copied, no connection, no file written, no 10,000
// children, no 20 GiB, no endless spin, nothing left running afterwards.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, root, tempDir, verifier } from './helpers.js';
import { zip } from './zip.js';

const source = join(root, 'test', 'fixtures', 'hostile.c');
const kinds = ['vpl', 'mailerq', 'vsmtp'] as const;
type NativeKind = (typeof kinds)[number];

function build(kind: NativeKind, dir: string): string {
  const so = join(dir, `hostile-${kind}.so`);
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-fvisibility=hidden', `-DHOSTILE_${kind.toUpperCase()}`, '-o', so, source]);
  if (kind !== 'vpl') return so;
  const vpl = join(dir, 'hostile-1.0.0.vpl');
  const metadata = '[metadata]\nname = "hostile"\nversion = "1.0.0"\ndescription = "hostile"\nobjfile = "hostile.so"\n';
  writeFileSync(vpl, zip([{ name: 'metadata.toml', data: metadata }, { name: 'hostile.so', data: readFileSync(so) }]));
  return vpl;
}

/** Pids of processes named `comm` on this machine (the hostile children and daemon name themselves). */
function running(comm: string): string[] {
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
    } catch {
      return false;
    }
  });
}

/** A planted home: rustup and cargo still found where they are. */
const withHome = (home: string, env: Record<string, string> = {}) => ({
  HOME: home,
  RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(homedir(), '.rustup'),
  CARGO_HOME: process.env.CARGO_HOME ?? join(homedir(), '.cargo'),
  ...env,
});

const sandboxed = (() => {
  try {
    execFileSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', 'true']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!sandboxed)('hostile plugins in the sandbox (bubblewrap)', () => {
  let dir: string;
  let home: string;
  const artifacts = {} as Record<NativeKind, string>;
  let server: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    dir = tempDir();
    home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'id_secret'), 'the secret\n');
    for (const kind of kinds) artifacts[kind] = build(kind, dir);
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server?.close());

  const attempt = (kind: NativeKind, action: string, arg: string, ...flags: string[]) =>
    verifier(withHome(home, { HOSTILE_ACTION: action, HOSTILE_ARG: arg }))(artifacts[kind], ...flags).then((result) => {
      expect(result.exitCode, JSON.stringify(result.report, null, 2)).toBe(1);
      expect(result.report.confinement).toMatchObject({ tool: 'bwrap' });
      return result.report;
    });

  it.each(kinds)('%s: a well-behaved build passes, and the report says how it was confined', async (kind) => {
    const { exitCode, report } = await verifier(withHome(home))(artifacts[kind]);
    // vsmtp's bare C library has no rhai: it fails the compatibility check, not the sandbox.
    if (kind !== 'vsmtp') expect(exitCode, JSON.stringify(report, null, 2)).toBe(0);
    expect(report.steps.find((s: any) => s.name === 'sandbox')).toMatchObject({ status: 'passed', detail: expect.stringContaining('no network') });
    expect(report.confinement.limits).toEqual({ memoryMb: 4096, cpuSeconds: 60, processes: 256, fileMb: 64 });
  });

  it.each(kinds)('%s: reads a secret in $HOME and writes it to /tmp', async (kind) => {
    const leak = `/tmp/leak-${process.pid}-${kind}`;
    await attempt(kind, 'secret', `${join(home, '.ssh', 'id_secret')}:${leak}`);
    expect(existsSync(leak)).toBe(false);
    if (kind !== 'vpl') return;
    // The same plugin unconfined does steal it: the sandbox is what stops it.
    const unconfined = await verifier(withHome(home, { HOSTILE_ACTION: 'secret', HOSTILE_ARG: `${join(home, '.ssh', 'id_secret')}:${leak}` }))(artifacts.vpl, '--no-sandbox');
    expect(unconfined.exitCode).toBe(0);
    expect(readFileSync(leak, 'utf8')).toBe('the secret\n');
    rmSync(leak);
  });

  it.each(kinds)('%s: connects to a port on 127.0.0.1', async (kind) => {
    await attempt(kind, 'connect', String(port));
    expect(connections).toBe(0);
  });

  it.each(kinds)('%s: writes into the project directory and the cache', async (kind) => {
    for (const target of [join(dir, `written-${kind}`), join(root, '.cache', `written-${kind}`)]) {
      await attempt(kind, 'write', target);
      expect(existsSync(target), target).toBe(false);
    }
  });

  it('vpl: forks 10,000 children; none is left', async () => {
    const report = await attempt('vpl', 'fork', '');
    expect(report.steps.find((s: any) => s.name === 'host: entry point')).toMatchObject({ status: 'failed', detail: expect.stringContaining('returned 1') });
    expect(running('hostile-child')).toEqual([]);
  });

  it('vpl: allocates 20 GiB', async () => {
    await attempt('vpl', 'alloc', '');
  });

  it('vpl: spins: stopped at its CPU limit', async () => {
    const report = await attempt('vpl', 'spin', '', '--cpu-seconds', '2');
    expect(report.cause ?? '').toMatch(/CPU time limit/);
  });

  it.each(['vpl', 'mailerq'] as const)('%s: double-forks a daemon: reported, and gone when verify returns', async (kind) => {
    const report = await attempt(kind, 'daemon', '');
    expect(report.steps.find((s: any) => s.name.endsWith('nothing left running'))).toMatchObject({ status: 'failed' });
    expect(running('hostile-daemon')).toEqual([]);
  });
});

describe('without a sandbox', () => {
  it('doctor says which sandbox verify uses, or that there is none and how to get one', async () => {
    const none = JSON.parse((await cli(['doctor', 'vpl', '--json'], { env: { VSMTP_PLUGIN_SANDBOX: 'none' } })).stdout);
    expect(none.sandbox).toMatchObject({ tool: null, why: 'VSMTP_PLUGIN_SANDBOX=none', install: expect.stringContaining('bubblewrap') });
    if (sandboxed) expect(JSON.parse((await cli(['doctor', 'vpl', '--json'])).stdout).sandbox).toMatchObject({ tool: 'bwrap', version: expect.stringMatching(/^bubblewrap /) });
  });

  it('a bare artifact is refused (exit 3) with how to allow it; --no-sandbox runs it with a warning', async () => {
    const dir = tempDir();
    const vpl = build('vpl', dir);
    const refused = await verifier({ VSMTP_PLUGIN_SANDBOX: 'none' })(vpl);
    expect(refused.exitCode).toBe(3);
    expect(refused.report.cause).toMatch(/no sandbox can be made here \(VSMTP_PLUGIN_SANDBOX=none\).*--no-sandbox/);
    const allowed = await verifier({ VSMTP_PLUGIN_SANDBOX: 'none' })(vpl, '--no-sandbox');
    expect(allowed.exitCode).toBe(0);
    expect(allowed.report.steps.find((s: any) => s.name === 'sandbox')).toMatchObject({ status: 'warned', detail: expect.stringContaining('rlimits only') });
    expect(allowed.report.confinement).toMatchObject({ tool: 'none' });
  });

  it("a project's own verify runs with rlimits only and says so", async () => {
    const project = join(tempDir(), 'plain');
    expect((await cli(['new', 'vpl', project, '-y', '--no-git'])).exitCode).toBe(0);
    const { exitCode, report } = await verifier({ VSMTP_PLUGIN_SANDBOX: 'none' })(project);
    expect(exitCode, JSON.stringify(report, null, 2)).toBe(0);
    expect(report.steps.find((s: any) => s.name === 'sandbox')).toMatchObject({ status: 'warned', detail: expect.stringMatching(/no sandbox can be made here: VSMTP_PLUGIN_SANDBOX=none/) });
  });
});

describe.skipIf(!sandboxed)('the unshare fallback', () => {
  it('confines as bubblewrap does: no secret, no connection, no write', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'secret'), 'the secret\n');
    const vpl = build('vpl', dir);
    const env = withHome(home, { VSMTP_PLUGIN_SANDBOX: 'unshare' });
    const passing = await verifier(env)(vpl);
    expect(passing.exitCode, JSON.stringify(passing.report, null, 2)).toBe(0);
    expect(passing.report.confinement).toMatchObject({ tool: 'unshare' });
    const leak = `/tmp/leak-${process.pid}-unshare`;
    expect((await verifier({ ...env, HOSTILE_ACTION: 'secret', HOSTILE_ARG: `${join(home, 'secret')}:${leak}` })(vpl)).exitCode).toBe(1);
    expect(existsSync(leak)).toBe(false);
    const written = join(dir, 'written');
    expect((await verifier({ ...env, HOSTILE_ACTION: 'write', HOSTILE_ARG: written })(vpl)).exitCode).toBe(1);
    expect(existsSync(written)).toBe(false);
  });
});
