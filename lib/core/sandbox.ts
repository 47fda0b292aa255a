import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { which } from './exec.js';
import type { Question } from './question.js';

/**
 * Confinement of the native reference hosts, which load someone's shared object into
 * a process: Linux namespaces (bubblewrap, else util-linux's unshare) and rlimits
 * (util-linux's prlimit). Inside: no network but a loopback of its own, a read-only
 * file system with the user's home and the temporary directory replaced by empty
 * ones (the host's own inputs bound back, read-only), one writable scratch directory,
 * its own pid namespace (nothing it starts outlives it), and limits on address space,
 * CPU time, processes and file size.
 */

export interface Limits {
  memoryMb: number;
  cpuSeconds: number;
  processes: number;
  fileMb: number;
}

export type SandboxTool = 'bwrap' | 'unshare';

/** What the JSON report says about the confinement in force. */
export interface Confinement {
  tool: SandboxTool | 'none';
  limits: Limits;
  /** What is not enforced, and why (address space under ASan, processes as root...). */
  notes: string[];
}

export const defaultLimits: Limits = { memoryMb: 4096, cpuSeconds: 60, processes: 256, fileMb: 64 };

const positive = (value: string) => (/^[1-9]\d{0,6}$/.test(value) ? undefined : 'must be a whole number from 1 to 9999999');

/** Verify options of every kind whose host loads native code. */
export const sandboxOptions: Question[] = [
  { name: 'sandbox', message: 'Confine the host', help: 'run the host in a sandbox (--no-sandbox: only when none can be made, for an artifact you trust)', type: 'boolean', default: true },
  { name: 'memory-mb', message: 'Address space limit (MB)', help: `address space of the host, in MB (default ${defaultLimits.memoryMb}; not applied under ASan)`, type: 'string', default: String(defaultLimits.memoryMb), validate: positive },
  { name: 'cpu-seconds', message: 'CPU time limit (s)', help: `CPU seconds the host may use (default ${defaultLimits.cpuSeconds})`, type: 'string', default: String(defaultLimits.cpuSeconds), validate: positive },
  { name: 'max-processes', message: 'Process limit', help: `processes and threads the host may run at once (default ${defaultLimits.processes})`, type: 'string', default: String(defaultLimits.processes), validate: positive },
  { name: 'max-file-mb', message: 'File size limit (MB)', help: `largest file the host may write, in MB (default ${defaultLimits.fileMb})`, type: 'string', default: String(defaultLimits.fileMb), validate: positive },
];

/** This verify's choice: confined (the default) and its limits, from the verify options. */
let settings = { enabled: true, limits: defaultLimits };

export function configureSandbox(options: Record<string, unknown>): void {
  settings = { enabled: options.sandbox !== false, limits: limitsFrom(options) };
}

export function sandboxSettings(): { enabled: boolean; limits: Limits } {
  return settings;
}

function limitsFrom(options: Record<string, unknown>): Limits {
  const number = (name: string, fallback: number) => (options[name] === undefined ? fallback : Number(options[name]));
  return {
    memoryMb: number('memory-mb', defaultLimits.memoryMb),
    cpuSeconds: number('cpu-seconds', defaultLimits.cpuSeconds),
    processes: number('max-processes', defaultLimits.processes),
    fileMb: number('max-file-mb', defaultLimits.fileMb),
  };
}

const probes: Record<SandboxTool, string[]> = {
  bwrap: ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', 'true'],
  unshare: ['--user', '--map-root-user', '--net', '--pid', '--fork', '--mount', '--mount-proc', 'true'],
};

let probed: { tool: SandboxTool; version: string } | { tool: undefined; why: string } | undefined;

/**
 * The sandbox this machine can make, tried once: bubblewrap, else unshare (namespaces
 * can be disabled in containers). VSMTP_PLUGIN_SANDBOX=bwrap|unshare|none narrows the
 * choice, to test each path.
 */
export function availableSandbox(): { tool: SandboxTool; version: string } | { tool: undefined; why: string } {
  if (probed) return probed;
  const forced = process.env.VSMTP_PLUGIN_SANDBOX;
  if (process.platform !== 'linux') return (probed = { tool: undefined, why: `${process.platform} has no Linux namespaces` });
  if (forced === 'none') return (probed = { tool: undefined, why: 'VSMTP_PLUGIN_SANDBOX=none' });
  if (!which('prlimit')) return (probed = { tool: undefined, why: 'prlimit (util-linux) is not installed' });
  const failures: string[] = [];
  for (const tool of ['bwrap', 'unshare'] as const) {
    if (forced && forced !== tool) continue;
    if (!which(tool)) {
      failures.push(`${tool} is not installed`);
      continue;
    }
    const run = spawnSync(tool, probes[tool], { encoding: 'utf8', timeout: 10_000 });
    if (run.status === 0) {
      const version = spawnSync(tool, ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? tool;
      return (probed = { tool, version });
    }
    failures.push(`${tool} cannot make namespaces here (${(run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n')[0]})`);
  }
  return (probed = { tool: undefined, why: failures.join('; ') });
}

const leftoversCheck = `"$@"; status=$?
left=0
for p in /proc/[0-9]*; do
  pid=\${p#/proc/}
  [ "$pid" = 1 ] || [ "$pid" = $$ ] || left=$((left + 1))
done
if [ "$left" -gt 0 ]; then
  printf '{"name":"nothing left running","ok":false,"ms":0,"detail":"the plugin left %s processes running after the host exited; the sandbox killed them"}\\n' "$left"
  [ "$status" -ne 0 ] || status=1
fi
exit $status`;

export const installSandbox = 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)';

/** Directories whose contents the host must not see: the user's home and the shared temporary directory. */
function hiddenRoots(): string[] {
  return outermost([homedir(), tmpdir()].filter((dir) => dir && dir !== sep && existsSync(dir)).map((dir) => realpathSync(dir)));
}

const under = (path: string, root: string) => path === root || path.startsWith(root + sep);

/** Paths without those inside another of them: binding or covering a parent covers them. */
function outermost(paths: string[]): string[] {
  return [...new Set(paths)].sort().filter((path, i, all) => !all.slice(0, i).some((parent) => under(path, parent)));
}

/** Paths to bind back into a hidden root: each one, and where a symbolic link among them points. */
function visible(paths: string[], roots: string[]): string[] {
  const found = new Set<string>();
  for (const path of paths) {
    if (!isAbsolute(path) || !existsSync(path)) continue;
    for (const candidate of [path, realpathSync(path)]) if (roots.some((root) => under(candidate, root))) found.add(candidate);
  }
  return outermost([...found]);
}

/**
 * A pids cgroup for a host run as root, which RLIMIT_NPROC does not bind: the kernel
 * exempts uid 0. Returns its directory, or undefined when none can be made here.
 */
function pidsCgroup(max: number): string | undefined {
  for (const base of ['/sys/fs/cgroup/pids', '/sys/fs/cgroup']) {
    if (!existsSync(join(base, 'cgroup.procs')) || (base === '/sys/fs/cgroup' && !existsSync(join(base, 'cgroup.subtree_control')))) continue;
    const dir = join(base, `vsmtp-plugin-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pids.max'), String(max));
      return dir;
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // never made
      }
    }
  }
  return undefined;
}

export interface Confined {
  file: string;
  args: string[];
  env: Record<string, string>;
  confinement: Confinement;
  /** What the step detail says about it, in a line. */
  summary: string;
  cleanup(): Promise<void>;
}

/**
 * Wraps a host command in the sandbox. `read` are the host's inputs (artifact, scripts):
 * with the binary and every absolute path among the arguments they stay readable.
 * `writable` directories (a scratch TMPDIR given by the kind) stay writable.
 */
export async function confine(binary: string, args: string[], spec: { tool: SandboxTool | undefined; limits: Limits; read?: string[]; writable?: string[]; sanitized?: boolean }): Promise<Confined> {
  const notes: string[] = [];
  const scratch = await mkdtemp(join(tmpdir(), 'vsmtp-plugin-sandbox-'));
  const writable = [scratch, ...(spec.writable ?? [])].map((dir) => realpathSync(dir));
  const limits = spec.limits;
  // A soft CPU limit below the hard one: SIGXCPU names the cause before SIGKILL would.
  const prlimit = [`--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`, `--fsize=${limits.fileMb * 1024 * 1024}`, `--nproc=${limits.processes}`];
  // ASan reserves terabytes of address space for its shadow memory.
  if (spec.sanitized) notes.push('address space not limited: the sanitizers reserve terabytes of it');
  else prlimit.push(`--as=${limits.memoryMb * 1024 * 1024}`);
  let cgroup: string | undefined;
  if (process.getuid?.() === 0) {
    cgroup = pidsCgroup(limits.processes);
    if (!cgroup) notes.push('processes not limited: running as root, which RLIMIT_NPROC does not bind, and no pids cgroup can be made here');
  }
  const limited = ['prlimit', ...prlimit, '--', binary, ...args];
  // In its own pid namespace the host's exit would silently kill what the plugin left
  // running (a daemon): say so as a failed step first. Pid 1 is the namespace's init.
  const command = spec.tool ? ['sh', '-c', leftoversCheck, 'sh', ...limited] : limited;
  const env = { TMPDIR: spec.writable?.[0] ?? scratch };
  const roots = hiddenRoots();
  const inputs = visible([binary, ...args, ...(spec.read ?? [])], roots);
  let wrapped: string[];
  if (spec.tool === 'bwrap') {
    wrapped = [
      'bwrap', '--unshare-all', '--die-with-parent', '--new-session',
      '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc',
      ...roots.flatMap((root) => ['--tmpfs', root]),
      ...inputs.flatMap((path) => ['--ro-bind', path, path]),
      ...writable.flatMap((dir) => ['--bind', dir, dir]),
      // The covering tmpfs read-only too: nothing is written but the scratch directory.
      ...roots.flatMap((root) => ['--remount-ro', root]),
      '--chdir', scratch, '--', ...command,
    ];
  } else if (spec.tool === 'unshare') {
    // unshare makes the namespaces; the mount namespace is arranged by a script run as
    // its root: the paths to keep are bound into a staging tmpfs (outside the hidden
    // roots) before those are covered, then back; every other mount is made read-only.
    const keep = [...inputs, ...writable];
    const target = (path: string) => (isDirectory(path) ? `mkdir -p ${quote(path)}` : `mkdir -p ${quote(dirname(path))} && touch ${quote(path)}`);
    const script = [
      'set -e',
      `stage=$(for d in /mnt /media /srv /opt; do [ -d "$d" ] && echo "$d" && break; done)`,
      'mount -t tmpfs tmpfs "$stage"',
      ...keep.map((path, i) => `${isDirectory(path) ? `mkdir "$stage/${i}"` : `touch "$stage/${i}"`} && mount --rbind ${quote(path)} "$stage/${i}"`),
      ...roots.map((root) => `mount -t tmpfs tmpfs ${quote(root)}`),
      ...keep.map((path, i) => `${target(path)} && mount --rbind "$stage/${i}" ${quote(path)}`),
      'umount -l "$stage"',
      `awk '{print $5}' /proc/self/mountinfo | while read -r m; do case "$m" in ${writable.map((dir) => `${quote(dir)}|${quote(dir)}/*`).join('|')}|/proc|/proc/*|/dev|/dev/*) ;; *) mount -o remount,bind,ro "$m" 2>/dev/null || true ;; esac; done`,
      `cd ${quote(scratch)}`,
      'exec "$@"',
    ].join('\n');
    wrapped = ['unshare', '--user', '--map-root-user', '--net', '--pid', '--fork', '--mount', '--mount-proc', '--ipc', '--uts', '--kill-child', '--', 'sh', '-c', script, 'sh', ...command];
  } else {
    notes.push('no sandbox: rlimits only; the plugin runs with your rights, network and files');
    wrapped = command;
  }
  // Joined before anything starts, so every process of the run counts against pids.max.
  const final = cgroup ? ['sh', '-c', `echo $$ > ${quote(join(cgroup, 'cgroup.procs'))} && exec "$@"`, 'sh', ...wrapped] : wrapped;
  const what = spec.tool === 'bwrap' || spec.tool === 'unshare'
    ? `${spec.tool}: no network, read-only file system but a scratch directory, home and ${tmpdir()} hidden, own pid namespace`
    : 'not confined: rlimits only';
  const limitText = `${spec.sanitized ? '' : `${limits.memoryMb} MB address space, `}${limits.cpuSeconds} s CPU, ${limits.processes} processes${cgroup ? ' (pids cgroup)' : ''}, ${limits.fileMb} MB files`;
  return {
    file: final[0]!,
    args: final.slice(1),
    env,
    confinement: { tool: spec.tool ?? 'none', limits, notes },
    summary: [`${what}; limits: ${limitText}`, ...notes.map((note) => `note: ${note}`)].join('\n'),
    async cleanup() {
      await rm(scratch, { recursive: true, force: true });
      if (cgroup) removeCgroup(cgroup);
    },
  };
}

function isDirectory(path: string): boolean {
  return statSync(path).isDirectory();
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A cgroup can be removed only once its last task has gone: the pid namespace takes a moment to empty. */
function removeCgroup(dir: string): void {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      spawnSync('sleep', ['0.05']);
    }
  }
}
