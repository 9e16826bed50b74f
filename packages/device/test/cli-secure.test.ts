import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import { Ed25519Identity } from '@tessera/secure-channel';
import { type SecureHub, startSecureHub } from '../../lease-client/test/fixtures/secure-hub.js';
import { runDeviceCli } from '../src/index.js';
import { capture, waitFor } from './helpers.js';


describe('tessera-device against a secure hub', function () {
  let influx: InfluxdbLocal;
  let hub: SecureHub;
  let dir: string;

  beforeEach(async function () {
    influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'operator-token-for-tests' });
    dir = await mkdtemp(join(tmpdir(), 'tessera-device-secure-'));
    hub = await startSecureHub({ influx, identity: Ed25519Identity.generate() });
  });
  afterEach(async function () {
    await hub.stop();
    await influx.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the device until it has written a point, then stops it; its exit code and output. */
  async function runUntilAPoint(argv: string[], env: NodeJS.ProcessEnv) {
    const stdout = capture();
    const stderr = capture();
    const abort = new AbortController();
    const exit = runDeviceCli(argv, { stdout, stderr, env, signal: abort.signal });
    await waitFor('a point written', () => stdout.text.includes('point seq=1 ') || stderr.text.includes('could not start'));
    abort.abort();
    return { code: await exit, stdout: stdout.text, stderr: stderr.text };
  }

  it('creates its identity, enrolls with TESSERA_ENROLL_TOKEN, writes; restarted without a token it writes again; the token is never printed', async function () {
    const { token } = await hub.authority.createToken({ attributes: { role: 'device' } });
    const identityFile = join(dir, 'device.json');
    const argv = ['--hub', hub.url, '--identity', identityFile, '--hub-identity', hub.identity.identifier, '--influx-url', influx.url, '--device-id', 'sec-1', '--interval', '20', '--log-level', 'debug'];

    const first = await runUntilAPoint(argv, { TESSERA_ENROLL_TOKEN: token });
    expect(first.code, first.stderr).to.equal(0);
    expect((await stat(identityFile)).mode & 0o777).to.equal(0o600);
    const identifier = (JSON.parse(await readFile(identityFile, 'utf8')) as { identifier: string }).identifier;
    const lines = first.stdout.split('\n');
    expect(lines[1]).to.equal(`identity ${identifier} (${identityFile}), secure channel, hub identity pinned to ${hub.identity.identifier}, enroll token given`);
    expect(first.stdout).to.include(`secure channel to hub ${hub.identity.identifier} open`);
    expect(first.stdout).to.include(`enrolled as ${identifier} with role=device`);
    expect(await hub.authority.membership(identifier)).to.deep.equal({ identifier, attributes: { role: 'device' }, admin: false });

    const second = await runUntilAPoint(argv, {});
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.not.include('enrolled as');
    expect(hub.authority.calls.filter((c) => c.action === 'enroll')).to.have.length(1);
    expect(influx.countPoints({ tags: { device: 'sec-1' } })).to.be.greaterThan(1);

    const privateKey = (JSON.parse(await readFile(identityFile, 'utf8')) as { private_key: string }).private_key;
    for (const secret of [token, privateKey, ...hub.authority.issued]) {
      expect(first.stdout + first.stderr + second.stdout + second.stderr).to.not.include(secret);
    }
  });

  it('exits 1, saying why, when the hub refuses the enroll token; and when it is not a member and has no token', async function () {
    const refused = await runUntilAPoint(['--hub', hub.url, '--identity', join(dir, 'a.json'), '--influx-url', influx.url, '--enroll-token', 'not-a-token-the-hub-made'], {});
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/could not start: the hub refused the enroll token \(not_allowed\)/);
    expect(refused.stderr + refused.stdout).to.not.include('not-a-token-the-hub-made');

    const stranger = await runUntilAPoint(['--hub', hub.url, '--identity', join(dir, 'b.json'), '--influx-url', influx.url], {});
    expect(stranger.code).to.equal(1);
    expect(stranger.stderr).to.match(/could not start: I[0-9a-f]{64} is not a member of the hub: enroll it once with a bootstrap token/);
  });
});
