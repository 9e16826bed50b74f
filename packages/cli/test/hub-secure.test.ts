// A secure hub (the default) in this process: its identity, the authority, the
// lease worker behind secure channels, policies from the config file, removal.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { newBootstrapToken } from '@tessera/authority';
import { fromUtf8, route } from '@tessera/core';
import { Ed25519Identity } from '@tessera/secure-channel';
import { waitUntil, writeStatus } from '@tessera/testing';
import type { HubConfigInput } from '../src/hub/hub-config.js';
import { resolveHubConfig } from '../src/hub-command.js';
import { createBucket, writeTo } from '../../token-lease/test/influx-buckets.js';
import { type Answer, SecureHubFixture } from './secure-hub-fixture.js';

describe('a secure hub (the default): identity, authority, channels, policies', function () {
  this.timeout(60_000);
  let fx: SecureHubFixture;

  beforeEach(() => {
    fx = new SecureHubFixture('hub-secure');
  });
  afterEach(() => fx.stop());

  const hub = (config: HubConfigInput = {}) => fx.hub({ metrics: '127.0.0.1:0', ...config });

  it('has an identity kept in its file, says so in /health and /metrics, and refuses plaintext lease requests', async () => {
    const first = await hub();
    const identifier = first.secure!.identifier;
    const health = (await (await fetch(`${first.metricsUrl}/health`)).json()) as Record<string, unknown>;
    expect(health).to.include({ insecure: false, identity: identifier });
    // plain `memory` storage: members live in memory only, and /health says so
    expect((health['warnings'] as string[]).join('\n')).to.match(/members are kept in memory only/);
    const metrics = await (await fetch(`${first.metricsUrl}/metrics`)).text();
    expect(metrics).to.match(/^tessera_insecure 0$/m);
    expect(metrics).to.match(/^tessera_stranger_channels\{state="open"\} 0$/m);
    expect(metrics).to.match(/^tessera_secure_channels\{state="open"\} 0$/m);

    const plain = fx.node();
    const reply = await plain.request(route(`3#127.0.0.1:${first.listener.port}`, 'token_lease'), JSON.stringify({ action: 'create', options: {} }));
    const answer = JSON.parse(fromUtf8(reply.payload)) as Answer;
    expect(answer).to.include({ result: 'failure', code: 'not_allowed' });
    expect(answer.message).to.match(/secure channel is required/);
    expect(first.service.stats().created).to.equal(0);

    await fx.stopNow(first);
    const again = await hub();
    expect(again.secure!.identifier).to.equal(identifier);
  });

  it('an insecure hub says so in /health (with a warning) and /metrics', async () => {
    const h = await hub({ insecure: true });
    expect(h.secure).to.equal(undefined);
    const health = (await (await fetch(`${h.metricsUrl}/health`)).json()) as { insecure: boolean; warnings: string[] };
    expect(health.insecure).to.equal(true);
    expect(health.warnings.join('\n')).to.match(/insecure/);
    expect(await (await fetch(`${h.metricsUrl}/metrics`)).text()).to.match(/^tessera_insecure 1$/m);
  });

  it('enrolls a device with a bootstrap token, leases to it by identity, and revokes its leases when an admin removes it', async () => {
    const admin = Ed25519Identity.generate();
    const h = await hub({ admin: [admin.identifier] });
    const boss = await fx.peer(h, admin);
    const made = await boss.ask('authority', { action: 'create_token', attributes: { role: 'device' } });
    expect(made.result).to.equal('success');

    const device = await fx.peer(h);
    expect((await device.ask('token_lease', { action: 'create', options: {} })).code).to.equal('not_allowed'); // not a member yet
    expect((await device.ask('authority', { action: 'enroll', token: made.token })).result).to.equal('success');
    const created = await device.ask('token_lease', { action: 'create', options: {} });
    expect(created.result).to.equal('success');
    const token = created.lease!.value;
    expect(await writeStatus(h.influx!, token)).to.equal(204);
    // the admin sees the device's lease; another member does not
    expect((await boss.ask('token_lease', { action: 'list' })).leases!.map((l) => l.id)).to.include(created.lease!.id);

    expect((await boss.ask('authority', { action: 'remove', identifier: device.identity.identifier })).result).to.equal('success');
    await waitUntil('the removed member’s token to be revoked', async () => (await writeStatus(h.influx!, token)) === 401);
    await device.channel.closed; // the hub closed its channel
    const again = await fx.peer(h, device.identity); // a new channel: the identity is no member any more
    expect((await again.ask('token_lease', { action: 'list' })).code).to.equal('not_allowed');
  });

  it('counts refused enrollments by reason in /metrics (tessera_enroll_refused_total)', async () => {
    const h = await hub();
    const stranger = await fx.peer(h);
    for (let n = 0; n < 3; n++) expect((await stranger.ask('authority', { action: 'enroll', token: newBootstrapToken() })).code).to.equal('not_allowed');
    const metrics = await (await fetch(`${h.metricsUrl}/metrics`)).text();
    expect(metrics).to.match(/^tessera_enroll_refused_total\{reason="unknown"\} 3$/m);
    expect(metrics).to.match(/^tessera_enroll_refused_total\{reason="full"\} 0$/m);
  });

  it('gives each member what the first policy of the config file matching its attributes says', async () => {
    const admin = Ed25519Identity.generate();
    const configPath = join(fx.dir, 'hub.yaml');
    writeFileSync(
      configPath,
      [
        'policies:',
        '  - match: { role: device }',
        '    privileges: [{ resource: "{bucket}", actions: [write] }]',
        '    quotas: { maxActiveLeases: 1 }',
      ].join('\n'),
    );
    const config = resolveHubConfig({ config: configPath }, {});
    const h = await hub({ ...config, admin: [admin.identifier], listen: '127.0.0.1:0', identity: join(fx.dir, 'hub.json'), logLevel: 'silent', metrics: undefined });
    await createBucket(h.influx!, 'line-1');
    await createBucket(h.influx!, 'line-2');
    const boss = await fx.peer(h, admin);
    const enroll = async (attributes: Record<string, string>) => {
      const made = await boss.ask('authority', { action: 'create_token', attributes });
      const m = await fx.peer(h);
      expect((await m.ask('authority', { action: 'enroll', token: made.token })).result).to.equal('success');
      return m;
    };
    const device = await enroll({ role: 'device', bucket: 'line-1' });
    const lease = await device.ask('token_lease', { action: 'create', options: {} });
    expect(lease.result).to.equal('success');
    expect(await writeTo(h.influx!, 'line-1', lease.lease!.value)).to.equal(204);
    expect(await writeTo(h.influx!, 'line-2', lease.lease!.value)).to.equal(403);
    expect((await device.ask('token_lease', { action: 'create', options: {} })).code).to.equal('quota_exceeded');

    const stranger = await enroll({ role: 'printer' });
    expect((await stranger.ask('token_lease', { action: 'create', options: {} })).code).to.equal('not_allowed');
  });

  it('names the field of a policy in the config file that is wrong', () => {
    const configPath = join(fx.dir, 'bad.yaml');
    writeFileSync(configPath, ['policies:', '  - match: { role: device }', '    privileges: [{ resource: metrics, actions: [erase] }]'].join('\n'));
    expect(() => resolveHubConfig({ config: configPath }, {})).to.throw(/policies.*0\.privileges\.0\.actions\.0/);
  });
});
