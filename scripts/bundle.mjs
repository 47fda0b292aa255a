// Bundles the vsmtp-plugin bin into dist/bin: one file to parse instead of ~40 modules
// and their packages, which is most of what `new` spends beyond Node's own start.
// What only some commands need (execa, prompts, the merge and lock libraries) is
// imported lazily in the sources and stays in chunks `new` never loads.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry a hash: the last build's chunks would otherwise pile up.
rmSync('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: { 'vsmtp-plugin': 'lib/cli.ts' },
  outdir: 'dist/bin',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The CommonJS packages inside (ejs) call require() for Node's own modules.
  banner: { js: "import { createRequire as vsmtpPluginRequire } from 'node:module'; const require = vsmtpPluginRequire(import.meta.url);" },
  logLevel: 'warning',
});
