import { parse } from 'smol-toml';
import type { HostProfile } from './profiles.js';

/** What a built plugin says about the rhai and rustc it was compiled with. */
export interface ArtifactFacts {
  /** From the panic-location paths (`.../rhai-1.13.0/src/...`) rustc embeds. */
  rhai?: string;
  /** From the `.comment` section (`rustc version 1.95.0 (...)`). */
  rustc?: string;
  exportsEntrypoint: boolean;
}

export function readArtifact(bytes: Buffer): ArtifactFacts {
  const text = bytes.toString('latin1');
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/[/\\]rhai-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)[/\\]src[/\\]/g)) {
    counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  }
  const rhai = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const rustc = /rustc version (\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)/.exec(text)?.[1];
  return { rhai, rustc, exportsEntrypoint: text.includes('module_entrypoint') };
}

/** What the project's sources declare. */
export interface ProjectFacts {
  rhaiVersion?: string;
  rhaiFeatures?: string[];
  rhaiDefaultFeatures?: boolean;
  seed?: string;
}

export function readProject(cargoToml: string, libRs: string | undefined): ProjectFacts {
  const manifest = parse(cargoToml) as Record<string, any>;
  const rhai = manifest.dependencies?.rhai;
  const table = typeof rhai === 'string' ? { version: rhai } : (rhai ?? {});
  const seed = libRs && /HASHING_SEED:\s*\[u64;\s*4\]\s*=\s*\[([^\]]*)\]/.exec(libRs)?.[1];
  return {
    rhaiVersion: table.version,
    rhaiFeatures: table.features ?? [],
    rhaiDefaultFeatures: table['default-features'] ?? true,
    seed: seed ? seed.split(',').map((part) => part.trim()).filter(Boolean).join(', ') : undefined,
  };
}

/**
 * Every way the plugin differs from the host it is meant for. Each one breaks the
 * Rust ABI the module crosses or the function hashes, so each fails verification.
 */
export function mismatches(
  profile: HostProfile,
  hostSeed: string,
  hostRustc: string,
  artifact: ArtifactFacts,
  project: ProjectFacts | undefined,
): string[] {
  const found: string[] = [];
  const pluginRhai = artifact.rhai ?? project?.rhaiVersion?.replace(/^=/, '');
  if (pluginRhai && pluginRhai !== profile.rhai) {
    found.push(`rhai version: the plugin is built with rhai ${pluginRhai}, the ${profile.title} host uses rhai ${profile.rhai}`);
  }
  if (project?.rhaiVersion && !project.rhaiVersion.startsWith('=')) {
    found.push(`rhai pin: Cargo.toml asks for rhai "${project.rhaiVersion}"; pin it exactly ("=${profile.rhai}") or cargo may pick another version`);
  }
  if (project?.rhaiFeatures) {
    const plugin = new Set(project.rhaiFeatures);
    const host = new Set(profile.rhaiFeatures);
    const missing = [...host].filter((f) => !plugin.has(f));
    const extra = [...plugin].filter((f) => !host.has(f));
    if (missing.length || extra.length) {
      const parts = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `extra ${extra.join(', ')}` : ''].filter(Boolean);
      found.push(`rhai features: the plugin's differ from the host's (${parts.join('; ')}); host: ${profile.rhaiFeatures.join(', ')}`);
    }
    if (project.rhaiDefaultFeatures !== profile.rhaiDefaultFeatures) {
      found.push(`rhai default features: the plugin has them ${project.rhaiDefaultFeatures ? 'on' : 'off'}, the host ${profile.rhaiDefaultFeatures ? 'on' : 'off'}`);
    }
  }
  if (project?.seed && project.seed !== hostSeed) {
    found.push(`hashing seed: the plugin sets [${project.seed}], the host uses [${hostSeed}]; functions will not be found`);
  }
  if (artifact.rustc && hostRustc !== 'unknown' && artifact.rustc !== hostRustc) {
    found.push(`rustc: the plugin was compiled by rustc ${artifact.rustc}, the host by ${hostRustc}`);
  }
  return found;
}
