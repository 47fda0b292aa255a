import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { kinds, kindById } from '../kinds/index.js';
import { ToolchainMissing, UsageError } from './errors.js';
import { readProjectRecord } from './generate.js';
import type { Kind, VerifyTarget } from './kind.js';
import { checkAnswer, type Answers } from './question.js';
import { StepLog, type Progress, type VerifyReport } from './report.js';
import { availableSandbox, configureSandbox, installSandbox } from './sandbox.js';

/** Finds the kind of a project directory (recorded answers first) or of an artifact. */
export function locate(path: string): { kind: Kind; target: VerifyTarget } {
  const full = resolve(path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(full).isDirectory();
  } catch {
    throw new UsageError(`verify: ${path} does not exist`);
  }
  if (isDirectory) {
    // From a subfolder of a project too, as cargo and git find theirs.
    for (let dir = full; ; dir = dirname(dir)) {
      const record = readProjectRecord(dir);
      if (record) return { kind: kindById(record.kind), target: { project: dir, answers: record.answers } };
      const kind = kinds.find((candidate) => candidate.detect(dir));
      if (kind) return { kind, target: { project: dir } };
      if (dirname(dir) === dir) break;
    }
    throw new UsageError(`verify: ${path} is not in a generated plugin project (no .yo-rc.json of this generator, no known layout, here or above)`);
  }
  const kind = kinds.find((candidate) => candidate.accepts(full));
  if (!kind) throw new UsageError(`verify: ${path} is not an artifact any kind can load`);
  return { kind, target: { artifact: full } };
}

/** Validates verify options against the kind's verify questions. */
export function verifyOptions(kind: Kind, given: Record<string, unknown>): Answers {
  const options: Answers = {};
  for (const question of kind.verifyOptions) {
    const value = given[question.name] ?? (typeof question.default === 'string' ? question.default : undefined);
    if (value !== undefined) options[question.name] = checkAnswer(question, value);
  }
  return options;
}

/** The cause when a kind knows no better one: the first failed step, in a line. */
function firstFailure(log: StepLog): string | undefined {
  const step = log.steps.find((candidate) => candidate.status === 'failed');
  return step && `${step.name.replace(/^host[^:]*: /, '')}: ${step.detail.split('\n')[0]}`;
}

/** Builds and verifies; a missing toolchain yields a skipped report, never a passed one. */
export async function verify(kind: Kind, target: VerifyTarget, options: Answers, progress?: Progress): Promise<VerifyReport> {
  const log = new StepLog(progress);
  if (process.platform !== 'linux') {
    // The reference hosts load ELF shared objects with dlopen (and lgc's runs on Linux CI images).
    const cause = `verify runs on Linux only (the reference hosts load ELF shared objects with dlopen); this is ${process.platform}. \`new\` works here: verify on Linux, in a container or in CI`;
    log.add({ name: 'platform', ok: false, status: 'skipped', ms: 0, detail: cause });
    return { kind: kind.id, ok: false, status: 'skipped', artifact: null, steps: log.steps, cause };
  }
  configureSandbox(options);
  // A bare artifact is the untrusted case: someone else's code, never run unconfined unasked.
  const sandbox = target.artifact && options.sandbox !== false && kind.verifyOptions.some((q) => q.name === 'sandbox') ? availableSandbox() : undefined;
  if (sandbox && !sandbox.tool) {
    const cause = `no sandbox can be made here (${sandbox.why}), and a bare artifact runs someone else's code with your rights: ${installSandbox}, or pass --no-sandbox to run it anyway`;
    log.add({ name: 'sandbox', ok: false, status: 'skipped', ms: 0, detail: cause });
    return { kind: kind.id, ok: false, status: 'skipped', artifact: null, steps: log.steps, cause };
  }
  try {
    const { artifact, cause } = await kind.verify(target, options, log);
    const failed = log.failed || artifact === null;
    return { kind: kind.id, ok: !failed, status: failed ? 'failed' : 'passed', artifact, cause: failed ? (cause ?? firstFailure(log)) : undefined, steps: log.steps, ...(log.confinement ? { confinement: log.confinement } : {}) };
  } catch (error) {
    if (error instanceof ToolchainMissing) {
      log.add({ name: 'toolchain', ok: false, status: 'skipped', ms: 0, detail: error.message });
      return { kind: kind.id, ok: false, status: 'skipped', artifact: null, steps: log.steps, cause: error.message };
    }
    throw error;
  }
}
