import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ejs from 'ejs';
import { stringify } from 'smol-toml';
import { cachedBuild, hashOf, type CacheHit } from '../../core/cache.js';
import { failureTail, run } from '../../core/exec.js';
import { packageRoot } from '../../core/render.js';
import type { HostProfile } from './profiles.js';

const hostSource = join(packageRoot, 'hosts', 'vsmtp');

export interface Toolchain {
  /** `rustc -vV` as seen from the plugin's directory (rust-toolchain.toml applies there). */
  rustcVerbose: string;
  /** rustup's toolchain name for that directory, when rustup manages Rust. */
  rustupToolchain?: string;
}

export async function detectToolchain(directory: string): Promise<Toolchain> {
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

export interface HostRequest {
  profile: HostProfile;
  toolchain: Toolchain;
  /** The plugin's [profile.release] table, copied so both are compiled alike. */
  releaseProfile?: Record<string, unknown>;
  /** The plugin's Cargo.lock: starting from it lets cargo reuse the plugin's compiled rhai. */
  lockfile?: string;
  /** Cargo target directory to build in (the plugin's, so rhai is not compiled twice). */
  targetDir: string;
  timeoutMs: number;
  /** Told when the host is not cached and is about to be built. */
  onBuild?: () => void;
}

/** The reference host binary for a profile and toolchain, built once and cached. */
export async function ensureHost(request: HostRequest): Promise<CacheHit> {
  const mainRs = await readFile(join(hostSource, 'src', 'main.rs'), 'utf8');
  const manifest = ejs.render(await readFile(join(hostSource, 'Cargo.toml.ejs'), 'utf8'), {
    profile: request.profile,
    list: (items: string[]) => JSON.stringify(items).replace(/,/g, ', '),
    releaseProfile: request.releaseProfile ? stringify({ profile: { release: request.releaseProfile } }) : '',
  });
  const key = `${request.profile.id}-${hashOf(manifest, mainRs, request.toolchain.rustcVerbose)}`;
  return cachedBuild('vsmtp-host', key, 'vsmtp-ref-host', async (work) => {
    await mkdir(join(work, 'src'));
    await writeFile(join(work, 'Cargo.toml'), manifest);
    await writeFile(join(work, 'src', 'main.rs'), mainRs);
    if (request.lockfile) await writeFile(join(work, 'Cargo.lock'), request.lockfile);
    const build = await run('cargo', ['build', '--release', '--quiet'], {
      cwd: work,
      env: {
        ...process.env,
        CARGO_TARGET_DIR: request.targetDir,
        ...(request.toolchain.rustupToolchain ? { RUSTUP_TOOLCHAIN: request.toolchain.rustupToolchain } : {}),
      },
      timeoutMs: request.timeoutMs,
    });
    if (build.exitCode !== 0) throw new Error(`the reference host did not build\n${failureTail(build)}`);
    const binary = join(work, 'vsmtp-ref-host');
    await copyFile(join(request.targetDir, 'release', 'vsmtp-ref-host'), binary);
    return binary;
  }, request.onBuild);
}
