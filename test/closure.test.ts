// rhai's closure as read from cargo: graphs told apart, differences named crate by crate.
import { describe, expect, it } from 'vitest';
import { closureDifferences, closureFromUnitGraph, parseTree, type ClosureCrate } from '../lib/kinds/vsmtp/closure.js';
import { count } from './reliability.js';

// Shaped like `cargo tree -e normal,build -f '{p}|{f}' --no-dedupe` of a host whose
// build script also uses rhai (as vSMTP 2.2.1's does), with other features there.
const hostTree = `host v0.1.0 (/src/host)|default
├── rhai v1.13.0|default,sync
│   ├── ahash v0.8.3|runtime-rng,std
│   │   ├── getrandom v0.2.8|std
│   │   └── once_cell v1.17.1|alloc,race
│   │   [build-dependencies]
│   │   └── version_check v0.9.4|
│   ├── rhai_codegen v1.5.0 (proc-macro)|metadata
│   │   └── syn v1.0.109|full,visit
│   │       └── quote v1.0.26|default
│   └── serde_json v1.0.95|alloc,std
[build-dependencies]
└── rules v0.1.0|default
    └── rhai v1.13.0|default,sync
        └── serde_json v1.0.95|alloc,default,std
`;

describe('parseTree', () => {
  it('reads the linked rhai and tells the build graph from the normal one', () => {
    const crates = parseTree(hostTree);
    expect(crates.map((c) => `${c.graph} ${c.name} ${c.version} ${c.features.join(',')}`)).toEqual([
      'normal rhai 1.13.0 default,sync',
      'normal ahash 0.8.3 runtime-rng,std',
      'normal getrandom 0.2.8 std',
      'normal once_cell 1.17.1 alloc,race',
      'normal serde_json 1.0.95 alloc,std',
      'build quote 1.0.26 default',
      'build rhai_codegen 1.5.0 metadata',
      'build syn 1.0.109 full,visit',
      'build version_check 0.9.4 ',
    ]);
  });

  it('skips a rhai that only a build script uses', () => {
    const onlyBuild = `host v0.1.0 (/src/host)|default
[build-dependencies]
└── rules v0.1.0|default
    └── rhai v1.13.0|default,sync
`;
    expect(parseTree(onlyBuild)).toEqual([]);
  });
});

describe('closureDifferences', () => {
  const host = parseTree(hostTree);
  const change = (edit: (crates: ClosureCrate[]) => ClosureCrate[]) => closureDifferences(host, edit(structuredClone(host)));

  it('finds nothing in the same closure', () => {
    expect(closureDifferences(host, structuredClone(host))).toEqual([]);
  });

  it.each([
    ['another version', (c: ClosureCrate[]) => c.map((x) => (x.name === 'ahash' ? { ...x, version: '0.8.12' } : x)), 'ahash (normal graph): the host has 0.8.3, the plugin 0.8.12'],
    ['a feature missing', (c: ClosureCrate[]) => c.map((x) => (x.name === 'serde_json' ? { ...x, features: ['alloc'] } : x)), 'serde_json 1.0.95 (normal graph) features: the host enables std, the plugin does not'],
    ['a feature extra', (c: ClosureCrate[]) => c.map((x) => (x.name === 'syn' ? { ...x, features: [...x.features, 'extra-traits'] } : x)), 'syn 1.0.109 (build graph) features: the plugin enables extra-traits, the host does not'],
    ['a crate missing', (c: ClosureCrate[]) => c.filter((x) => x.name !== 'version_check'), 'version_check 0.9.4 (build graph): in the host\'s rhai closure, not in the plugin\'s'],
    ['a crate extra', (c: ClosureCrate[]) => [...c, { graph: 'normal' as const, name: 'memchr', version: '2.8.0', features: [] }], 'memchr 2.8.0 (normal graph): in the plugin\'s rhai closure, not in the host\'s'],
  ])('names %s', (_, edit, expected) => {
    count('plugin faults: vsmtp closure', { injected: 1 });
    expect(change(edit)).toEqual([expected]);
    count('plugin faults: vsmtp closure', { handled: 1 });
  });
});

describe('closureFromUnitGraph', () => {
  it('follows the linked rhai, not the build-script one, and marks build-override units as the build graph', () => {
    const unit = (id: string, name: string, opt: string, features: string[], deps: number[], kind = ['lib']) => ({
      pkg_id: `registry+https://github.com/rust-lang/crates.io-index#${id}`,
      target: { name, kind },
      profile: { opt_level: opt },
      mode: 'build',
      features,
      dependencies: deps.map((index) => ({ index })),
    });
    const graph = {
      units: [
        unit('rhai@1.13.0', 'rhai', '0', ['default'], [3]),
        unit('rhai@1.13.0', 'rhai', '3', ['default', 'sync'], [2, 4]),
        unit('serde_json@1.0.95', 'serde_json', '3', ['std', 'alloc'], [5]),
        unit('serde_json@1.0.95', 'serde_json', '0', ['alloc', 'default', 'std'], []),
        unit('rhai_codegen@1.5.0', 'rhai_codegen', '0', ['metadata'], [], ['proc-macro']),
        unit('serde_json@1.0.95', 'build-script-build', '0', ['std', 'alloc'], [], ['custom-build']),
      ],
    };
    expect(closureFromUnitGraph(JSON.stringify(graph))).toEqual([
      { graph: 'normal', name: 'rhai', version: '1.13.0', features: ['default', 'sync'] },
      { graph: 'normal', name: 'serde_json', version: '1.0.95', features: ['alloc', 'std'] },
      { graph: 'build', name: 'rhai_codegen', version: '1.5.0', features: ['metadata'] },
    ]);
  });
});
