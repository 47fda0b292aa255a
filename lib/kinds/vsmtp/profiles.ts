/**
 * Host profiles: the rhai build a vSMTP host uses, fixed together. A plugin works only
 * in a host with the same rhai version, features, rustc and hashing seed, so these
 * pins are the one place the generated projects and the reference host read them from.
 * Each was checked with a real build (see README, "Host profiles").
 */
export interface HostProfile {
  id: string;
  title: string;
  /** Version in the installed file name (libvsmtp-plugin-<name>-<version>.so). */
  vsmtpVersion: string;
  rhai: string;
  /**
   * rhai's default features. The real vSMTP 3.0 binary asks for none, but its
   * rhai-dylib (0.1.12) depends on rhai with defaults, so cargo unifies them on:
   * the plugin matches what the host binary really contains.
   */
  rhaiDefaultFeatures: boolean;
  rhaiFeatures: string[];
  /** Only the reference host links rhai-dylib; the plugin never does. */
  rhaiDylib: string;
  rhaiDylibFeatures: string[];
  /** rhai renamed set_ahash_seed to set_hashing_seed in 1.17. */
  seedFunction: 'set_ahash_seed' | 'set_hashing_seed';
  /** Extension of the host's scripts (services, rules). */
  scriptExtension: 'vsl' | 'rhai';
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
    rhaiDylib: '0.1.7',
    rhaiDylibFeatures: ['sync'],
    seedFunction: 'set_ahash_seed',
    scriptExtension: 'vsl',
    note: 'rhai =1.13.0 as the published vSMTP 2.2 plugins pin it. The host uses rhai-dylib 0.1.7, the release made for rhai 1.13.0: 0.1.4 no longer compiles against rhai 1.13.0 (ModuleResolver::resolve_raw gained a Scope argument).',
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
    seedFunction: 'set_ahash_seed',
    scriptExtension: 'rhai',
    note: 'vSMTP 3.0.0-rc.1: rhai 1.16.3 with rhai-dylib 0.1.12, which turns rhai default features on in the host binary.',
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
    seedFunction: 'set_hashing_seed',
    scriptExtension: 'rhai',
    note: 'The current rhai-dylib release (0.11.0, needs rhai ^1.26.1) with the newest rhai; `internals` is required by rhai-dylib, `sync` because hosts share modules across threads.',
  },
];

export function profileById(id: string): HostProfile {
  const profile = profiles.find((candidate) => candidate.id === id);
  if (!profile) throw new Error(`unknown host profile ${id}`);
  return profile;
}

/** Versions of the tools the generated CI workflow uses, bumped together here. */
export const workflowPins = {
  checkout: 'actions/checkout@v4',
  rustToolchain: 'dtolnay/rust-toolchain@stable',
  setupPython: 'actions/setup-python@v5',
};
