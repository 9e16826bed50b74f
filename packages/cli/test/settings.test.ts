import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubConfigSchema } from '../src/hub/hub-config.js';
import { leasePolicyFromConfig } from '../src/hub/lease-policy.js';
import { HUB_SETTINGS, hubCommand, type HubCommandOptions, resolveHubConfig } from '../src/hub-command.js';
import { SettingsError } from '../src/settings/settings-error.js';
import { bin, childEnv, tessera } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-settings-'));
let files = 0;
// the config files this file writes go when its tests are done (a root-level hook: after every describe here)
after(() => rmSync(dir, { recursive: true, force: true }));

/** The options commander hands `tessera hub`'s action for these arguments (the real option definitions). */
async function hubFlags(args: string[]): Promise<HubCommandOptions> {
  let captured: HubCommandOptions | undefined;
  const cmd = hubCommand().exitOverride().configureOutput({ writeErr: () => undefined });
  cmd.action((opts: HubCommandOptions) => {
    captured = opts;
  });
  await cmd.parseAsync(args, { from: 'user' });
  return captured!;
}

function configFile(ext: 'json' | 'yaml', text: string): string {
  const path = join(dir, `hub-${++files}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** Options as commander hands them when no flag is given. */
function noFlags(): HubCommandOptions {
  return {};
}

function settingsError(run: () => unknown): SettingsError {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(SettingsError);
    expect((err as SettingsError).code).to.equal('INVALID_SETTINGS');
    return err as SettingsError;
  }
  expect.fail('expected a SettingsError');
}

// every switch of the hub: those whose default is a boolean (a new one is covered by being added)
const BOOLEAN_KEYS = Object.entries(HubConfigSchema.parse({}))
  .filter(([, v]) => typeof v === 'boolean')
  .map(([k]) => k);
const TRUE_WORDS = ['true', 'yes', 'on', '1', 'TRUE', 'Yes', 'ON'];
const FALSE_WORDS = ['false', 'no', 'off', '0', 'False', 'NO', 'Off'];
const GARBAGE = ['maybe', 'y', 'n', 'enabled', '2', '-1', 'truee', 'null'];

describe('hub settings: switches are parsed strictly from every source', () => {
  it('the hub has the switches this suite is about', () => {
    expect(BOOLEAN_KEYS).to.include.members(['insecure', 'forward']);
  });

  for (const key of BOOLEAN_KEYS) {
    const spec = HUB_SETTINGS.find((s) => s.key === key)!;
    const read = (opts: HubCommandOptions, env: NodeJS.ProcessEnv = {}) => resolveHubConfig(opts, env)[key as 'insecure'];

    describe(`${key} (--${spec.flag}, ${spec.env}, config file "${key}")`, () => {
      it('is off when no source names it', async () => {
        expect(read(await hubFlags([]))).to.equal(false);
      });

      it(`from the command line: --${spec.flag} alone is on; --${spec.flag} <word> is that word; anything else names --${spec.flag}`, async () => {
        expect(read(await hubFlags([`--${spec.flag}`]))).to.equal(true);
        for (const word of TRUE_WORDS) expect(read(await hubFlags([`--${spec.flag}`, word])), word).to.equal(true);
        for (const word of FALSE_WORDS) expect(read(await hubFlags([`--${spec.flag}`, word])), word).to.equal(false);
        for (const word of GARBAGE) {
          const opts = await hubFlags([`--${spec.flag}`, word]);
          expect(settingsError(() => read(opts)).message).to.match(new RegExp(`^invalid --${spec.flag}: expected true/false, yes/no, on/off or 1/0`));
        }
      });

      it(`from ${spec.env}: every word, and anything else names ${spec.env}`, async () => {
        const none = await hubFlags([]);
        for (const word of TRUE_WORDS) expect(read(none, { [spec.env]: word }), word).to.equal(true);
        for (const word of FALSE_WORDS) expect(read(none, { [spec.env]: word }), word).to.equal(false);
        for (const word of GARBAGE) {
          expect(settingsError(() => read(none, { [spec.env]: word })).message).to.match(new RegExp(`^invalid ${spec.env}: expected true/false`));
        }
      });

      it('from a JSON file: true/false, 1/0 and the words as strings ("false" is off); anything else names the field', async () => {
        const none = await hubFlags([]);
        const fromJson = (value: unknown) => read(none, { TESSERA_CONFIG: configFile('json', JSON.stringify({ [key]: value })) });
        expect(fromJson(true)).to.equal(true);
        expect(fromJson(false)).to.equal(false);
        expect(fromJson(1)).to.equal(true);
        expect(fromJson(0)).to.equal(false);
        for (const word of TRUE_WORDS) expect(fromJson(word), word).to.equal(true);
        for (const word of FALSE_WORDS) expect(fromJson(word), word).to.equal(false);
        for (const value of [...GARBAGE, '', 2, [], {}]) {
          expect(settingsError(() => fromJson(value)).message, JSON.stringify(value)).to.match(new RegExp(`^invalid config file field "${key}": expected true/false`));
        }
      });

      it('from a YAML file: `no` and `off` (strings to YAML 1.2) are off, `yes` and `on` are on; anything else names the field', async () => {
        const none = await hubFlags([]);
        const fromYaml = (value: string) => read(none, { TESSERA_CONFIG: configFile('yaml', `${key}: ${value}\n`) });
        for (const word of [...TRUE_WORDS, '"yes"', "'on'"]) expect(fromYaml(word), word).to.equal(true);
        for (const word of [...FALSE_WORDS, '"no"', "'false'"]) expect(fromYaml(word), word).to.equal(false);
        // (YAML null is left out: in a profile it clears the top level's value)
        for (const value of [...GARBAGE.filter((w) => w !== 'null'), '""', '[]', '{ a: 1 }', '2']) {
          expect(settingsError(() => fromYaml(value)).message, value).to.match(new RegExp(`^invalid config file field "${key}": expected true/false`));
        }
        // a profile turns off what the top level turned on
        const profiled = configFile('yaml', `${key}: yes\nprofiles:\n  prod:\n    ${key}: no\n`);
        expect(read(none, { TESSERA_CONFIG: profiled })).to.equal(true);
        expect(read(none, { TESSERA_CONFIG: profiled, TESSERA_PROFILE: 'prod' })).to.equal(false);
      });

      it('a source that says off overrides a lower one that says on (flag > env > file)', async () => {
        const file = configFile('yaml', `${key}: on\n`);
        expect(read(await hubFlags([]), { TESSERA_CONFIG: file, [spec.env]: 'no' })).to.equal(false);
        expect(read(await hubFlags([`--${spec.flag}`, 'false']), { TESSERA_CONFIG: file, [spec.env]: 'yes' })).to.equal(false);
      });
    });
  }
});

describe('hub settings: whole numbers are parsed strictly from every source', () => {
  const none = () => hubFlags([]);

  it('takes digits (and JSON/YAML numbers) for milliseconds, from flag, env and file', async () => {
    expect(resolveHubConfig(await hubFlags(['--default-ttl', '60000']), {}).defaultTtl).to.equal(60000);
    expect(resolveHubConfig(await none(), { TESSERA_DEFAULT_TTL: ' 60000 ' }).defaultTtl).to.equal(60000);
    expect(resolveHubConfig(await none(), { TESSERA_CONFIG: configFile('json', '{"defaultTtl": "60000"}') }).defaultTtl).to.equal(60000);
    expect(resolveHubConfig(await none(), { TESSERA_CONFIG: configFile('yaml', 'defaultTtl: 60000\n') }).defaultTtl).to.equal(60000);
  });

  it('takes the per-identity request rate from --identity-request-rate or TESSERA_IDENTITY_REQUEST_RATE (default 100, 0 off) and hands it to the lease worker', async () => {
    expect(resolveHubConfig(await none(), {}).identityRequestRate).to.equal(100);
    const flagged = resolveHubConfig(await hubFlags(['--identity-request-rate', '0']), { TESSERA_IDENTITY_REQUEST_RATE: '50' });
    expect(leasePolicyFromConfig(flagged).worker.identityRequestRate, 'the flag wins').to.equal(0);
    expect(resolveHubConfig(await none(), { TESSERA_IDENTITY_REQUEST_RATE: '50' }).identityRequestRate).to.equal(50);
    const noFlags = await none();
    expect(settingsError(() => resolveHubConfig(noFlags, { TESSERA_IDENTITY_REQUEST_RATE: '-1' })).message).to.match(/^invalid TESSERA_IDENTITY_REQUEST_RATE/);
  });

  it('refuses what a plain Number() would take: "", hex, exponents, decimals, true', async () => {
    for (const text of ['', '0x10', '1e3', '60000.5', 'Infinity', '6O000']) {
      const opts = await hubFlags(['--default-ttl', text]);
      expect(settingsError(() => resolveHubConfig(opts, {})).message, text).to.match(/^invalid --default-ttl: expected a whole number/);
    }
    const noFlags = await none();
    expect(settingsError(() => resolveHubConfig(noFlags, { TESSERA_MIN_TTL: '0x10' })).message).to.match(/^invalid TESSERA_MIN_TTL: expected a whole number/);
    for (const value of [true, '1e3', 1.5, '']) {
      const file = configFile('json', JSON.stringify({ maxTtl: value }));
      expect(settingsError(() => resolveHubConfig(noFlags, { TESSERA_CONFIG: file })).message, JSON.stringify(value)).to.match(
        /^invalid config file field "maxTtl": expected a whole number/,
      );
    }
  });
});

describe("hub settings: a secure hub's identity, admins, credential lifetime and policies", () => {
  const A = `I${'a'.repeat(64)}`;
  const B = `I${'b'.repeat(64)}`;
  const C = `I${'c'.repeat(64)}`;

  it('takes --admin repeated or comma-separated, TESSERA_ADMIN comma-separated, or a list in the file; the flag wins', async () => {
    expect(resolveHubConfig(await hubFlags([]), {}).admin).to.deep.equal([]);
    expect(resolveHubConfig(await hubFlags(['--admin', A, '--admin', `${B},${C}`]), {}).admin).to.deep.equal([A, B, C]);
    expect(resolveHubConfig(await hubFlags([]), { TESSERA_ADMIN: `${A}, ${B},` }).admin).to.deep.equal([A, B]);
    expect(resolveHubConfig(await hubFlags([]), { TESSERA_CONFIG: configFile('yaml', `admin:\n  - ${C}\n`) }).admin).to.deep.equal([C]);
    expect(resolveHubConfig(await hubFlags(['--admin', A]), { TESSERA_ADMIN: B }).admin).to.deep.equal([A]);
    const bad = await hubFlags(['--admin', 'alice']);
    expect(settingsError(() => resolveHubConfig(bad, {})).message).to.match(/^invalid --admin at admin\.0: expected an identifier/);
    expect(settingsError(() => resolveHubConfig(bad, { TESSERA_ADMIN: 'I00' })).message).to.match(/^invalid --admin/);
    expect(settingsError(() => resolveHubConfig(noFlags(), { TESSERA_ADMIN: 'I00' })).message).to.match(/^invalid TESSERA_ADMIN at admin\.0: expected an identifier/);
  });

  it("takes the hub's identity file from --identity or TESSERA_HUB_IDENTITY_FILE, never from a device's TESSERA_IDENTITY", async () => {
    expect(resolveHubConfig(await hubFlags(['--identity', '/x/hub.json']), { TESSERA_HUB_IDENTITY_FILE: '/y/hub.json' }).identity).to.equal('/x/hub.json');
    expect(resolveHubConfig(await hubFlags([]), { TESSERA_HUB_IDENTITY_FILE: '/y/hub.json' }).identity).to.equal('/y/hub.json');
    expect(resolveHubConfig(await hubFlags([]), { TESSERA_IDENTITY: '/z/device.json' }).identity).to.equal(undefined);
  });

  it('takes --credential-ttl and TESSERA_CREDENTIAL_TTL as whole milliseconds of at least 1000 and at most 7 days', async () => {
    expect(resolveHubConfig(await hubFlags([]), {}).credentialTtl).to.equal(3_600_000);
    expect(resolveHubConfig(await hubFlags(['--credential-ttl', '60000']), {}).credentialTtl).to.equal(60_000);
    expect(resolveHubConfig(await hubFlags([]), { TESSERA_CREDENTIAL_TTL: '5000' }).credentialTtl).to.equal(5_000);
    const low = await hubFlags(['--credential-ttl', '999']);
    expect(settingsError(() => resolveHubConfig(low, {})).message).to.match(/^invalid --credential-ttl: must be at least 1000/);
    expect(resolveHubConfig(await hubFlags(['--credential-ttl', '604800000']), {}).credentialTtl).to.equal(604_800_000);
    const high = await hubFlags(['--credential-ttl', '604801000']);
    expect(settingsError(() => resolveHubConfig(high, {})).message).to.match(/^invalid --credential-ttl: must be at most 604800000 \(7 days\)/);
    expect(settingsError(() => resolveHubConfig(noFlags(), { TESSERA_CREDENTIAL_TTL: '1e4' })).message).to.match(/^invalid TESSERA_CREDENTIAL_TTL: expected a whole number/);
  });

  it('takes policies from the config file (no flag), naming a bad rule by its path', async () => {
    expect(resolveHubConfig(await hubFlags([]), {}).policies).to.equal(undefined);
    const file = configFile('yaml', 'policies:\n  - match: { role: device }\n    privileges: [{ resource: tessera, actions: [write] }]\n');
    expect(resolveHubConfig(await hubFlags([]), { TESSERA_CONFIG: file }).policies).to.have.length(1);
    const bad = configFile('json', JSON.stringify({ policies: [{ match: { role: 'device' }, privileges: 'everything' }] }));
    expect(settingsError(() => resolveHubConfig(noFlags(), { TESSERA_CONFIG: bad })).message).to.match(/^invalid config file field "policies" at policies\.0\.privileges: /);
    let refused: unknown;
    try {
      await hubFlags(['--policies', '[]']);
    } catch (err) {
      refused = err;
    }
    expect((refused as { code?: string } | undefined)?.code).to.equal('commander.unknownOption');
  });
});

describe('tessera commands: a bad setting exits 2 naming it as the user wrote it', function () {
  // each check starts a tessera process: seconds apiece on a loaded machine
  this.timeout(180_000);

  it('tessera hub: a bad switch from flag, env, JSON or YAML', async () => {
    const flag = await tessera(['hub', '--insecure', 'maybe']);
    expect(flag.code).to.equal(2);
    expect(flag.stderr).to.include('invalid --insecure: expected true/false, yes/no, on/off or 1/0, got "maybe"');
    const env = await tessera(['hub'], { TESSERA_FORWARD: 'nope' });
    expect(env.code).to.equal(2);
    expect(env.stderr).to.include('invalid TESSERA_FORWARD');
    const json = await tessera(['hub', '--config', configFile('json', '{"forward": "nein"}')]);
    expect(json.code).to.equal(2);
    expect(json.stderr).to.include('invalid config file field "forward"');
    const yaml = await tessera(['hub', '--config', configFile('yaml', 'insecure: perhaps\n')]);
    expect(yaml.code).to.equal(2);
    expect(yaml.stderr).to.include('invalid config file field "insecure"');
  });

  it('tessera demo and tessera lease: counts and milliseconds are whole numbers, from flag or env', async () => {
    const devices = await tessera(['demo', '--devices', '2.5']);
    expect(devices.code).to.equal(2);
    expect(devices.stderr).to.match(/--devices.*'2\.5' is invalid/);
    const env = await tessera(['demo'], { TESSERA_DEMO_TTL: '0x1000' });
    expect(env.code).to.equal(2);
    expect(env.stderr).to.match(/from env 'TESSERA_DEMO_TTL' is invalid/);
    const duration = await tessera(['demo', '--duration', '']);
    expect(duration.code).to.equal(2);
    expect(duration.stderr).to.match(/--duration/);
    const ttl = await tessera(['lease', 'create', '--insecure', '--ttl', '0x10']);
    expect(ttl.code).to.equal(2);
    expect(ttl.stderr).to.include('--ttl must be a positive whole number');
    const watch = await tessera(['lease', 'watch', '--insecure', '--sink', join(dir, 'token'), '--ttl', '1e3']);
    expect(watch.code).to.equal(2);
    expect(watch.stderr).to.match(/--ttl.*'1e3' is invalid/);
  });

  it('`insecure: no` in a YAML config starts a hub with insecure mode off (and `yes` on)', async () => {
    const off = await hubOutput(configFile('yaml', 'insecure: no\nlisten: 127.0.0.1:0\nlogLevel: warn\n'));
    expect(off.stdout).to.include('tessera hub listening on');
    expect(off.stderr).to.not.include('insecure: anonymous callers');
    const on = await hubOutput(configFile('yaml', 'insecure: yes\nlisten: 127.0.0.1:0\nlogLevel: warn\n'));
    expect(on.stderr).to.include('insecure: anonymous callers');
  });
});

/** Starts `tessera hub --config file`, stops it once it listens, and returns all it wrote. */
async function hubOutput(file: string): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, 'hub', '--config', file], { env: childEnv() });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('listening on')) child.kill('SIGTERM');
  });
  // 'close': both pipes read to the end
  const [code] = (await once(child, 'close')) as [number | null];
  expect(stdout, stderr).to.include('listening on');
  expect(code).to.equal(0);
  return { stdout, stderr };
}
