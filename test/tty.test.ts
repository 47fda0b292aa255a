import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, root, tempDir } from './helpers.js';

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', 'vsmtp-plugin-test', ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);
let session = 'yo';

async function waitFor(text: string, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const shown = screen();
    if (shown.includes(text)) return shown;
    await sleep(100);
  }
  throw new Error(`"${text}" never appeared; the screen shows:\n${screen()}`);
}

describe('prompts in a pseudo-terminal', () => {
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  });

  it('answers the prompts of `yo vsmtp-plugin` with keystrokes', async () => {
    const base = tempDir();
    chmodSync(base, 0o755); // mkdtemp makes it 0700: the user yo drops to must get through
    // yo finds the generator in node_modules above the working directory.
    mkdirSync(join(base, 'node_modules'));
    symlinkSync(root, join(base, 'node_modules', 'generator-vsmtp-plugin'));
    const work = join(base, 'work');
    const home = join(base, 'home');
    mkdirSync(work);
    mkdirSync(home);
    // As root, yo drops to SUDO_UID (or 1000): that user needs the project and a home.
    const uid = process.getuid?.() === 0 ? 1000 : undefined;
    if (uid !== undefined) for (const dir of [work, home]) chownSync(dir, uid, uid);
    const env = `HOME=${home} NO_UPDATE_NOTIFIER=1${uid !== undefined ? ` SUDO_UID=${uid} SUDO_GID=${uid}` : ''}`;
    tmux('new-session', '-d', '-s', 'yo', '-x', '120', '-y', '40', '-c', work, `env ${env} ${join(root, 'node_modules', '.bin', 'yo')} vsmtp-plugin --no-insight; echo "yo exited $?"; sleep 60`);

    await waitFor('Which kind of plugin?');
    tmux('send-keys', '-t', 'yo', 'Enter');
    await waitFor('Plugin name');
    tmux('send-keys', '-t', 'yo', '-l', 'pty-demo');
    tmux('send-keys', '-t', 'yo', 'Enter');
    await waitFor('Description');
    tmux('send-keys', '-t', 'yo', 'Enter');
    await waitFor('Author');
    tmux('send-keys', '-t', 'yo', 'Enter');
    await waitFor('License');
    tmux('send-keys', '-t', 'yo', 'Down', 'Enter'); // MIT
    await waitFor('Target host');
    tmux('send-keys', '-t', 'yo', 'Down', 'Enter'); // vSMTP 3.0
    await waitFor('hashing seed');
    tmux('send-keys', '-t', 'yo', 'Enter');
    const final = await waitFor('yo exited');

    expect(final).toContain('yo exited 0');
    expect(final).toContain('create src/lib.rs');
    expect(existsSync(join(work, 'services', 'pty-demo.rhai'))).toBe(true);
    const answers = JSON.parse(readFileSync(join(work, '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'].answers;
    expect(answers).toMatchObject({ name: 'pty-demo', license: 'MIT', profile: 'vsmtp-3', seed: '1, 2, 3, 4' });
  });

  it('the CLI prompts with a TTY for what no option gave', async () => {
    const work = tempDir();
    session = 'cli';
    tmux('new-session', '-d', '-s', 'cli', '-x', '120', '-y', '40', '-c', work, `${process.execPath} ${bin} new vsmtp tty-plugin --license MIT; echo "cli exited $?"; sleep 60`);
    await waitFor('Plugin name');
    tmux('send-keys', '-t', 'cli', 'Enter'); // the default, from the directory name
    for (const prompt of ['Description', 'Author', 'Target host']) {
      await waitFor(prompt);
      tmux('send-keys', '-t', 'cli', 'Enter');
    }
    await waitFor('hashing seed');
    tmux('send-keys', '-t', 'cli', '-l', '9,9,9,9');
    tmux('send-keys', '-t', 'cli', 'Enter');
    const final = await waitFor('cli exited');
    expect(final).toContain('cli exited 0');
    expect(final).not.toContain('License'); // given as an option, not asked
    const answers = JSON.parse(readFileSync(join(work, 'tty-plugin', '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'].answers;
    expect(answers).toMatchObject({ name: 'tty-plugin', license: 'MIT', profile: 'vsmtp-2', seed: '9, 9, 9, 9' });
  });

  it('new with no kind and no directory asks for both on a TTY, then the kind\'s questions', async () => {
    const work = tempDir();
    session = 'pick';
    tmux('new-session', '-d', '-s', 'pick', '-x', '120', '-y', '40', '-c', work, `${process.execPath} ${bin} new --yes --no-git; echo "cli exited $?"; sleep 60`);
    await waitFor('Which kind of plugin?');
    tmux('send-keys', '-t', 'pick', 'Down', 'Down', 'Down', 'Enter'); // vpl
    await waitFor('Directory for the new project');
    expect(screen()).toContain('my-vpl-plugin');
    tmux('send-keys', '-t', 'pick', 'Enter'); // the offered directory; the name comes from it
    const final = await waitFor('cli exited');
    expect(final).toContain('cli exited 0');
    expect(final).toMatch(/Next:\s+cd my-vpl-plugin\s+make/);
    expect(JSON.parse(readFileSync(join(work, 'my-vpl-plugin', '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin']).toMatchObject({ kind: 'vpl', answers: { name: 'my-vpl-plugin' } });
  });

  it('verify shows a live spinner with elapsed time while a step runs, then its result', { timeout: 5 * 60_000 }, async () => {
    const project = join(tempDir(), 'slow');
    execFileSync(process.execPath, [bin, 'new', 'mailerq', project, '--name', 'slow', '--yes', '--author', 'A', '--callbacks', 'mq_smtp_in_connect']);
    // A callback that never returns keeps the host running until --timeout.
    const source = join(project, 'src', 'plugin.c');
    writeFileSync(source, readFileSync(source, 'utf8').replace(/return false;(?![\s\S]*return false;)/, 'for (;;) {\n    }'));
    session = 'spin';
    tmux('new-session', '-d', '-s', 'spin', '-x', '160', '-y', '40', `${process.execPath} ${bin} verify ${project} --timeout 6; echo "verify exited $?"; sleep 60`);
    const running = await waitFor('host: running (', 120_000);
    expect(running).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] host: running \(\d+\.\d s\)/);
    const later = await waitFor('host: running (3.', 10_000);
    expect(later).toMatch(/host: running \(3\.\d s\)/);
    const final = await waitFor('verify exited');
    expect(final).toContain('verify exited 1');
    expect(final).toMatch(/FAIL host: smtp in: connect \(\d+\.\d s\): timed out after 6 s/);
    expect(final).not.toContain('host: running');
  });

});
