// What one peer can make a listener hold: channels of peers that went quiet
// (idle timeout), half-open handshakes tunnelled through channels (bound per
// peer identity), half-open handshakes against the bound on channels,
// channels of one identity, every half-open place (a flood pushes out its
// own), routes of any length (refused as garbage).
import { expect } from 'chai';
import { echoWorker, fromUtf8, local, route, WS } from '@tessera/core';
import {
  createLocalParty,
  createSecureChannel,
  generateX25519KeyPair,
  InitiatorHandshake,
  MAX_ROUTE_LENGTH,
  startSecureChannelListener,
  type SecureChannelListenerOptions,
  trustAnyPeer,
} from '@tessera/secure-channel';
import { waitUntil } from '@tessera/testing';
import { anyone, fakeClock, handshakeByHand, Inbox, makeNode, stopAll } from './channel-helpers.js';

/** A listener on a node whose clock the test moves; its WebSocket transport keeps the real one. */
async function responder(options: Partial<SecureChannelListenerOptions> = {}) {
  const time = fakeClock();
  const r = makeNode('responder', { clock: time.clock });
  await r.node.startWorker('echo', echoWorker);
  const inbox = new Inbox();
  await r.node.startWorker('inbox', inbox.worker);
  const listener = await startSecureChannelListener(r.node, { identity: r.identity, trust: anyone, ...options });
  const ws = await r.transport.listen();
  return { ...r, ...time, listener, inbox, toListener: route({ type: WS, value: `127.0.0.1:${ws.port}` }, 'secure_channel') };
}

describe('secure channel listener bounds', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  describe('idle timeout', () => {
    it('closes a channel whose peer sent nothing authenticated for idleTimeout, telling the peer; each message it hears buys a full timeout again', async () => {
      const r = await responder({ idleTimeout: 1_000 });
      const i = makeNode('initiator');
      const channel = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone });
      await waitUntil('the responder to hold the channel', () => r.listener.stats().channels === 1);

      r.tick(600);
      await i.node.request([channel.address, local('echo')], 'still here');
      r.tick(600); // 1,200 ms since the handshake, 600 since the last message: open
      expect(r.listener.stats().channels).to.equal(1);
      expect(channel.isOpen).to.equal(true);
      r.tick(399);
      expect(r.listener.stats().channels).to.equal(1);
      r.tick(1); // 1,000 ms of quiet
      expect(r.listener.stats()).to.include({ channels: 0, idleClosed: 1 });
      await channel.closed; // the close (kind 1) reached the initiator
      expect(channel.isOpen).to.equal(false);
    });

    it('lets go of a flood of channels whose connection closed without a word, after idleTimeout', async () => {
      const r = await responder({ idleTimeout: 60_000, maxHandshakesPerConnection: 64 });
      const i = makeNode('flooder');
      await Promise.all(Array.from({ length: 20 }, () => createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone })));
      await waitUntil('the responder to hold 20 channels', () => r.listener.stats().channels === 20);
      await i.node.stop({ timeout: 100 }); // the flooder goes away: its connection closes, no channel says close
      await waitUntil('the responder to lose the connection', () => r.transport.stats().incoming === 0);
      r.tick(59_999);
      expect(r.listener.stats().channels).to.equal(20);
      r.tick(1);
      expect(r.listener.stats()).to.include({ channels: 0, idleClosed: 20 });
    });

    it('keeps channels without an idleTimeout (the library default)', async () => {
      const r = await responder();
      const i = makeNode('initiator');
      const channel = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone });
      await waitUntil('the responder to hold the channel', () => r.listener.stats().channels === 1);
      r.tick(24 * 3_600_000);
      expect(r.listener.stats().channels).to.equal(1);
      expect(fromUtf8((await i.node.request([channel.address, local('echo')], 'a day later')).payload)).to.equal('a day later');
    });
  });

  it('bounds half-open handshakes that come through channels per channel peer, not all under one shared source', async () => {
    const r = await responder({ maxHandshakesPerConnection: 2 });
    const peers = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const p = makeNode(name);
        const inbox = new Inbox();
        await p.node.startWorker('inbox', inbox.worker);
        const channel = await createSecureChannel(p.node, r.toListener, { identity: p.identity, trust: anyone });
        return { ...p, inbox, channel };
      }),
    );
    // each peer starts two handshakes through its channel (message 1 is an ephemeral key) and never finishes them
    for (const p of peers) {
      for (let n = 0; n < 2; n++) p.node.send([p.channel.address, local('secure_channel')], generateX25519KeyPair().publicKey, { returnRoute: [local('inbox')] });
    }
    await Promise.all(peers.map((p) => p.inbox.count(2))); // every one got its message 2
    expect(r.listener.stats()).to.include({ handshakes: 4 });
    expect(r.listener.stats().dropped.handshake_limit).to.equal(0);
    // a third from the same peer is beyond its own bound
    peers[0]!.node.send([peers[0]!.channel.address, local('secure_channel')], generateX25519KeyPair().publicKey, { returnRoute: [local('inbox')] });
    await waitUntil('the third to be dropped', () => r.listener.stats().dropped.handshake_limit === 1);
    expect(r.listener.stats().handshakes).to.equal(4);
  });

  it('counts half-open handshakes against maxChannels: three begun at once under a bound of two open two channels, not three', async () => {
    const r = await responder({ maxChannels: 2 });
    const i = makeNode('initiator');
    const begun = await Promise.all([1, 2, 3].map(() => handshakeByHand(i, r.toListener)));
    // the third takes the place of the oldest: two places in all, open or half-open
    await waitUntil('the listener to answer all three', () => begun.every((h) => h.answered()));
    expect(r.listener.stats().handshakes).to.equal(2);
    expect(r.listener.stats().dropped.handshake_evicted).to.equal(1);
    await Promise.all(begun.map((h) => h.finish()));
    await waitUntil('the two channels to open', () => r.listener.stats().channels === 2);
    await waitUntil('the message 3 of the pushed-out one to be dropped', () => r.node.stats().dropped['unknown_address'] === 1);
    expect(r.listener.stats()).to.include({ channels: 2, handshakes: 0, accepted: 2 });
    // with both places open a first message is refused
    await handshakeByHand(i, r.toListener);
    await waitUntil('one more to be refused', () => r.listener.stats().dropped.handshake_limit === 1);
    expect(r.listener.stats()).to.include({ channels: 2, handshakes: 0 });
  });

  it('holds at most maxChannelsPerIdentity channels of one identity: one more is refused after its message 3 and counted; another identity still gets one, and a close gives the place back', async () => {
    const r = await responder({ maxChannelsPerIdentity: 2 });
    const i = makeNode('one identity');
    const options = { identity: i.identity, trust: anyone };
    const mine = [await createSecureChannel(i.node, r.toListener, options), await createSecureChannel(i.node, r.toListener, options)];
    await waitUntil('the listener to hold both', () => r.listener.stats().channels === 2);
    // the initiator's side ends with message 3; the listener refuses there without a word, as it refuses an untrusted peer
    await createSecureChannel(i.node, r.toListener, options);
    await waitUntil('the third to be refused', () => r.listener.stats().dropped.identity_limit === 1);
    expect(r.listener.stats()).to.include({ channels: 2, handshakes: 0, accepted: 2 });

    const other = makeNode('another identity');
    const theirs = await createSecureChannel(other.node, r.toListener, { identity: other.identity, trust: anyone });
    await waitUntil('the other identity’s channel to open', () => r.listener.stats().channels === 3);
    expect(fromUtf8((await other.node.request([theirs.address, local('echo')], 'mine')).payload)).to.equal('mine');

    mine[0]!.close();
    await waitUntil('the closed one to be gone', () => r.listener.stats().channels === 2);
    const again = await createSecureChannel(i.node, r.toListener, options);
    expect(fromUtf8((await i.node.request([again.address, local('echo')], 'back')).payload)).to.equal('back');
    expect(r.listener.stats()).to.include({ channels: 3, accepted: 4 });
    expect(r.listener.stats().dropped.identity_limit).to.equal(1);
  });

  it('when every half-open place is taken, a first message takes the place of the oldest handshake of the source holding the most: flooders push out their own, an honest initiator gets in', async () => {
    const r = await responder({ maxHandshakes: 8, maxHandshakesPerConnection: 4 });
    const flooders = await Promise.all(
      ['f1', 'f2', 'f3'].map(async (name) => {
        const f = makeNode(name);
        const party = await createLocalParty({ signer: f.identity });
        const inbox = new Inbox();
        await f.node.startWorker('half', inbox.worker);
        const flood = (n: number) => {
          for (let k = 0; k < n; k++) f.node.send(r.toListener, new InitiatorHandshake(party, trustAnyPeer).start(), { returnRoute: [local('half')] });
        };
        return { inbox, flood };
      }),
    );
    // three connections, four first messages each, never finished: twelve for eight places
    for (const f of flooders) f.flood(4);
    await waitUntil('every flood handshake to be answered', () => flooders.every((f) => f.inbox.messages.length === 4));
    expect(r.listener.stats().handshakes).to.equal(8);
    expect(r.listener.stats().dropped).to.include({ handshake_evicted: 4, handshake_limit: 0 });

    // the flood goes on while an honest initiator (on its own connection) opens a channel
    const honest = makeNode('honest');
    const opening = createSecureChannel(honest.node, r.toListener, { identity: honest.identity, trust: anyone });
    for (const f of flooders) f.flood(4);
    const channel = await opening;
    expect(fromUtf8((await honest.node.request([channel.address, local('echo')], 'in')).payload)).to.equal('in');
    await waitUntil('the second flood to be answered or refused', () => {
      const { dropped } = r.listener.stats();
      return flooders.reduce((n, f) => n + f.inbox.messages.length, 0) + dropped.handshake_limit === 24;
    });
    expect(r.listener.stats().channels).to.equal(1);
    expect(r.listener.stats().handshakes).to.be.at.most(8);
    expect(r.listener.stats().dropped.handshake_evicted).to.be.at.least(4 + 1);
    expect(r.listener.stats().dropped.handshake_timeout).to.equal(0);
  });

  it(`drops a message whose route has more than ${MAX_ROUTE_LENGTH} addresses as garbage, and the channel goes on`, async () => {
    const r = await responder();
    const i = makeNode('initiator');
    const channel = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone });
    const longReturn = Array.from({ length: MAX_ROUTE_LENGTH + 1 }, (_, n) => local(`hop${n}`));
    i.node.send([channel.address, local('inbox')], 'too long a way back', { returnRoute: longReturn });
    await waitUntil('the responder to drop it', () => r.listener.stats().dropped.garbage === 1);
    expect(r.inbox.messages).to.have.length(0);
    expect(fromUtf8((await i.node.request([channel.address, local('echo')], 'after')).payload)).to.equal('after');
  });
});
