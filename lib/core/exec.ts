import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ToolchainMissing } from './errors.js';

export interface RunResult {
  command: string;
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  /** It wrote more than the output limit and was killed for it. */
  flooded: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs: number;
  /** Each whole line of standard output as it arrives (progress from a tool's JSON messages). */
  onLine?: (line: string) => void;
}

let echo: NodeJS.WritableStream | undefined;

/** `--verbose`: every child's output is also copied to `stream` as it arrives. */
export function echoOutput(stream: NodeJS.WritableStream | undefined): void {
  echo = stream;
}

/** Output a child may write; past it the child is killed (a plugin flooding its output). */
export const outputLimit = 16 * 1024 * 1024;

/**
 * Runs a child process to completion with a hard time limit (SIGKILL on expiry). It
 * gets a process group of its own, killed whole when it ends, so nothing it forked
 * (a plugin's children included) outlives it.
 */
export async function run(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  const { execa } = await import('execa');
  const started = performance.now();
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    reject: false,
    stdin: 'ignore',
    maxBuffer: 2 * outputLimit,
    detached: true,
  });
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  // Counted as it arrives: a writer that ignores SIGPIPE (any Python host) would
  // otherwise spin until the time limit once the pipe is closed.
  let written = 0;
  let flooded = false;
  const count = (chunk: Buffer) => {
    echo?.write(chunk);
    written += chunk.length;
    if (written > outputLimit && !flooded) {
      flooded = true;
      killGroup();
    }
  };
  child.stdout?.on('data', count);
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (!options.onLine) return;
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop()!;
    for (const line of lines) options.onLine(line);
  });
  child.stderr?.on('data', count);
  // When it exits, whatever it left running goes too: a forked grandchild holding
  // its output pipes open would otherwise keep this waiting forever.
  child.once('exit', killGroup);
  const result = await child.finally(killGroup);
  return {
    command: [file, ...args].join(' '),
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    flooded: flooded || result.isMaxBuffer,
    stdout: result.stdout,
    stderr: result.stderr,
    ms: performance.now() - started,
  };
}

/** The last lines of some output, each cut to a readable length. */
export function lastLines(text: string, lines: number): string {
  return text
    .trim()
    .split('\n')
    .slice(-lines)
    .map((line) => (line.length > 300 ? `${line.slice(0, 300)}… (${line.length} characters)` : line))
    .join('\n');
}

/** The last lines of a failed command's output, with the command that produced them. */
export function failureTail(result: RunResult, lines = 20): string {
  const output = lastLines(`${result.stderr}\n${result.stdout}`, lines);
  const how = result.timedOut ? 'timed out' : result.flooded ? 'output over the limit' : result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`;
  return `\`${result.command}\` failed (${how}):\n${output}`;
}

export interface Tool {
  /** Executable looked up on PATH. */
  command: string;
  /** What `doctor` calls it, when that is not the command (a package pip installs). */
  label?: string;
  /** Arguments that print its version; a tool that answers them non-zero counts as missing. */
  versionArgs: string[];
  /** The check asks a package index over the network: doctor runs it only with --online. */
  online?: boolean;
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
