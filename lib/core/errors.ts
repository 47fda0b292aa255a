/** Exit codes shared by every front end. */
export const EXIT = { ok: 0, failed: 1, usage: 2, skipped: 3 } as const;

/** Bad input or usage: exit 2, nothing written. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A required tool is missing: the step is skipped (exit 3), never reported as passed. */
export class ToolchainMissing extends Error {
  override name = 'ToolchainMissing';
  constructor(
    readonly tool: string,
    readonly install: string,
    readonly why: string,
  ) {
    super(`${tool} not found (${why}); install it: ${install}`);
  }
}
