// Counts of what the suite throws at the generator and the verifier, carried on each
// test's meta to test/summary-reporter.ts, which prints the totals at the end.
import { TestRunner } from 'vitest';
import { addCounts } from './summary-reporter.js';

export interface Counts {
  /** Property cases generated. */
  generated: number;
  /** Bad inputs (answers, files) refused with a message. */
  refused: number;
  /** Generated projects built and verified for real. */
  built: number;
  /** Faults injected: crashes, hangs, floods, forks, interrupts, damaged caches. */
  injected: number;
  /** Faults whose every check passed: reported by name, nothing left behind. */
  handled: number;
}

declare module 'vitest' {
  interface TaskMeta {
    reliability?: Record<string, Partial<Counts>>;
  }
}

/** Adds to the counts of `area` on the running test. */
export function count(area: string, counts: Partial<Counts>): void {
  const test = TestRunner.getCurrentTest();
  if (!test) throw new Error('count() outside a test');
  addCounts((test.meta.reliability ??= {}), { [area]: counts });
}

/**
 * Runs a check that injects one fault: counted injected when it starts, and handled
 * only when the check returns, so a failing check shows as a fault not handled.
 */
export async function fault(area: string, check: () => Promise<void>): Promise<void> {
  count(area, { injected: 1 });
  await check();
  count(area, { handled: 1 });
}
