import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ejs from 'ejs';
import { cachedBuild, cargoTargetDir, hashOf, type CacheHit } from '../../core/cache.js';
import { ToolchainMissing } from '../../core/errors.js';
import { failureTail, run } from '../../core/exec.js';
import { packageRoot } from '../../core/render.js';
import { alignLines, closureFile, type HostProfile } from './profiles.js';

const hostSource = join(packageRoot, 'hosts', 'vsmtp');

export interface Toolchain {
  /** `rustc -vV` as seen from the plugin's directory (rust-toolchain.toml applies there). */
  rustcVerbose: string;
  /** rustup's toolchain name for that directory, when rustup manages Rust. */
  rustupToolchain?: string;
}

/** The toolchain that rust-toolchain.toml pins in `directory` when rustup does not have it. */
export async function missingToolchain(directory: string): Promise<string | undefined> {
  const rustc = await run('rustc', ['-vV'], { cwd: directory, timeoutMs: 30_000 });
  return /toolchain '([^']+)' is not installed/.exec(rustc.stderr)?.[1];
}

/**
 * Installs the pinned toolchain, as rustup did by itself before 1.28: verify must build
 * with the rustc the host was built with. Without rustup, or when it fails, the
 * toolchain is missing (exit 3), with how to install it.
 */
export async function installToolchain(directory: string, toolchain: string): Promise<void> {
  const install = () => new ToolchainMissing(`Rust ${toolchain}`, `rustup toolchain install (run in ${directory})`, 'rust-toolchain.toml pins the rustc the host was built with');
  const result = await run('rustup', ['toolchain', 'install'], { cwd: directory, timeoutMs: 15 * 60_000 }).catch(() => undefined);
  if (result?.exitCode !== 0) throw install();
}

/**
 * The Rust toolchain that builds in `directory` (its rust-toolchain.toml applies), or
 * `release` (say, the rustc a bare artifact was built with) when rustup has it.
 */
export async function detectToolchain(directory: string, release?: string): Promise<Toolchain> {
  if (release) {
    const pinned = await run('rustc', ['-vV'], { cwd: directory, env: { ...process.env, RUSTUP_TOOLCHAIN: release }, timeoutMs: 30_000 }).catch(() => undefined);
    if (pinned?.exitCode === 0) return { rustcVerbose: pinned.stdout.trim(), rustupToolchain: release };
  }
  const rustc = await run('rustc', ['-vV'], { cwd: directory, timeoutMs: 30_000 });
  if (rustc.exitCode !== 0) throw new Error(failureTail(rustc));
  const rustup = await run('rustup', ['show', 'active-toolchain'], { cwd: directory, timeoutMs: 30_000 }).catch(() => undefined);
  return {
    rustcVerbose: rustc.stdout.trim(),
    rustupToolchain: rustup?.exitCode === 0 ? rustup.stdout.trim().split(/\s+/)[0] : undefined,
  };
}

export function rustcRelease(toolchain: Toolchain): string {
  return /^release: (.+)$/m.exec(toolchain.rustcVerbose)?.[1] ?? 'unknown';
}

export interface CargoMessage {
  reason: string;
  target?: { name: string; kind: string[] };
  filenames?: string[];
}

/** The JSON messages of `cargo build --message-format=json-render-diagnostics`. */
export function cargoMessages(stdout: string): CargoMessage[] {
  return stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as CargoMessage);
}

/**
 * Reads cargo's JSON messages as they come and notes "compiled N of M crates (name)",
 * at most every 2 s (fresh crates only counted): a first build of rhai takes minutes, a spinner alone says nothing.
 */
/** A package's name from its cargo id: "libc 0.2.140 (registry+…)" (cargo < 1.77) or "registry+…#libc@0.2.140". */
function packageName(id: string): string {
  const spec = id.includes('#') ? id.slice(id.lastIndexOf('#') + 1) : id.split(' ')[0]!;
  return spec.includes('@') ? spec.slice(0, spec.indexOf('@')) : spec.slice(spec.lastIndexOf('/') + 1);
}

export function cargoProgress(total: number | undefined, note: (text: string) => void, everyMs = 2000): (line: string) => void {
  const done = new Set<string>();
  let shown = 0;
  return (line) => {
    if (!line.startsWith('{"reason":"compiler-artifact"')) return;
    const message = JSON.parse(line) as { package_id: string; target: { name: string }; fresh: boolean };
    done.add(message.package_id);
    if (message.fresh || performance.now() - shown < everyMs) return;
    shown = performance.now();
    note(`compiled ${done.size}${total ? ` of ${total}` : ''} crates (${packageName(message.package_id)})`);
  };
}

/**
 * The hash cargo gives the compiled rhai (`librhai-<hash>.rlib`), from the messages of
 * a build. It covers rhai's version, features, profile, rustc and every dependency's
 * own hash: two builds with the same hash are the same compiled rhai.
 */
export function rhaiHash(messages: CargoMessage[]): string | undefined {
  for (const message of messages) {
    if (message.reason !== 'compiler-artifact' || message.target?.name !== 'rhai' || !message.target.kind.includes('lib')) continue;
    const rlib = message.filenames?.find((file) => file.endsWith('.rlib'));
    const hash = rlib && /librhai-([0-9a-f]+)\.rlib$/.exec(rlib)?.[1];
    if (hash) return hash;
  }
  return undefined;
}

export interface BuiltHost {
  /** The host binary. */
  binary: string;
  /** Hash of its compiled rhai. */
  rhaiHash: string;
  cache: CacheHit;
}

export interface HostRequest {
  profile: HostProfile;
  toolchain: Toolchain;
  timeoutMs: number;
  /** Told when the host is not cached and is about to be built. */
  onBuild?: () => void;
}

export async function hostManifest(profile: HostProfile): Promise<string> {
  return ejs.render(await readFile(join(hostSource, 'Cargo.toml.ejs'), 'utf8'), {
    profile,
    alignLines,
    list: (items: string[]) => JSON.stringify(items).replace(/,/g, ', '),
  });
}

/**
 * The reference host binary for a profile and toolchain, built once and cached. It is
 * built from the profile's recorded lock, never from the plugin's, so its rhai is the
 * real host's.
 */
export async function ensureHost(request: HostRequest): Promise<BuiltHost> {
  const mainRs = await readFile(join(hostSource, 'src', 'main.rs'), 'utf8');
  const manifest = await hostManifest(request.profile);
  const lock = closureFile(request.profile, 'host.lock');
  const key = `${request.profile.id}-${hashOf(manifest, lock, mainRs, request.toolchain.rustcVerbose)}`;
  const env = {
    ...process.env,
    CARGO_TARGET_DIR: cargoTargetDir(),
    // The default since cargo 1.70; older pinned toolchains would clone the git index.
    CARGO_REGISTRIES_CRATES_IO_PROTOCOL: 'sparse',
    ...(request.toolchain.rustupToolchain ? { RUSTUP_TOOLCHAIN: request.toolchain.rustupToolchain } : {}),
  };
  const cache = await cachedBuild('vsmtp-host', key, 'host', async (work) => {
    const source = join(work, 'source');
    await mkdir(join(source, 'src'), { recursive: true });
    await writeFile(join(source, 'Cargo.toml'), manifest);
    await writeFile(join(source, 'Cargo.lock'), lock);
    await writeFile(join(source, 'src', 'main.rs'), mainRs);
    // --locked: the recorded lock is the host's; a build that would change it is not the host.
    const build = await run('cargo', ['build', '--release', '--locked', '--message-format=json-render-diagnostics'], { cwd: source, env, timeoutMs: request.timeoutMs });
    if (build.exitCode !== 0) throw new Error(`the reference host did not build\n${failureTail(build)}`);
    const hash = rhaiHash(cargoMessages(build.stdout));
    if (!hash) throw new Error('the reference host build reported no compiled rhai');
    const out = join(work, 'host');
    await mkdir(out);
    await copyFile(join(cargoTargetDir(), 'release', `vsmtp-ref-host-${request.profile.id}`), join(out, 'vsmtp-ref-host'));
    await writeFile(join(out, 'rhai.json'), JSON.stringify({ rhaiHash: hash }));
    return out;
  }, request.onBuild);
  const facts = JSON.parse(await readFile(join(cache.path, 'rhai.json'), 'utf8')) as { rhaiHash: string };
  return { binary: join(cache.path, 'vsmtp-ref-host'), rhaiHash: facts.rhaiHash, cache };
}
