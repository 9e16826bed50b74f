import { expect } from 'chai';
import { echoWorker, fromUtf8, local, route, WS } from '@tessera/core';
import {
  createSecureChannel,
  Ed25519Identity,
  identifierOf,
  InitiatorHandshake,
  createLocalParty,
  issueCredential,
  startSecureChannelListener,
  throughSecureChannel,
  trustAuthority,
  trustedAuthorities,
  trustAnyPeer,
  trustEveryone,
} from '@tessera/secure-channel';
import { waitUntil } from '@tessera/testing';
import { anyone, fakeClock, Inbox, makeNode, stopAll } from './channel-helpers.js';

const systemClock = { now: () => Date.now() };

describe('secure channel trust, credentials and limits (docs/protocol.md §5–6)', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  async function hubWithAuthority() {
    const authority = Ed25519Identity.generate();
    const r = makeNode('hub');
    const inbox = new Inbox();
    await r.node.startWorker('inbox', inbox.worker, { incoming: throughSecureChannel({ attributes: { role: 'device' } }) });
    await r.node.startWorker('echo', echoWorker);
    const listener = await startSecureChannelListener(r.node, { identity: r.identity, trust: trustAuthority(trustedAuthorities([authority.publicKey])) });
    const port = (await r.transport.listen()).port;
    return { r, authority, inbox, listener, toListener: route({ type: WS, value: `127.0.0.1:${port}` }, 'secure_channel'), port };
  }

  it('admits a peer with a valid credential and delivers its attributes; a worker can require them', async () => {
    const { authority, inbox, listener, toListener } = await hubWithAuthority();
    const i = makeNode('device');
    const subject = identifierOf(i.identity.publicKey);
    const credential = await issueCredential({ authority, subject, attributes: { role: 'device', bucket: 'metrics' }, ttlSeconds: 600, clock: systemClock });
    const channel = await createSecureChannel(i.node, toListener, { identity: i.identity, trust: anyone, credentials: [credential] });
    i.node.send([channel.address, local('inbox')], 'reading');
    await inbox.count(1);
    expect(inbox.messages[0]!.local).to.deep.include({ identity: subject, attributes: { role: 'device', bucket: 'metrics' } });
    expect(listener.stats().dropped.untrusted_peer).to.equal(0);
  });

  for (const [what, make] of [
    ['an expired credential', async (authority: Ed25519Identity, subject: string) =>
      issueCredential({ authority, subject, attributes: { role: 'device' }, ttlSeconds: 60, clock: { now: () => Date.now() - 3_600_000 } })],
    ['a credential about someone else', async (authority: Ed25519Identity) =>
      issueCredential({ authority, subject: identifierOf(Ed25519Identity.generate().publicKey), attributes: { role: 'device' }, ttlSeconds: 600, clock: systemClock })],
    ['a credential from an unknown issuer', async (_authority: Ed25519Identity, subject: string) =>
      issueCredential({ authority: Ed25519Identity.generate(), subject, attributes: { role: 'device' }, ttlSeconds: 600, clock: systemClock })],
    ['no credential at all', () => Promise.resolve(undefined)],
  ] as const) {
    it(`refuses ${what} under an authority policy`, async () => {
      const { authority, listener, toListener } = await hubWithAuthority();
      const i = makeNode('device');
      const subject = identifierOf(i.identity.publicKey);
      const good = await issueCredential({ authority, subject, attributes: { role: 'device' }, ttlSeconds: 600, clock: systemClock });
      const bad = await make(authority, subject);
      // a failing credential refuses the peer even next to a valid one
      const credentials = bad === undefined ? [] : [good, bad];
      await createSecureChannel(i.node, toListener, { identity: i.identity, trust: anyone, credentials });
      await waitUntil('the hub to refuse the peer', () => listener.stats().dropped.untrusted_peer === 1);
      expect(listener.stats().channels).to.equal(0);
    });
  }

  it('takes newer credentials (kind 2) for the same identity: the attributes change', async () => {
    const { authority, inbox, toListener } = await hubWithAuthority();
    const i = makeNode('device');
    const subject = identifierOf(i.identity.publicKey);
    const first = await issueCredential({ authority, subject, attributes: { role: 'device', bucket: 'a' }, ttlSeconds: 600, clock: systemClock });
    const channel = await createSecureChannel(i.node, toListener, { identity: i.identity, trust: anyone, credentials: [first] });
    const second = await issueCredential({ authority, subject, attributes: { role: 'device', bucket: 'b' }, ttlSeconds: 600, clock: systemClock });
    channel.sendCredentials([second]);
    // the hub handles the credentials before what follows them in the same ciphertext stream, once its check is done
    await waitUntil('the new attributes', async () => {
      i.node.send([channel.address, local('inbox')], 'x');
      await inbox.count(inbox.messages.length + 1);
      return inbox.messages.at(-1)!.local.attributes?.['bucket'] === 'b';
    });
  });

  it('checks newer credentials (kind 2) at most once a second per channel: a stream of them costs one check', async () => {
    const { authority, listener, toListener } = await hubWithAuthority();
    const i = makeNode('device');
    const subject = identifierOf(i.identity.publicKey);
    const credential = await issueCredential({ authority, subject, attributes: { role: 'device' }, ttlSeconds: 600, clock: systemClock });
    const channel = await createSecureChannel(i.node, toListener, { identity: i.identity, trust: anyone, credentials: [credential], batching: false });
    const before = listener.stats().dropped.garbage;
    for (let n = 0; n < 20; n++) channel.sendCredentials([credential]);
    await waitUntil('the extra ones to be dropped unchecked', () => listener.stats().dropped.garbage - before >= 19);
    expect(listener.stats().dropped.untrusted_peer).to.equal(0);
  });

  it('refuses, at a worker that requires a channel, what came over a plain connection', async () => {
    const { r, inbox, port } = await hubWithAuthority();
    const plain = makeNode('plain');
    plain.node.send(route(`3#127.0.0.1:${port}`, 'inbox'), 'not through a channel');
    await waitUntil('the access policy to refuse it', () => r.node.stats().dropped['access_denied'] === 1);
    expect(inbox.messages).to.have.length(0);
  });

  it('drops a handshake not finished within the timeout, on the node’s clock', async () => {
    const { clock, tick } = fakeClock();
    const r = makeNode('hub', { clock });
    const listener = await startSecureChannelListener(r.node, { identity: r.identity, trust: anyone, timeout: 10_000, maxHandshakes: 2 });
    const port = (await r.transport.listen()).port;
    // a client that sends message 1 and never message 3
    const i = makeNode('client');
    const party = await createLocalParty({ signer: i.identity });
    const inbox = new Inbox();
    await i.node.startWorker('half', inbox.worker);
    for (let n = 0; n < 3; n++) {
      i.node.send(route(`3#127.0.0.1:${port}`, 'secure_channel'), new InitiatorHandshake(party, trustAnyPeer).start(), { returnRoute: [local('half')] });
    }
    // the third takes the place of the oldest (the bound on half-open handshakes is 2)
    await waitUntil('the third to push out the first', () => listener.stats().dropped.handshake_evicted === 1);
    await inbox.count(3); // three message 2s came back
    expect(listener.stats().handshakes).to.equal(2);
    const addresses = r.node.router;
    const half = inbox.messages.map((m) => m.return.at(-1)!.value);
    expect(half.filter((name) => addresses.hasLocal(name))).to.have.length(2);
    tick(9_999);
    expect(listener.stats().handshakes).to.equal(2);
    tick(1);
    expect(listener.stats()).to.deep.include({ handshakes: 0 });
    expect(listener.stats().dropped.handshake_timeout).to.equal(2);
    expect(half.some((name) => addresses.hasLocal(name))).to.equal(false);
  });

  it('one connection holds at most its share of half-open handshakes; another connection still gets a place', async () => {
    const r = makeNode('hub');
    const listener = await startSecureChannelListener(r.node, { identity: r.identity, trust: anyone, maxHandshakes: 10, maxHandshakesPerConnection: 2 });
    const port = (await r.transport.listen()).port;
    const flood = async (name: string, n: number): Promise<Inbox> => {
      const i = makeNode(name);
      const party = await createLocalParty({ signer: i.identity });
      const inbox = new Inbox();
      await i.node.startWorker('half', inbox.worker);
      for (let k = 0; k < n; k++) {
        i.node.send(route(`3#127.0.0.1:${port}`, 'secure_channel'), new InitiatorHandshake(party, trustAnyPeer).start(), { returnRoute: [local('half')] });
      }
      return inbox;
    };
    const greedy = await flood('greedy', 5);
    await waitUntil('the per-connection bound to drop three', () => listener.stats().dropped.handshake_limit === 3);
    await greedy.count(2);
    const other = await flood('other', 1);
    await other.count(1);
    expect(listener.stats()).to.deep.include({ handshakes: 3 });
    expect(greedy.messages).to.have.length(2);
  });

  it('trusting everyone warns loudly', () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_f: object, m: string) => void warnings.push(m), child: () => logger };
    trustEveryone(logger);
    expect(warnings.join(' ')).to.match(/TRUST EVERYONE.*development only/);
  });

  it('delivers through the channel to a worker requiring a channel', async () => {
    const { authority, toListener } = await hubWithAuthority();
    const i = makeNode('device');
    const credential = await issueCredential({ authority, subject: identifierOf(i.identity.publicKey), attributes: { role: 'device' }, ttlSeconds: 600, clock: systemClock });
    const channel = await createSecureChannel(i.node, toListener, { identity: i.identity, trust: anyone, credentials: [credential] });
    expect(fromUtf8((await i.node.request([channel.address, local('echo')], 'ok')).payload)).to.equal('ok');
  });
});
