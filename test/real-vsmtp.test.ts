// Opt-in, heavy: the generated plugin inside the REAL vSMTP 2.2.1 server on 127.0.0.1,
// imported from a rule, and the SMTP reply it causes. Run with one of
//   VSMTP_REAL_BINARY=/path/to/vsmtp npm test -- test/real-vsmtp.test.ts
//   VSMTP_REAL=1 npm test -- test/real-vsmtp.test.ts   (builds it: hosts/vsmtp/real/build-vsmtp-2.2.1.sh, ~15 min once)
// The server must be vSMTP 2.2.1 built from its crate's lock with rustc 1.68.2 (as the
// official binaries and the generated rust-toolchain.toml are).
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { cli, root, tempDir, unalign, verify } from './helpers.js';

const LONG = 40 * 60_000;
const enabled = Boolean(process.env.VSMTP_REAL_BINARY || process.env.VSMTP_REAL);

async function vsmtpBinary(): Promise<string> {
  if (process.env.VSMTP_REAL_BINARY) return process.env.VSMTP_REAL_BINARY;
  const built = await execa('bash', [join(root, 'hosts', 'vsmtp', 'real', 'build-vsmtp-2.2.1.sh')], { stdin: 'ignore', timeout: LONG });
  return built.stdout.trim().split('\n').at(-1)!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Generates a plugin for the vsmtp-2 profile and builds it as its README says. */
async function builtPlugin(name: string, { freshLock = false } = {}) {
  const project = join(tempDir(), `vsmtp-plugin-${name}`);
  const created = await cli(['new', 'vsmtp', project, '--yes', '--author', 'E2E', '--profile', 'vsmtp-2']);
  expect(created.exitCode, created.stderr).toBe(0);
  if (freshLock) unalign(project);
  // The shared target directory of vitest.config.ts when there is one: rhai is compiled once.
  const target = process.env.CARGO_TARGET_DIR ?? join(project, 'target');
  const build = await execa('cargo', ['build', '--release', ...(freshLock ? [] : ['--locked'])], {
    cwd: project,
    env: { CARGO_TARGET_DIR: target },
    reject: false,
    stdin: 'ignore',
  });
  expect(build.exitCode, build.stderr.split('\n').slice(-30).join('\n')).toBe(0);
  return { project, so: join(target, 'release', `libvsmtp_plugin_${name}.so`) };
}

interface Server {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * A config directory laid out as /etc/vsmtp: the plugin linked under plugins/, the
 * generated service unchanged under services/, and `filter` as the root filter.
 */
function configure(project: string, so: string, name: string, port: number, filter: string): string {
  const dir = tempDir('vsmtp-real-');
  const conf = join(dir, 'conf');
  const run = join(dir, 'run');
  mkdirSync(join(conf, 'plugins'), { recursive: true });
  mkdirSync(join(conf, 'services'));
  mkdirSync(join(run, 'log'), { recursive: true });
  symlinkSync(so, join(conf, 'plugins', `vsmtp-plugin-${name}.so`));
  copyFileSync(join(project, 'services', `${name}.vsl`), join(conf, 'services', `${name}.vsl`));
  writeFileSync(join(conf, 'filter.vsl'), filter);
  writeFileSync(
    join(conf, 'vsmtp.vsl'),
    `fn on_config(config) {
    config.version_requirement = ">=2.2.1, <3.0.0";
    config.server.name = "vsmtp.test.local";
    config.server.system.user = "root";
    config.server.system.group = "root";
    config.server.system.thread_pool = #{ receiver: 1, processing: 1, delivery: 1 };
    config.server.interfaces = #{ addr: ["127.0.0.1:${port}"], addr_submission: [], addr_submissions: [] };
    config.server.queues.dirpath = "${run}/spool";
    config.server.logs.filename = "${run}/log/vsmtp.log";
    config.server.logs.level = ["info"];
    config.app.dirpath = "${run}/app";
    config.app.logs.filename = "${run}/log/app.log";
    config.app.vsl.filter_path = "${conf}/filter.vsl";
    config
}
`,
  );
  return join(conf, 'vsmtp.vsl');
}

/** Starts the server in the foreground (it stops itself after 120 s) and waits until it listens or dies. */
async function start(binary: string, config: string): Promise<Server & { listening: boolean }> {
  const child = spawn(binary, ['-c', config, '--no-daemon', '--stdout', '-t', '120s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + 30_000;
  while (!dead && Date.now() < deadline && !out.includes('Listening for clients')) await new Promise((r) => setTimeout(r, 200));
  return { process: child, stdout: () => out, stderr: () => err, exited, listening: out.includes('Listening for clients') };
}

async function stop(server: Server) {
  server.process.kill('SIGTERM');
  const timer = setTimeout(() => server.process.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}

/** EHLO, then MAIL FROM: the reply to MAIL FROM, which the filter's `mail` rules decide. */
function mailFromReply(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const commands = ['EHLO client.example.com', 'MAIL FROM:<a@example.com>'];
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`no MAIL FROM reply in 20 s; got: ${buffer}`)), 20_000);
    socket.on('data', (chunk) => {
      buffer += chunk;
      // A reply ends with a line "NNN text" (no dash after the code).
      const lines = buffer.split('\r\n');
      const last = lines.at(-2);
      if (!last || last[3] === '-') return;
      buffer = '';
      const next = commands.shift();
      if (next) return void socket.write(`${next}\r\n`);
      clearTimeout(timer);
      socket.end('QUIT\r\n');
      resolve(last);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const denyWithPluginText = (name: string) => `import "services/${name}" as svc;
import "plugins/vsmtp-plugin-${name}" as plugin;

#{
  mail: [
    rule "reply with the plugin's words" || {
      state::deny(code(554, "5.7.1", \`\${svc::greeter.greet("smtp")} add(40, 2) = \${plugin::add(40, 2)}\`))
    },
  ],
}
`;

describe.skipIf(!enabled)('the generated plugin in the real vSMTP 2.2.1 server', () => {
  it('answers MAIL FROM with the words its functions return, from a rule and from the generated service', { timeout: LONG }, async () => {
    const binary = await vsmtpBinary();
    const { project, so } = await builtPlugin('greet');
    const port = await freePort();
    const server = await start(binary, configure(project, so, 'greet', port, denyWithPluginText('greet')));
    try {
      expect(server.listening, `${server.stdout()}\n${server.stderr()}`).toBe(true);
      expect(await mailFromReply(port)).toBe('554 5.7.1 Hello, smtp! add(40, 2) = 42');
    } finally {
      await stop(server);
    }
  });

  it('runs the generated example rule unchanged: MAIL FROM is accepted', { timeout: LONG }, async () => {
    const binary = await vsmtpBinary();
    const { project, so } = await builtPlugin('example');
    const port = await freePort();
    const server = await start(binary, configure(project, so, 'example', port, readFileSync(join(project, 'examples', 'filter.vsl'), 'utf8')));
    try {
      expect(server.listening, `${server.stdout()}\n${server.stderr()}`).toBe(true);
      expect(await mailFromReply(port)).toMatch(/^250 /);
    } finally {
      await stop(server);
    }
  });

  it('refuses to start with a plugin that resolves rhai\'s closure afresh (as generated before), and so does verify', { timeout: LONG }, async () => {
    const binary = await vsmtpBinary();
    const { project, so } = await builtPlugin('fresh', { freshLock: true });
    const port = await freePort();
    const server = await start(binary, configure(project, so, 'fresh', port, denyWithPluginText('fresh')));
    await stop(server);
    expect(server.listening).toBe(false);
    // Built by today's rustc too (no pin then), its rhai types are foreign to the server:
    // it stops while compiling the rules, with "Function not found" or a panic inside rhai.
    expect(server.stderr()).toMatch(/failed to compile vsl scripts: .*Function not found|panicked at .*\n[\s\S]*rhai::/s);

    const { exitCode, report } = await verify(project);
    expect(exitCode).toBe(1);
    expect(report.steps.find((s: any) => s.name === 'host: run smoke script').detail).toMatch(/Function not found/);
  });
});
