// The reference hosts' own test suites: each host checked directly against small
// plugins and archives made for the purpose, beside the end-to-end runs.
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

/** A host's pytest suite, which must pass with at least one test run. */
async function pytest(host: string) {
  const result = await execa('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', join(root, 'hosts', host)], {
    reject: false,
    env: { PYTHONDONTWRITEBYTECODE: '1' },
  });
  expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  expect(result.stdout).toMatch(/\d+ passed/);
  return result;
}

describe('reference hosts', () => {
  it('the VPlugin host passes its pytest suite', { timeout: 5 * 60_000 }, async () => {
    await pytest('vpl');
  });

  it('the lgc host passes its pytest suite (real componentize-py builds)', { timeout: 10 * 60_000 }, async () => {
    expect((await pytest('lgc')).stdout).not.toMatch(/skipped/);
  });

  it('the MailerQ host passes its self-test', { timeout: 5 * 60_000 }, async () => {
    const result = await execa('bash', [join(root, 'hosts', 'mailerq', 'selftest.sh')], { reject: false });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout, 'the sanitizer checks ran').not.toMatch(/^skip /m);
  });
});
