#!/usr/bin/env node
// The vsmtp-plugin command. It runs the bundled CLI (dist/bin/cli.cjs) with V8's code
// cache for it, kept in the tool's cache: a command after the first does not compile
// the CLI again (about 10 ms of `new`). Node 22 does this for every module
// (module.enableCompileCache); Node 20 does not, and the v8-compile-cache package does it
// by patching the internals of Node's module loader, for one script that matters here.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { cacheDir } from './core/cache-dir.js';

/** cli.cjs's checksum, set by scripts/bundle.mjs. */
declare const VSMTP_PLUGIN_CLI_HASH: string;

const cli = fileURLToPath(new URL('cli.cjs', import.meta.url));
const store = join(cacheDir(), 'node-code');
// V8 checks its own version and flags, but of the source only its length: the key names the build.
const cacheName = `cli-${VSMTP_PLUGIN_CLI_HASH}-${process.version}-${process.arch}.bin`;
const cacheFile = join(store, cacheName);

let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // Not made yet: made when this command ends.
}
// The CommonJS wrapper, on the source's first line so that stack traces keep their line numbers.
// No import() in it: a script from the code cache loses its import() callback on Node 20,
// so the bundle loads vendor/ with require() (scripts/bundle.mjs).
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(cli, 'utf8')}\n})`, { filename: cli, cachedData });

// After the command, so that the cache holds the functions it compiled on the way; not
// after `cache`, which shows the cache or empties it.
const missed = cachedData === undefined || script.cachedDataRejected;
if (missed && process.argv[2] !== 'cache') process.once('beforeExit', saveCodeCache);

function saveCodeCache(): void {
  try {
    mkdirSync(store, { recursive: true });
    // Other builds' caches: one build's is enough.
    for (const name of readdirSync(store)) if (name !== cacheName) rmSync(join(store, name), { force: true });
    const written = `${cacheFile}.${process.pid}`;
    writeFileSync(written, script.createCachedData());
    renameSync(written, cacheFile);
  } catch {
    // The cache only saves time: a read-only home still runs every command.
  }
}

const cliModule = { exports: {} };
script.runInThisContext()(cliModule.exports, createRequire(cli), cliModule, cli, dirname(cli));
