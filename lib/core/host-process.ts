import { constants } from 'node:os';
import { lastLines, outputLimit, run, type RunResult } from './exec.js';
import type { StepLog } from './report.js';
import { availableSandbox, confine, sandboxSettings, type Confined } from './sandbox.js';
import { sanitizerSummary } from './sanitizer.js';

/** Signals the rlimits send, as what the plugin did. */
const limitSignals: Record<string, string> = {
  SIGXCPU: 'used up its CPU time limit (--cpu-seconds) and was stopped',
  SIGXFSZ: 'wrote a file past the file size limit (--max-file-mb) and was stopped',
};

function signalName(number: number): string | undefined {
  return Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
}

export interface HostOutcome {
  result: RunResult;
  /** Set when the host did not finish on its own: hung, flooded its output, crashed or exited. */
  failure?: { kind: 'timeout' | 'output' | 'signal' | 'exit'; step: string; detail: string };
}

/**
 * Runs a reference host that prints one JSON step per line (`{name, ok, ms, detail}`,
 * optionally `status: "skipped"` or `"warned"`),
 * adding each to the log as `<label>: <name>` (label `host` by default). A host that is killed at the time limit,
 * dies by a signal or exits without reporting a failure gets a failed step of its
 * own, named after the step it was in (the first of `expected` it never reported).
 * A host built with sanitizers prints their reports on stderr: the first failed step
 * then carries their summary (`hostFrames` matches the host's own stack frames, left out).
 * A host that loads native code runs confined (`confine`: its inputs beyond the binary
 * and the path arguments, the directories it may write, whether it is sanitized); the
 * first such run of a verify adds a `sandbox` step saying how.
 */
export async function runHost(binary: string, args: string[], log: StepLog, options: { timeoutMs: number; expected: string[]; env?: Record<string, string>; prefix?: string; hostFrames?: RegExp; confine?: { read?: string[]; writable?: string[]; sanitized?: boolean } }): Promise<HostOutcome> {
  const label = options.prefix ?? 'host';
  // Only confined hosts probe for a sandbox: lgc's WebAssembly host never is.
  let confined: Confined | undefined;
  if (options.confine) {
    const settings = sandboxSettings();
    const available = availableSandbox();
    confined = await confine(binary, args, { tool: settings.enabled ? available.tool : undefined, limits: settings.limits, ...options.confine });
    if (!log.confinement) {
      log.confinement = confined.confinement;
      const unconfined = confined.confinement.tool === 'none';
      const why = !unconfined ? '' : settings.enabled ? `\nno sandbox can be made here: ${'why' in available ? available.why : ''}` : '\n--no-sandbox';
      log.add({ name: 'sandbox', ok: true, status: unconfined ? 'warned' : 'passed', ms: 0, detail: `${'version' in available && !unconfined ? `${available.version}; ` : ''}${confined.summary}${why}` });
    }
  }
  log.begin(`${label}: running`);
  const env = confined ? { ...process.env, ...confined.env, ...options.env } : options.env && { ...process.env, ...options.env };
  const ran = await run(confined?.file ?? binary, confined?.args ?? args, { timeoutMs: options.timeoutMs, env }).finally(() => confined?.cleanup());
  // Inside the sandbox a shell waits for the host: its death by a signal comes back as 128 + the signal.
  const result = confined && !ran.signal && ran.exitCode !== undefined && ran.exitCode > 128 ? { ...ran, signal: signalName(ran.exitCode - 128) } : ran;
  const sanitizer = sanitizerSummary(result.stderr, options.hostFrames);
  const seen: string[] = [];
  let reportedFailure = false;
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let step: { name: string; ok: boolean; ms: number; detail: string; status?: 'skipped' | 'warned' };
    try {
      step = JSON.parse(line);
    } catch {
      continue; // a plugin printing to stdout, not a host step
    }
    seen.push(step.name);
    // A host may skip a step that does not apply (lgc API 0.1 has no validate()), or
    // pass it with a warning (the real host accepts it but misbehaves).
    const status = step.status === 'skipped' ? 'skipped' : !step.ok ? 'failed' : step.status === 'warned' ? 'warned' : 'passed';
    const detail = status === 'failed' && !reportedFailure && sanitizer ? `${step.detail}\n${sanitizer}` : step.detail;
    reportedFailure ||= status === 'failed';
    log.add({ name: `${label}: ${step.name}`, ok: status === 'passed' || status === 'warned', status, ms: step.ms, detail });
  }
  const missing = options.expected.find((name) => !seen.includes(name));
  const finished = result.exitCode === 0 ? !missing : reportedFailure;
  if (!result.timedOut && !result.flooded && !result.signal && finished) return { result };

  const step = missing ?? `after ${seen.at(-1) ?? 'start'}`;
  const kind = result.timedOut ? 'timeout' : result.flooded ? 'output' : result.signal ? 'signal' : 'exit';
  const why = {
    timeout: `timed out after ${options.timeoutMs / 1000} s (the plugin hangs or blocks)`,
    output: `wrote more than ${outputLimit / 1024 / 1024} MB of output and was stopped`,
    signal: limitSignals[result.signal ?? ''] ?? `crashed with ${result.signal}`,
    exit: `exited with ${result.exitCode} before reporting "${step}"`,
  }[kind];
  const stderr = sanitizer ?? lastLines(result.stderr, 10);
  const detail = stderr ? `${why}\n${stderr}` : why;
  log.add({ name: `${label}: ${step}`, ok: false, status: 'failed', ms: result.ms, detail });
  return { result, failure: { kind, step, detail } };
}
