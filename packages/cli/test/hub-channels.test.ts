// What outsiders can hold at a secure hub, in this process on a fake clock:
// strangers (non-members) within their budget and grace, quiet channels closed
// after the idle timeout, channels of one identity, credentials verified
// under the hub's key.
import { expect } from 'chai';
import { fromUtf8, local, route, type Route } from '@tessera/core';
import { HubSession } from '@tessera/lease-client';
import { createSecureChannel, Ed25519Identity, issueCredential, type SecureChannel, trustIdentifiers } from '@tessera/secure-channel';
import { waitUntil } from '@tessera/testing';
import type { HubConfigInput } from '../src/hub/hub-config.js';
import type { HubChannelLimits } from '../src/hub/hub-channels.js';
import type { Hub } from '../src/hub/start-hub.js';
import { fakeClock } from '../../secure-channel/test/channel-helpers.js';
import { SecureHubFixture } from './secure-hub-fixture.js';

const CREATE = JSON.stringify({ action: 'create', options: {} });

describe('a secure hub’s channels: strangers, idle channels, credentials', function () {
  this.timeout(60_000);
  let fx: SecureHubFixture;

  beforeEach(() => {
    fx = new SecureHubFixture('hub-channels');
  });
  afterEach(() => fx.stop());

  /** A hub in this process whose node runs on a clock the test moves (its WebSocket transport keeps the real one). */
  async function hub(channels: Partial<HubChannelLimits> = {}, config: HubConfigInput = {}) {
    const time = fakeClock();
    const h = await fx.hub(config, { clock: time.clock, channels });
    const toListener: Route = route(`3#127.0.0.1:${h.listener.port}`, 'secure_channel');
    return { h, ...time, toListener, guard: h.secure!.strangers, listener: h.secure!.channels };
  }

  /** A device's HubSession (enrolling with `token` if given), pinned to the hub. */
  function session(h: Hub, identity: Ed25519Identity, token?: string): HubSession {
    const s = new HubSession({ node: fx.node(), hub: route(`3#127.0.0.1:${h.listener.port}`, 'token_lease'), identity, enrollToken: token, hubIdentifier: h.secure!.identifier });
    fx.track({ stop: async () => s.close() });
    return s;
  }

  async function lease(s: HubSession): Promise<{ result: string; lease?: { value: string } }> {
    return JSON.parse(fromUtf8((await s.request('token_lease', CREATE)).payload)) as { result: string; lease?: { value: string } };
  }

  it('a stranger’s flood holds at most its budget (each new one over it pushes out the oldest): a member still opens a channel and gets a lease, and the strangers are gone after 60 s', async () => {
    const { h, tick, toListener, guard, listener } = await hub({ maxChannels: 50, maxStrangers: 10 });
    const device = Ed25519Identity.generate();
    const { token } = await h.secure!.authority.createToken({ attributes: { role: 'device' } });
    const enrolling = session(h, device, token);
    expect((await lease(enrolling)).result).to.equal('success');
    enrolling.close();
    await waitUntil('the device’s first channel to end', () => listener.stats().channels === 0);

    // one identity that is no member, one connection, more channels than the hub holds
    const flooder = fx.node();
    const stranger = Ed25519Identity.generate();
    const flood: SecureChannel[] = [];
    for (let n = 0; n < 60; n++) flood.push(await createSecureChannel(flooder, toListener, { identity: stranger, trust: trustIdentifiers([h.secure!.identifier]) }));
    await waitUntil('the hub to judge every stranger channel', () => guard.stats().strangers + guard.stats().evicted === 60);
    expect(guard.stats()).to.include({ strangers: 10, evicted: 50 });
    expect(listener.stats().channels).to.equal(10);
    await waitUntil('the pushed-out strangers to hear the close', () => flood.filter((c) => !c.isOpen).length === 50);

    const member = session(h, device);
    const answer = await lease(member);
    expect(answer.result).to.equal('success');
    expect(answer.lease!.value).to.be.a('string');
    // the credential it presented verified under the hub's key: its messages carry its attributes
    const end = listener.channels().find((c) => c.identifier === device.identifier)!;
    await waitUntil('the hub to take the credential', () => end.attributes['role'] === 'device');

    tick(59_999);
    expect(guard.stats().strangers).to.equal(10);
    tick(1);
    await waitUntil('the strangers’ grace to end', () => guard.stats().expired === 10);
    await waitUntil('the strangers to hear the close', () => flood.every((c) => !c.isOpen));
    expect(guard.stats()).to.include({ strangers: 0 });
    expect(listener.channels().map((c) => c.identifier)).to.deep.equal([device.identifier]);
    expect((await lease(member)).result).to.equal('success');
  });

  it('a flood of fresh identities cannot keep a newcomer from enrolling: each new stranger over the budget pushes out the oldest, counted in /metrics', async () => {
    const { h, toListener, guard } = await hub({ maxStrangers: 10 }, { metrics: '127.0.0.1:0' });
    const flooder = fx.node();
    const flood: SecureChannel[] = [];
    const stranger = async () => void flood.push(await createSecureChannel(flooder, toListener, { identity: Ed25519Identity.generate(), trust: trustIdentifiers([h.secure!.identifier]) }));
    for (let n = 0; n < 10; n++) await stranger();
    await waitUntil('the strangers’ budget to be full', () => guard.stats().strangers === 10);

    const { token } = await h.secure!.authority.createToken({ attributes: { role: 'device' } });
    const newcomer = session(h, Ed25519Identity.generate(), token);
    expect((await lease(newcomer)).result).to.equal('success');
    await flood[0]!.closed; // the oldest stranger gave its place, and heard the close
    expect(flood.slice(1).every((c) => c.isOpen)).to.equal(true);
    expect(guard.stats()).to.include({ strangers: 9, evicted: 1, enrolled: 1 });

    // the flood goes on: the newcomer is a member now, not the strangers' business
    for (let n = 0; n < 10; n++) await stranger();
    await waitUntil('the hub to judge every new stranger', () => guard.stats().evicted === 10);
    expect(guard.stats()).to.include({ strangers: 10, refused: 0 });
    const accepted = h.secure!.channels.stats().accepted;
    expect((await lease(newcomer)).result).to.equal('success');
    expect(h.secure!.channels.stats().accepted).to.equal(accepted); // on the channel it enrolled on
    const metrics = await (await fetch(`${h.metricsUrl!}/metrics`)).text();
    expect(metrics).to.include('tessera_stranger_channels{state="evicted"} 10');
  });

  it('keeps the channel of a stranger that enrolled within its grace, and closes one that did not', async () => {
    const { h, tick, toListener, guard } = await hub();
    const { token } = await h.secure!.authority.createToken({ attributes: { role: 'device' } });
    const newcomer = session(h, Ed25519Identity.generate(), token);
    expect((await lease(newcomer)).result).to.equal('success');
    const idle = await createSecureChannel(fx.node(), toListener, { identity: Ed25519Identity.generate(), trust: trustIdentifiers([h.secure!.identifier]) });
    // the newcomer's channel left the strangers' budget when it enrolled; the idle one holds a place
    await waitUntil('the idle one to count as a stranger', () => guard.stats().strangers === 1);

    tick(60_000);
    await waitUntil('the grace to end', () => guard.stats().strangers === 0);
    expect(guard.stats()).to.include({ expired: 1 });
    await idle.closed;
    const accepted = h.secure!.channels.stats().accepted;
    expect((await lease(newcomer)).result).to.equal('success');
    expect(h.secure!.channels.stats().accepted).to.equal(accepted); // the same channel
  });

  it('closes every channel of a member an admin removes, at once', async () => {
    const admin = Ed25519Identity.generate();
    const { h, toListener, listener } = await hub({}, { admin: [admin.identifier] });
    const { token } = await h.secure!.authority.createToken({ attributes: { role: 'device' } });
    const device = Ed25519Identity.generate();
    expect((await lease(session(h, device, token))).result).to.equal('success');
    const spare = await createSecureChannel(fx.node(), toListener, { identity: device, trust: trustIdentifiers([h.secure!.identifier]) });
    const boss = session(h, admin);
    const removed = JSON.parse(fromUtf8((await boss.request('authority', JSON.stringify({ action: 'remove', identifier: device.identifier }))).payload)) as { result: string };
    expect(removed.result).to.equal('success');
    await spare.closed; // the hub closed it, telling this end
    await waitUntil('the removed member’s channels to be gone', () => listener.channels().every((c) => c.identifier !== device.identifier));
  });

  it('closes members’ channels after an hour without a word: a crashed device’s flood is gone, and a quiet session re-opens on its next request', async () => {
    const admin = Ed25519Identity.generate();
    const { h, tick, toListener, listener, guard } = await hub({}, { admin: [admin.identifier] });
    const crashed = fx.node();
    for (let n = 0; n < 20; n++) await createSecureChannel(crashed, toListener, { identity: admin, trust: trustIdentifiers([h.secure!.identifier]) });
    const quiet = session(h, admin);
    expect((await lease(quiet)).result).to.equal('success');
    await waitUntil('the hub to hold 21 channels', () => listener.stats().channels === 21);
    await crashed.stop({ timeout: 100 }); // its connection goes, no close is sent
    expect(guard.stats().strangers).to.equal(0); // members are not the strangers' business

    tick(3_599_999);
    expect(listener.stats().channels).to.equal(21);
    tick(1);
    expect(listener.stats()).to.include({ channels: 0, idleClosed: 21 });
    await waitUntil('the session to hear the close', () => quiet.hub === undefined);
    expect((await lease(quiet)).result).to.equal('success'); // a new handshake, not a timeout
    expect(listener.stats()).to.include({ channels: 1, accepted: 22 });
  });

  it('holds at most 64 channels of one identity: a member’s flood is refused beyond, counted, and another device still enrolls and gets a lease', async () => {
    const admin = Ed25519Identity.generate();
    const { h, toListener, listener } = await hub({}, { admin: [admin.identifier] });
    const flooder = fx.node();
    for (let n = 0; n < 65; n++) await createSecureChannel(flooder, toListener, { identity: admin, trust: trustIdentifiers([h.secure!.identifier]) });
    await waitUntil('the hub to refuse the 65th', () => listener.stats().dropped.identity_limit === 1);
    expect(listener.stats()).to.include({ channels: 64, accepted: 64 });

    const { token } = await h.secure!.authority.createToken({ attributes: { role: 'device' } });
    expect((await lease(session(h, Ed25519Identity.generate(), token))).result).to.equal('success');
    expect(listener.stats()).to.include({ channels: 65 });
  });

  it('refuses credentials that do not verify under the hub’s key, in the handshake and on the channel (kind 2)', async () => {
    const { h, toListener, listener } = await hub();
    const peer = Ed25519Identity.generate();
    const forged = await issueCredential({ authority: Ed25519Identity.generate(), subject: peer.identifier, attributes: { role: 'admin' }, ttlSeconds: 3_600, clock: h.node.clock });
    await createSecureChannel(fx.node(), toListener, { identity: peer, trust: trustIdentifiers([h.secure!.identifier]), credentials: [forged] });
    await waitUntil('the hub to refuse the peer', () => listener.stats().dropped.untrusted_peer === 1);
    expect(listener.stats().channels).to.equal(0);

    const n = fx.node();
    const channel = await createSecureChannel(n, toListener, { identity: peer, trust: trustIdentifiers([h.secure!.identifier]) });
    await waitUntil('the hub to open the channel', () => listener.stats().channels === 1);
    channel.sendCredentials([forged]);
    await waitUntil('the hub to refuse the credential', () => listener.stats().dropped.untrusted_peer === 2);
    expect(listener.channels()[0]!.attributes).to.deep.equal({});
    // still the same channel, with no attributes: what it may do is judged by membership (none)
    const reply = JSON.parse(fromUtf8((await n.request([channel.address, local('token_lease')], CREATE)).payload)) as { code?: string };
    expect(reply.code).to.equal('not_allowed');
  });
});
