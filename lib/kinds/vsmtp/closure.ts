/**
 * rhai's dependency closure as cargo resolved it. rhai computes function hashes from
 * Rust type identities, and those change with the version or enabled features of any
 * crate rhai is compiled with, so a plugin matches its host only when the whole closure
 * is the same, graph by graph: cargo unifies features separately for the normal graph
 * (what is linked) and the build graph (proc-macros and build scripts).
 */
export type Graph = 'normal' | 'build';

export interface ClosureCrate {
  graph: Graph;
  name: string;
  version: string;
  features: string[];
}

/** rhai first, then what is linked, then the build graph: the first difference is the likeliest cause. */
function inClosureOrder(crates: Iterable<ClosureCrate>): ClosureCrate[] {
  const order = (c: ClosureCrate) => `${c.name === 'rhai' ? 0 : 1}${c.graph === 'normal' ? 0 : 1} ${c.name} ${c.version}`;
  return [...crates].sort((a, b) => order(a).localeCompare(order(b)));
}

/** `cargo tree` arguments whose output `parseTree` reads. */
export const treeArgs = ['tree', '--offline', '-e', 'normal,build', '-f', '{p}|{f}', '--no-dedupe', '-p', 'rhai'];

/**
 * Reads `cargo tree -e normal,build -f '{p}|{f}' --no-dedupe` (the default indented
 * prefix), of rhai alone (`-p rhai`) or of a whole host, and returns the closure of the
 * first rhai in the normal graph: the one linked into the binary (a host whose build
 * script uses rhai has a second one, with other features, in the build graph). A crate
 * is in the build graph when it is a proc-macro, a build dependency, or below one.
 */
export function parseTree(text: string): ClosureCrate[] {
  const crates = new Map<string, ClosureCrate>();
  // Per depth: whether the node at that depth is in the build graph, and whether
  // its children are being listed under a `[build-dependencies]` marker.
  const buildAt: boolean[] = [];
  const buildSection: boolean[] = [];
  let rhaiDepth: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^((?:[│ ]   |[├└]── )*)(.+)$/u.exec(line);
    if (!match) continue;
    const depth = [...match[1]!].length / 4;
    const body = match[2]!;
    if (body.startsWith('[')) {
      // A marker sits at its parent's depth; the children it introduces follow one deeper.
      buildSection[depth] = body === '[build-dependencies]';
      continue;
    }
    const node = /^(\S+) v(\S+)(?: \(([^)]*)\))?\|([^ ]*)(?: \(\*\))?$/.exec(body);
    if (!node) continue;
    const [, name, version, note, features] = node;
    buildSection.length = depth;
    const inBuild = note === 'proc-macro' || (depth > 0 && (buildAt[depth - 1]! || buildSection[depth - 1] === true));
    buildAt[depth] = inBuild;
    if (rhaiDepth !== undefined && depth <= rhaiDepth) break;
    if (rhaiDepth === undefined) {
      if (name !== 'rhai' || inBuild) continue;
      rhaiDepth = depth;
    }
    const graph: Graph = inBuild ? 'build' : 'normal';
    crates.set(`${graph} ${name} ${version}`, { graph, name: name!, version: version!, features: features ? features.split(',') : [] });
  }
  return inClosureOrder(crates.values());
}

function describe(crate: ClosureCrate): string {
  return `${crate.name} ${crate.version} (${crate.graph} graph)`;
}

/**
 * How the plugin's closure differs from the host's, first difference first: a crate
 * at another version, a crate missing or extra, or other features.
 */
export function closureDifferences(host: ClosureCrate[], plugin: ClosureCrate[]): string[] {
  const found: string[] = [];
  const byName = (crates: ClosureCrate[], graph: Graph, name: string) => crates.filter((c) => c.graph === graph && c.name === name);
  const key = (crate: ClosureCrate) => `${crate.graph} ${crate.name} ${crate.version}`;
  const pluginKeys = new Map(plugin.map((crate) => [key(crate), crate]));
  const hostKeys = new Map(host.map((crate) => [key(crate), crate]));
  for (const crate of host) {
    const mine = pluginKeys.get(key(crate));
    if (!mine) {
      const others = byName(plugin, crate.graph, crate.name).filter((c) => !hostKeys.has(key(c)));
      found.push(others.length
        ? `${crate.name} (${crate.graph} graph): the host has ${crate.version}, the plugin ${others.map((c) => c.version).join(', ')}`
        : `${describe(crate)}: in the host's rhai closure, not in the plugin's`);
      continue;
    }
    const missing = crate.features.filter((f) => !mine.features.includes(f));
    const extra = mine.features.filter((f) => !crate.features.includes(f));
    if (missing.length || extra.length) {
      const parts = [missing.length ? `the host enables ${missing.join(', ')}, the plugin does not` : '', extra.length ? `the plugin enables ${extra.join(', ')}, the host does not` : ''];
      found.push(`${describe(crate)} features: ${parts.filter(Boolean).join('; ')}`);
    }
  }
  for (const crate of plugin) {
    if (hostKeys.has(key(crate)) || byName(host, crate.graph, crate.name).some((c) => !pluginKeys.has(key(c)))) continue;
    found.push(`${describe(crate)}: in the plugin's rhai closure, not in the host's`);
  }
  return found;
}

interface Unit {
  pkg_id: string;
  target: { name: string; kind: string[] };
  profile: { opt_level: string };
  mode: string;
  features: string[];
  dependencies: { index: number }[];
}

/**
 * rhai's closure as a build really compiles it, from cargo's unit graph
 * (`cargo +nightly build --release --unit-graph -Z unstable-options`). Used to record a
 * host's closure: `cargo tree` resolves features as if dev-dependencies were built too,
 * so on a host with dev-dependencies it shows features its binary does not have (vSMTP
 * 2.2.1: `default` on serde_json). The build graph is told by its profile: cargo builds
 * build scripts, proc-macros and their dependencies with `build-override` (opt-level 0).
 */
export function closureFromUnitGraph(json: string): ClosureCrate[] {
  const units = (JSON.parse(json) as { units: Unit[] }).units;
  const isLinkedRhai = (unit: Unit) => unit.target.name === 'rhai' && unit.target.kind.includes('lib') && unit.profile.opt_level !== '0';
  const start = units.findIndex(isLinkedRhai);
  if (start < 0) throw new Error('no rhai library in the normal graph of this unit graph');
  const crates = new Map<string, ClosureCrate>();
  const seen = new Set<number>();
  const visit = (index: number) => {
    if (seen.has(index)) return;
    seen.add(index);
    const unit = units[index]!;
    // `registry+...#name@version`
    const [, name, version] = /#([^@]+)@(.+)$/.exec(unit.pkg_id) ?? [];
    if (name && version && !unit.target.kind.includes('custom-build')) {
      const graph: Graph = unit.profile.opt_level === '0' ? 'build' : 'normal';
      crates.set(`${graph} ${name} ${version}`, { graph, name, version, features: [...unit.features].sort() });
    }
    for (const dependency of unit.dependencies) visit(dependency.index);
  };
  visit(start);
  return inClosureOrder(crates.values());
}
