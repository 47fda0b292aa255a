import { ToolchainMissing } from './errors.js';

export type StepStatus = 'passed' | 'failed' | 'skipped';

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
}

/** Collects steps as they finish, and tells a listener so a front end can show progress. */
export class StepLog {
  readonly steps: Step[] = [];
  constructor(private readonly onStep: (step: Step) => void = () => undefined) {}

  add(step: Step): Step {
    this.steps.push(step);
    this.onStep(step);
    return step;
  }

  /**
   * Times `work`; a thrown error becomes a failed step whose detail is the message.
   * A missing toolchain is not a failure of the step: it goes up, to be reported as skipped.
   */
  async run<T>(name: string, work: () => Promise<{ value: T; detail: string }>): Promise<T | undefined> {
    const started = performance.now();
    try {
      const { value, detail } = await work();
      this.add({ name, ok: true, status: 'passed', ms: performance.now() - started, detail });
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

export function formatStep(step: Step): string {
  const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' }[step.status];
  const time = step.ms >= 1000 ? `${(step.ms / 1000).toFixed(1)} s` : `${Math.round(step.ms)} ms`;
  const [first, ...rest] = step.detail.split('\n');
  return [`${mark} ${step.name} (${time})${first ? `: ${first}` : ''}`, ...rest.map((line) => `       ${line}`)].join('\n');
}
