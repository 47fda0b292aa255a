// Opt-in, heavy: the generated lgc plugin in the REAL lgc 1.1.1, against the project's
// own test SIEM, through every command a user runs. Run with one of
//   LGC_REAL_BINARY=/path/to/lgc npm test -- test/real-lgc.test.ts
//   LGC_REAL=1 npm test -- test/real-lgc.test.ts   (builds it: hosts/lgc/real/build-lgc-1.1.1.sh,
//     ~17 min once; LGC_REAL_SOURCE=<checkout of tag lgc/1.1.1> when GitHub is out of reach)
// `services create` needs a terminal: it runs in tmux.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { cli, root, tempDir, testSiem } from './helpers.js';

const LONG = 40 * 60_000;
const enabled = Boolean(process.env.LGC_REAL_BINARY || process.env.LGC_REAL);

async function lgcBinary(): Promise<string> {
  if (process.env.LGC_REAL_BINARY) return process.env.LGC_REAL_BINARY;
  const script = join(root, 'hosts', 'lgc', 'real', 'build-lgc-1.1.1.sh');
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vsmtp-plugin');
  const source = process.env.LGC_REAL_SOURCE ? [process.env.LGC_REAL_SOURCE] : [];
  const built = await execa('bash', [script, cache, ...source], { stdin: 'ignore', timeout: LONG });
  return built.stdout.trim().split('\n').at(-1)!;
}

/** An lgc 1.x project as the generated README lays it out, the plugin installed. */
function lgcProject(wasm: string, name: string, settings: Record<string, unknown>) {
  const dir = tempDir();
  const home = join(dir, 'home');
  mkdirSync(join(home, 'plugins'), { recursive: true });
  copyFileSync(wasm, join(home, 'plugins', `${name}.wasm`));
  const work = join(dir, 'project');
  mkdirSync(join(work, 'rules', name), { recursive: true });
  const toml = Object.entries(settings).map(([key, value]) => `${key} = ${JSON.stringify(value)}`).join('\n');
  writeFileSync(join(work, 'lgc.toml'), `[core]\nbase_dir = ${JSON.stringify(home)}\nworkspace = "rules"\n\n[services.siem]\nenvironment = "dev"\nplugin = "${name}"\n\n[services.siem.settings]\n${toml}\n`);
  return work;
}

describe.skipIf(!enabled)('the generated lgc plugin in the real lgc 1.1.1', () => {
  it('services create, ping, validate, plan, apply, update, destroy: each as lgc should report it', { timeout: LONG }, async () => {
    const lgc = await lgcBinary();
    const project = join(tempDir(), 'siem-real');
    expect((await cli(['new', 'lgc', project, '--yes', '--author', 'E2E'])).exitCode).toBe(0);
    expect((await execa('make', ['build'], { cwd: project, reject: false })).exitCode).toBe(0);
    const siem = await testSiem(project);
    try {
      const work = lgcProject(join(project, 'siem-real.wasm'), 'siem-real', { url: siem.url, token: 'change-me', timeout: 30, severity: 'medium' });
      const rule = join(work, 'rules', 'siem-real', 'powershell.yaml');
      copyFileSync(join(project, 'samples', 'detection.json'), rule);
      const run = async (...args: string[]) => {
        const done = await execa(lgc, args, { cwd: work, reject: false, stdin: 'ignore', env: { NO_COLOR: '1' }, timeout: 120_000 });
        return { code: done.exitCode, out: done.stdout.replace(/\x1b\[[0-9;]*m/g, '') + done.stderr };
      };
      const path = 'rules/siem-real/powershell.yaml';

      expect(await run('ping', 'siem')).toMatchObject({ code: 0, out: expect.stringContaining('connection with siem successful') });
      expect(await run('validate')).toMatchObject({ code: 0, out: expect.stringContaining('all good') });
      expect((await run('plan')).out).toContain(`[+] ${path} will be created on siem`);
      expect((await run('apply', '-a')).out).toContain(`${path} created on siem`);
      expect((await run('plan')).out).toContain('no changes detected');
      copyFileSync(join(project, 'samples', 'detection-updated.json'), rule);
      expect((await run('plan')).out).toContain(`[~] ${path} will be updated on siem`);
      expect((await run('apply', '-a')).out).toContain(`${path} updated on siem`);
      expect((await run('plan')).out).toContain('no changes detected');
      expect((await run('destroy', '-a')).out).toContain(`${path} removed from siem`);
      expect((await run('plan')).out).toContain(`[+] ${path} will be created on siem`);
      // A plugin that flushed the request body lost the race with lgc's HTTP client now
      // and then (2 creates in 4 during a cargo build, 1 in 12 with 3 busy loops, none
      // idle): a few rounds, which catch it only on a loaded machine.
      for (let round = 0; round < 5; round++) {
        expect((await run('apply', '-a')).out).toContain(`${path} created on siem`);
        expect((await run('destroy', '-a')).out).toContain(`${path} removed from siem`);
      }
      expect(siem.log()).not.toMatch(/-> (400|401|500)/);

      // A dead service is an error, with the plugin's reason.
      const toml = join(work, 'lgc.toml');
      writeFileSync(toml, readFileSync(toml, 'utf8').replace(siem.url, 'http://127.0.0.1:9'));
      expect(await run('ping', 'siem')).toMatchObject({ code: 1, out: expect.stringContaining('unable to contact siem: cannot reach http://127.0.0.1:9') });

      // services create (a terminal, answering "no" to configuring now) takes the defaults and ends.
      const done = join(work, 'done');
      await execa('tmux', ['new-session', '-d', '-s', `lgc-${process.pid}`, '-x', '200', '-y', '50', '-c', work, `${lgc} services create -i second -p siem-real -e dev; echo $? > ${done}`]);
      await sleep(3000);
      await execa('tmux', ['send-keys', '-t', `lgc-${process.pid}`, 'n', 'Enter']);
      for (let waited = 0; waited < 60 && !existsSync(done); waited++) await sleep(1000);
      await execa('tmux', ['kill-session', '-t', `lgc-${process.pid}`], { reject: false });
      expect(existsSync(done) && readFileSync(done, 'utf8').trim()).toBe('0');
      expect(readFileSync(toml, 'utf8')).toMatch(/\[services\.second\.settings\][\s\S]*url = "http:\/\/127\.0\.0\.1:8080"/);
    } finally {
      siem.stop();
    }
  });
});
