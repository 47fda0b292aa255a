import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import helpers, { result } from 'yeoman-test';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

const generator = (name: string) => join(root, 'generators', name, 'index.js');

describe('yo vsmtp-plugin:vsmtp', () => {
  it('writes the project from prompt answers and records them', async () => {
    await helpers
      .run(generator('vsmtp'))
      .withAnswers({ name: 'geoip', description: 'Geo lookups', author: 'Jane', license: 'MIT', profile: 'vsmtp-3', seed: '[9, 8, 7, 6]' });
    result.assertFile(['Cargo.toml', 'src/lib.rs', 'services/geoip.rhai', 'tests/smoke.rhai', 'LICENSE', '.gitignore', '.github/workflows/ci.yml']);
    result.assertFileContent('Cargo.toml', 'rhai = { version = "=1.16.3"');
    result.assertFileContent('src/lib.rs', 'const HASHING_SEED: [u64; 4] = [9, 8, 7, 6];');
    const record = JSON.parse(readFileSync(join(result.cwd, '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'];
    expect(record).toEqual({ kind: 'vsmtp', answers: { name: 'geoip', description: 'Geo lookups', author: 'Jane', license: 'MIT', profile: 'vsmtp-3', seed: '9, 8, 7, 6' } });
  });

  it('takes every question as an option, asking nothing', async () => {
    await helpers
      .run(generator('vsmtp'))
      .withOptions({ name: 'csv', description: 'CSV', author: 'Bob', license: 'Apache-2.0', profile: 'current', seed: '1,2,3,4' })
      .withAnswers({}, { throwOnMissingAnswer: true });
    result.assertFileContent('Cargo.toml', 'name = "vsmtp-plugin-csv"');
    result.assertFileContent('src/lib.rs', 'set_hashing_seed');
    result.assertFile('LICENSE');
  });

  it('refuses a bad option naming the field and the rule', async () => {
    await expect(helpers.run(generator('vsmtp')).withOptions({ name: 'Bad Name', yes: true })).rejects.toThrow(/--name: must be lowercase kebab-case/);
  });

  it('offers the recorded answers on a re-run and overwrites nothing without confirmation', async () => {
    const first = await helpers.run(generator('vsmtp')).withOptions({ name: 'geoip', yes: true, author: 'Jane' });
    const lib = join(first.cwd, 'src', 'lib.rs');
    const edited = `${readFileSync(lib, 'utf8')}\n// my change\n`;
    writeFileSync(lib, edited);
    const asked: Record<string, unknown> = {};
    const again = await first
      .create(generator('vsmtp'), {}, { force: false })
      .withOptions({ profile: 'vsmtp-3', force: false })
      // Questions are offered with the recorded answers; the conflict on src/lib.rs is answered "skip".
      .withAnswers({ action: 'skip' }, { autoAnswer: true, callback: (answer, { question }) => ((asked[question.name!] = answer), answer) })
      .run();
    expect(asked).toMatchObject({ name: 'geoip', author: 'Jane', action: 'skip' });
    expect(readFileSync(lib, 'utf8')).toBe(edited);
    const record = JSON.parse(readFileSync(join(again.cwd, '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'];
    expect(record.answers).toMatchObject({ name: 'geoip', author: 'Jane', profile: 'vsmtp-3' });
  });
});

describe('yo vsmtp-plugin:vsmtp --verify', () => {
  it('builds the plugin and loads it in the reference host', { timeout: 20 * 60_000 }, async () => {
    const logged: string[] = [];
    await helpers
      .run(generator('vsmtp'))
      .withOptions({ name: 'yo-verify', yes: true, author: 'A', verify: true })
      .onGenerator((generator) => {
        const log = generator.log.bind(generator);
        generator.log = Object.assign((message: string) => (logged.push(message), log(message)), log);
      });
    expect(logged.join('\n')).toMatch(/ok {3}host: run smoke script/);
    expect(logged.at(-1)).toMatch(/^verified: .*libvsmtp_plugin_yo_verify\.so$/);
  });
});

describe('yo vsmtp-plugin', () => {
  it('asks for the kind, then that kind\'s questions', async () => {
    await helpers.run(generator('app')).withAnswers({ kind: 'vsmtp', name: 'relay', author: 'A', description: 'd', license: 'MIT', profile: 'vsmtp-2', seed: '1,2,3,4' });
    result.assertFileContent('Cargo.toml', 'name = "vsmtp-plugin-relay"');
    expect(JSON.parse(readFileSync(join(result.cwd, '.yo-rc.json'), 'utf8'))['generator-vsmtp-plugin'].kind).toBe('vsmtp');
  });

  it('takes --kind and the kind\'s options', async () => {
    await helpers.run(generator('app')).withOptions({ kind: 'vsmtp', name: 'relay', yes: true, author: 'A' });
    result.assertFile('services/relay.vsl');
  });
});
