import type { Confinement } from './sandbox.js';
import { ToolchainMissing } from './errors.js';

/** 'warned': passed, but the real host would misbehave (the detail says how). */
export type StepStatus = 'passed' | 'warned' | 'failed' | 'skipped';

export interface Step {
  name: string;
  ok: boolean;
  status: StepStatus;
  ms: number;
  detail: string;
}

export interface VerifyReport {
  kind: string;
  ok: boolean;
  /** 'skipped' when a toolchain is missing: never counted as passed. */
  status: StepStatus;
  artifact: string | null;
  steps: Step[];
  /** The most likely reason for a failure, in words a plugin author can act on. */
  cause?: string;
  /** The sandbox and limits the host ran under (native hosts). */
  confinement?: Confinement;
}

/** What a front end is told while verify works: a step began, what it is doing, how it ended. */
export interface Progress {
  begin(name: string): void;
  note(text: string): void;
  end(step: Step): void;
}

const silent: Progress = { begin: () => undefined, note: () => undefined, end: () => undefined };

/** Collects steps as they finish, telling a front end when each begins and ends. */
export class StepLog {
  readonly steps: Step[] = [];
  /** How the host that loaded the plugin was confined, once one has run. */
  confinement?: Confinement;
  constructor(private readonly progress: Progress = silent) {}

  add(step: Step): Step {
    this.steps.push(step);
    this.progress.end(step);
    return step;
  }

  /** A step whose result comes later, from elsewhere (a host reporting its own steps). */
  begin(name: string): void {
    this.progress.begin(name);
  }

  /**
   * Times `work`; a thrown error becomes a failed step whose detail is the message.
   * A missing toolchain is not a failure of the step: it goes up, to be reported as skipped.
   * `work` may say what it is doing meanwhile (long first-time work, above all), and
   * may find that its check cannot run here: `skipped`, with the detail saying why.
   */
  async run<T>(name: string, work: (note: (text: string) => void) => Promise<{ value: T; detail: string; skipped?: boolean }>): Promise<T | undefined> {
    const started = performance.now();
    this.progress.begin(name);
    try {
      const { value, detail, skipped } = await work((text) => this.progress.note(text));
      this.add({ name, ok: !skipped, status: skipped ? 'skipped' : 'passed', ms: performance.now() - started, detail });
      return value;
    } catch (error) {
      if (error instanceof ToolchainMissing) throw error;
      this.add({ name, ok: false, status: 'failed', ms: performance.now() - started, detail: (error as Error).message });
      return undefined;
    }
  }

  get failed(): boolean {
    return this.steps.some((step) => step.status === 'failed');
  }
}

/** The last line of a passed verify: warnings and skipped checks are counted, never hidden. */
export function verifiedLine(report: VerifyReport): string {
  const count = (status: StepStatus) => report.steps.filter((step) => step.status === status).length;
  const [warned, skipped] = [count('warned'), count('skipped')];
  const notes = [
    ...(warned ? [`${warned} warning${warned > 1 ? 's' : ''}`] : []),
    ...(skipped ? [`${skipped} check${skipped > 1 ? 's' : ''} skipped`] : []),
  ];
  return `verified: ${report.artifact}${notes.length ? ` (${notes.join(', ')}, listed above)` : ''}`;
}

export function formatStep(step: Step): string {
  const mark = { passed: 'ok  ', warned: 'warn', failed: 'FAIL', skipped: 'skip' }[step.status];
  const time = step.ms >= 1000 ? `${(step.ms / 1000).toFixed(1)} s` : `${Math.round(step.ms)} ms`;
  const [first, ...rest] = step.detail.split('\n');
  return [`${mark} ${step.name} (${time})${first ? `: ${first}` : ''}`, ...rest.map((line) => `       ${line}`)].join('\n');
}
