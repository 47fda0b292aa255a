import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ToolchainMissing } from './errors.js';

export interface RunResult {
  command: string;
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs: number;
}

/** Runs a child process to completion with a hard time limit (SIGKILL on expiry). */
export async function run(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  const { execa } = await import('execa');
  const started = performance.now();
  const result = await execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    reject: false,
    stdin: 'ignore',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    command: [file, ...args].join(' '),
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    stdout: result.stdout,
    stderr: result.stderr,
    ms: performance.now() - started,
  };
}

/** The last lines of a failed command's output, with the command that produced them. */
export function failureTail(result: RunResult, lines = 20): string {
  const output = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-lines).join('\n');
  const how = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`;
  return `\`${result.command}\` failed (${how}):\n${output}`;
}

export interface Tool {
  /** Executable looked up on PATH. */
  command: string;
  /** Arguments that print its version; a tool that answers them non-zero counts as missing. */
  versionArgs: string[];
  why: string;
  install: string;
}

export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface ToolStatus extends Tool {
  found: boolean;
  path?: string;
  version?: string;
}

export function probe(tool: Tool): ToolStatus {
  const path = which(tool.command);
  if (!path) return { ...tool, found: false };
  const answer = spawnSync(path, tool.versionArgs, { encoding: 'utf8', timeout: 15_000 });
  if (answer.status !== 0) return { ...tool, found: false, path };
  return { ...tool, found: true, path, version: answer.stdout.trim().split('\n')[0] };
}

/** Throws ToolchainMissing for the first tool that is not usable. */
export function requireTools(tools: Tool[]): void {
  for (const tool of tools) {
    const status = probe(tool);
    if (!status.found) throw new ToolchainMissing(tool.command, tool.install, tool.why);
  }
}
