import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const cache = resolve(import.meta.dirname, '.cache');

export default defineConfig({
  test: {
    // yeoman-test changes the working directory: each file gets its own process.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One cargo target directory and host cache for every test, so rhai is compiled once per profile.
    env: {
      CARGO_TARGET_DIR: resolve(cache, 'cargo-target'),
      VSMTP_PLUGIN_CACHE: resolve(cache, 'vsmtp-plugin'),
    },
  },
});
