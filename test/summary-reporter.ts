import type { Reporter, TestModule } from 'vitest/node';
import type { Counts } from './reliability.js';

export type Totals = Record<string, Partial<Counts>>;

/** Adds counts area by area; the tests use it on their meta, the reporter on the totals. */
export function addCounts(into: Totals, from: Totals): void {
  for (const [area, counts] of Object.entries(from)) {
    const totals = (into[area] ??= {});
    for (const [key, value] of Object.entries(counts) as Array<[keyof Counts, number]>) totals[key] = (totals[key] ?? 0) + value;
  }
}

function reliabilityTable(totals: Totals): string[] {
  const areas = Object.keys(totals).sort();
  if (!areas.length) return [];
  const sum = (key: keyof Counts) => areas.reduce((n, area) => n + (totals[area]![key] ?? 0), 0);
  const columns: Array<[keyof Counts, string]> = [['generated', 'cases'], ['refused', 'refused'], ['built', 'built+verified'], ['injected', 'faults'], ['handled', 'handled']];
  const width = Math.max(...areas.map((a) => a.length), 5);
  const row = (label: string, value: (key: keyof Counts) => number) => `  ${label.padEnd(width)}${columns.map(([key, title]) => String(value(key) || '-').padStart(title.length + 2)).join('')}`;
  return [
    '',
    'Reliability (this run):',
    `  ${''.padEnd(width)}${columns.map(([, title]) => `  ${title}`).join('')}`,
    ...areas.map((area) => row(area, (key) => totals[area]![key] ?? 0)),
    row('total', sum),
    `  ${sum('generated')} cases generated, ${sum('refused')} bad inputs refused, ${sum('built')} generated projects built and verified; ${sum('injected')} faults injected, ${sum('handled')} handled cleanly`,
  ];
}

/** Ends the run with the reliability counts and the plain "N passed, N failed, N skipped" line CI reads. */
export default class SummaryLine implements Reporter {
  private readonly started = performance.now();

  /** The run's wall time and its slowest files: where to look when CI's budget gets tight. */
  private timing(modules: ReadonlyArray<TestModule>): string {
    const slowest = modules
      .map((module) => ({ file: module.moduleId.replace(/^.*\/test\//, 'test/'), ms: module.diagnostic().duration }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map(({ file, ms }) => `${file} ${(ms / 1000).toFixed(0)} s`);
    return `\nWall time: ${((performance.now() - this.started) / 1000).toFixed(0)} s; slowest files: ${slowest.join(', ')}`;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const totals: Totals = {};
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        counts[state === 'passed' ? 'passed' : state === 'failed' ? 'failed' : 'skipped']++;
        addCounts(totals, test.meta().reliability ?? {});
      }
    }
    console.log([...reliabilityTable(totals), this.timing(modules), `\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`].join('\n'));
  }
}
