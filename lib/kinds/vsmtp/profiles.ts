import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../core/render.js';

/**
 * Host profiles: the rhai build a vSMTP host links, fixed together. rhai resolves
 * functions by hashes of Rust type identities, which change with the version or the
 * features of ANY crate in rhai's dependency closure, so a profile is the host's whole
 * closure: the versions of the lock its binaries were built from
 * (`hosts/vsmtp/profiles/<id>/plugin.lock`, `host.lock`) and the features its
 * dependency graph enables on each crate (`rhai.json`, read from cargo's unit graph of
 * the host's real build: see README.md, "How the closures were recorded").
 * The generated projects and the reference host both read them from here.
 */

/** A dependency that exists only to enable, on a crate of rhai's closure, the features the host's graph enables. */
export interface AlignDependency {
  /** Key in the manifest: a rename when two versions of one crate are needed. */
  key: string;
  package?: string;
  version: string;
  defaultFeatures?: false;
  features?: string[];
}

export interface HostProfile {
  id: string;
  title: string;
  /** Version in the installed file name (libvsmtp-plugin-<name>-<version>.so). */
  vsmtpVersion: string;
  rhai: string;
  /** rhai's features as the plugin asks for them (the closure files hold the result). */
  rhaiDefaultFeatures: boolean;
  rhaiFeatures: string[];
  /** The rhai-dylib the host links: the reference host's, and the plugin's tests/load.rs (a dev-dependency). */
  rhaiDylib: string;
  rhaiDylibFeatures: string[];
  /** Normal and build dependencies enabling the host's features on rhai's closure. */
  align: { normal: AlignDependency[]; build: AlignDependency[] };
  /** Where the lock and features were read from. */
  closureSource: string;
  /** The rustc the host's official binaries were built with (a plugin for them must use it). */
  officialRustc: string;
  /** rhai renamed set_ahash_seed to set_hashing_seed in 1.17. */
  seedFunction: 'set_ahash_seed' | 'set_hashing_seed';
  /** Extension of the host's scripts (services, rules). */
  scriptExtension: 'vsl' | 'rhai';
  /**
   * How the generated scripts import the plugin. vSMTP 2 resolves imports against its
   * config directory (`plugins/...`); vSMTP 3 against each service's own script
   * directory, so its examples import plugins by absolute path.
   */
  pluginImport: (crate: string) => string;
  /** Rule syntax of the example filter. */
  rules: 'vsl-2' | 'rhai-3';
  note: string;
}

export const profiles: HostProfile[] = [
  {
    id: 'vsmtp-2',
    title: 'vSMTP 2.x',
    vsmtpVersion: '2.2.1',
    rhai: '1.13.0',
    rhaiDefaultFeatures: true,
    rhaiFeatures: ['unchecked', 'sync', 'internals', 'no_closure', 'metadata'],
    rhaiDylib: '0.1.6',
    rhaiDylibFeatures: ['sync'],
    align: {
      normal: [
        { key: 'bitflags', version: '1.3.2' },
        { key: 'getrandom', version: '0.2.8', features: ['std'] },
        { key: 'libc', version: '0.2.140', features: ['extra_traits'] },
        { key: 'num-traits', version: '0.2.15', defaultFeatures: false, features: ['std', 'i128', 'libm'] },
        { key: 'once_cell', version: '1.17.1', features: ['std', 'unstable'] },
        { key: 'serde_json', version: '1.0.95', defaultFeatures: false, features: ['std'] },
      ],
      build: [
        { key: 'getrandom', version: '0.2.8', features: ['std'] },
        { key: 'libc', version: '0.2.140', features: ['extra_traits'] },
        { key: 'once_cell', version: '1.17.1', features: ['std', 'unstable'] },
        { key: 'syn1', package: 'syn', version: '1.0.109', features: ['full', 'extra-traits', 'visit', 'visit-mut'] },
        { key: 'syn', version: '2.0.10', features: ['full', 'visit-mut'] },
      ],
    },
    closureSource: 'the Cargo.lock shipped in the vsmtp 2.2.1 crate on crates.io, and the unit graph of `cargo build --release --bin vsmtp` in that crate',
    officialRustc: '1.68.2',
    seedFunction: 'set_ahash_seed',
    scriptExtension: 'vsl',
    pluginImport: (crate) => `plugins/${crate}`,
    rules: 'vsl-2',
    note: 'vSMTP 2.2.1 as built from crates.io with its shipped lock: rhai 1.13.0, rhai_codegen 1.5.0, rhai-dylib 0.1.6, ahash 0.8.3. Its official packages were built on 2023-03-31 with the stable rustc of that day, 1.68.2.',
  },
  {
    id: 'vsmtp-3',
    title: 'vSMTP 3.0 (rc)',
    vsmtpVersion: '3.0.0-rc.1',
    rhai: '1.16.3',
    rhaiDefaultFeatures: true,
    rhaiFeatures: ['std', 'unchecked', 'sync', 'internals', 'no_closure', 'metadata'],
    rhaiDylib: '0.1.12',
    rhaiDylibFeatures: ['libloading', 'sync'],
    align: {
      normal: [
        { key: 'ahash', version: '0.8.6' },
        { key: 'bitflags', version: '2.4.1', defaultFeatures: false, features: ['std', 'serde'] },
        { key: 'getrandom', version: '0.2.10', features: ['std'] },
        { key: 'hashbrown', version: '0.14.2' },
        { key: 'indexmap', version: '2.0.2', features: ['serde'] },
        { key: 'libc', version: '0.2.149', features: ['const-extern-fn', 'extra_traits'] },
        { key: 'num-traits', version: '0.2.17', features: ['i128', 'libm'] },
        { key: 'once_cell', version: '1.18.0' },
        { key: 'serde', version: '1.0.190', features: ['rc'] },
        { key: 'serde_json', version: '1.0.108', features: ['preserve_order'] },
        { key: 'smallvec', version: '1.11.1', features: ['write'] },
      ],
      build: [
        { key: 'getrandom', version: '0.2.10', features: ['std'] },
        { key: 'libc', version: '0.2.149', features: ['const-extern-fn', 'extra_traits'] },
        { key: 'once_cell', version: '1.18.0', features: ['std', 'unstable'] },
        { key: 'syn', version: '2.0.38', features: ['full', 'extra-traits', 'visit-mut'] },
      ],
    },
    closureSource: 'the workspace Cargo.lock of vSMTP 3.0.0-rc.1 (develop branch of the maintained fork, 2023-11-03), and the unit graph of `cargo build --release --workspace --all-features`, as its Dockerfile builds it',
    officialRustc: '1.73.0',
    seedFunction: 'set_ahash_seed',
    scriptExtension: 'rhai',
    pluginImport: (crate) => `/etc/vsmtp/plugins/${crate}`,
    rules: 'rhai-3',
    note: 'vSMTP 3.0.0-rc.1: rhai 1.16.3, rhai_codegen 1.6.0, rhai-dylib 0.1.12 (which turns rhai default features on), ahash 0.8.6. Its images are built with the rust:1.73.0 image.',
  },
  {
    id: 'current',
    title: 'current rhai-dylib (0.11)',
    vsmtpVersion: 'dev',
    rhai: '1.27.0',
    rhaiDefaultFeatures: true,
    rhaiFeatures: ['sync', 'internals'],
    rhaiDylib: '0.11.0',
    rhaiDylibFeatures: ['sync'],
    align: { normal: [], build: [] },
    closureSource: 'a resolution of rhai 1.27.0 and rhai-dylib 0.11.0 recorded on 2026-11-29 (no released host uses it), and `cargo tree` of the reference host',
    officialRustc: '1.95.0',
    seedFunction: 'set_hashing_seed',
    scriptExtension: 'rhai',
    pluginImport: (crate) => `plugins/${crate}`,
    rules: 'rhai-3',
    note: 'The current rhai-dylib release (0.11.0, needs rhai ^1.26.1) with the newest rhai; `internals` is required by rhai-dylib, `sync` because hosts share modules across threads.',
  },
];

/** A profile's recorded closure files (`rhai.json`, `plugin.lock`, `host.lock`). */
export function closureFile(profile: HostProfile, file: 'rhai.json' | 'plugin.lock' | 'host.lock'): string {
  return readFileSync(join(packageRoot, 'hosts', 'vsmtp', 'profiles', profile.id, file), 'utf8');
}

/** The crate name the recorded plugin.lock uses for the plugin itself. */
export const lockPlaceholder = 'vsmtp-plugin-hello';

/** One manifest line per dependency, exact pins, TOML as cargo writes it. */
export function alignLines(dependencies: AlignDependency[]): string[] {
  return dependencies.map((dep) => {
    const parts = [
      dep.package ? `package = "${dep.package}"` : '',
      `version = "=${dep.version}"`,
      dep.defaultFeatures === false ? 'default-features = false' : '',
      dep.features?.length ? `features = [${dep.features.map((f) => `"${f}"`).join(', ')}]` : '',
    ].filter(Boolean);
    return parts.length === 1 ? `${dep.key} = "=${dep.version}"` : `${dep.key} = { ${parts.join(', ')} }`;
  });
}

export function profileById(id: string): HostProfile {
  const profile = profiles.find((candidate) => candidate.id === id);
  if (!profile) throw new Error(`unknown host profile ${id}`);
  return profile;
}

