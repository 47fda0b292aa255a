// Bundles the vsmtp-plugin bin into dist/bin: one file to parse instead of ~40 modules
// and their packages, which is most of what `new` spends beyond Node's own start.
// - cli.cjs: lib/cli.ts and what it imports. CommonJS: Node 20 starts it without its
//   ES-module loader (about 8 ms less), and lib/bin.ts can run it with V8's code cache.
// - vsmtp-plugin.cjs: lib/bin.ts, the bin, which runs cli.cjs.
// - vendor/: what only some commands need (execa, prompts, the merge and lock
//   libraries), imported lazily in the sources and never loaded by `new`.
// - Node's heavier built-in modules load on first use (lazy-builtins below).
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const lazy = ['execa', 'prompts', 'diff', 'node-diff3', 'proper-lockfile'];
const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };

// From scratch: files of an earlier build would otherwise stay, and be packed.
rmSync('dist/bin', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: Object.fromEntries(lazy.map((name) => [name, name])),
  outdir: 'dist/bin/vendor',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
});
const cjs = {
  ...common,
  outdir: 'dist/bin',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // "use strict" first, as the ES modules it is made of were: a banner goes above esbuild's own.
  banner: { js: "'use strict';\nconst vsmtpPluginUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': 'vsmtpPluginUrl' },
};
await build({
  ...cjs,
  entryPoints: { cli: 'lib/cli.ts' },
  // import() of vendor/ as require(): V8's code cache drops a script's import() callback on Node 20.
  supported: { 'dynamic-import': false },
  plugins: [
    {
      // Node 20 loads a built-in module's whole graph when it is required: crypto costs
      // about 4 ms, child_process (with net and streams) 3. Their functions load the module
      // on first call instead, so a command pays only for what it calls (--version and
      // --help need none of them). Only plain functions are offered: importing a class or
      // a constant from these modules fails the build.
      name: 'lazy-builtins',
      setup(bundler) {
        bundler.onResolve({ filter: /^node:(crypto|child_process|fs\/promises)$/ }, (args) =>
          args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' },
        );
        bundler.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
          const module = await import(args.path);
          const functions = Object.keys(module).filter((name) => /^[a-z]/.test(name) && typeof module[name] === 'function');
          const contents = [
            `let loaded; const load = () => (loaded ??= require(${JSON.stringify(args.path)}));`,
            ...functions.map((name) => `export function ${name}(...args) { return load().${name}(...args); }`),
          ].join('\n');
          return { contents, resolveDir: '.' };
        });
      },
    },
    {
      name: 'lazy-vendor',
      setup(bundler) {
        const names = new RegExp(`^(${lazy.join('|')})$`);
        bundler.onResolve({ filter: names }, (args) => {
          if (args.kind !== 'dynamic-import') throw new Error(`${args.importer} imports ${args.path} statically: it is only to be imported lazily`);
          return { path: `./vendor/${args.path}.cjs`, external: true };
        });
      },
    },
  ],
});
// The bin keys its code cache of cli.cjs by this build's checksum.
const cliHash = createHash('sha256').update(readFileSync('dist/bin/cli.cjs')).digest('hex').slice(0, 16);
await build({
  ...cjs,
  entryPoints: { 'vsmtp-plugin': 'lib/bin.ts' },
  define: { ...cjs.define, VSMTP_PLUGIN_CLI_HASH: JSON.stringify(cliHash) },
});
