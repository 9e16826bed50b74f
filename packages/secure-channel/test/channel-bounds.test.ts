// What one peer can make a listener hold: channels of peers that went quiet
// (idle timeout), half-open handshakes tunnelled through channels (bound per
// peer identity), routes of any length (refused as garbage).
import { expect } from 'chai';
import { echoWorker, fromUtf8, local, route, WS } from '@tessera/core';
import { createSecureChannel, generateX25519KeyPair, MAX_ROUTE_LENGTH, startSecureChannelListener, type SecureChannelListenerOptions } from '@tessera/secure-channel';
import { waitUntil } from '@tessera/testing';
import { anyone, fakeClock, Inbox, makeNode, stopAll } from './channel-helpers.js';

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
