// An interrupt at any moment of `new` leaves the destination untouched or complete,
// and nothing staged beside it. The moments are random; the seed is printed.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { bin, cli, tempDir } from './helpers.js';
import { count } from './reliability.js';

/** mulberry32: small, seedable, good enough to spread delays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const listing = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();

describe('SIGINT during generation', () => {
  it.each(['vsmtp', 'lgc'])('leaves a %s project untouched or complete', { timeout: 5 * 60_000 }, async (kind) => {
    const seed = Number(process.env.INTERRUPT_SEED ?? Date.now() % 1_000_000);
    console.log(`interrupt test (${kind}): seed ${seed} (INTERRUPT_SEED=${seed} repeats it)`);
    const next = random(seed);
    const dry = await cli(['new', kind, join(tempDir(), 'p'), '--name', 'p', '--yes', '--author', 'A', '--dry-run', '--json']);
    const expected = (JSON.parse(dry.stdout).files as string[]).sort();
    const outcomes = { untouched: 0, complete: 0 };
    for (let run = 0; run < 25; run++) {
      const parent = tempDir();
      const dest = join(parent, 'p');
      // Every other run into an empty directory that exists already (`new kind .`): it must stay.
      const premade = run % 2 === 1;
      if (premade) mkdirSync(dest);
      const child = execa(process.execPath, [bin, 'new', kind, dest, '--name', 'p', '--yes', '--author', 'A', '--no-git'], { reject: false, stdin: 'ignore' });
      await sleep(Math.floor(next() * 300));
      child.kill('SIGINT');
      count('interrupts', { injected: 1 });
      const result = await child;
      expect(readdirSync(parent), `run ${run}, seed ${seed}`).toEqual(existsSync(dest) ? ['p'] : []);
      const written = existsSync(dest) ? readdirSync(dest) : [];
      if (written.length) {
        expect(listing(dest), `run ${run}, seed ${seed}, exit ${result.exitCode}`).toEqual(expected);
        outcomes.complete++;
      } else {
        expect(existsSync(dest), `run ${run}, seed ${seed}: the directory is there exactly when it was before`).toBe(premade);
        outcomes.untouched++;
      }
      count('interrupts', { handled: 1 });
    }
    console.log(`interrupt test (${kind}): ${outcomes.untouched} untouched, ${outcomes.complete} complete`);
  });
});
