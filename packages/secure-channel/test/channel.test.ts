import { expect } from 'chai';
import { echoWorker, fromUtf8, local, type Message, route, WS } from '@tessera/core';
import {
  ChannelClosedError,
  createSecureChannel,
  Ed25519Identity,
  createLocalParty,
  HandshakeTimeoutError,
  InitiatorHandshake,
  identifierOf,
  startSecureChannelListener,
  trustIdentifiers,
  UntrustedPeerError,
  type Signer,
} from '@tessera/secure-channel';
import { waitUntil } from '@tessera/testing';
import { anyone, Inbox, makeNode, stopAll, Tap } from './channel-helpers.js';

async function responder(options: { tap?: Tap } = {}) {
  const r = makeNode('responder');
  await r.node.startWorker('echo', echoWorker);
  const inbox = new Inbox();
  await r.node.startWorker('inbox', inbox.worker);
  if (options.tap) await r.node.startWorker('tap', options.tap.worker);
  const listener = await startSecureChannelListener(r.node, { identity: r.identity, trust: anyone });
  const ws = await r.transport.listen();
  const toListener = options.tap
    ? route({ type: WS, value: `127.0.0.1:${ws.port}` }, 'tap', 'secure_channel')
    : route({ type: WS, value: `127.0.0.1:${ws.port}` }, 'secure_channel');
  return { ...r, listener, inbox, toListener, port: ws.port };
}

describe('secure channels over WebSocket (docs/protocol.md §5)', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  it('opens a channel, carries requests and replies, and tells each side who the other is', async () => {
    const r = await responder();
    const i = makeNode('initiator');
    const channel = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: trustIdentifiers([r.listener.identifier]) });
    expect(channel.identifier).to.equal(r.listener.identifier);
    const reply = await i.node.request([channel.address, local('echo')], 'hello through the channel');
    expect(fromUtf8(reply.payload)).to.equal('hello through the channel');
    expect(reply.local.identity).to.equal(r.listener.identifier);

    i.node.send([channel.address, local('inbox')], 'who am I?');
    await r.inbox.count(1);
    const seen = r.inbox.messages[0]!;
    expect(seen.local.identity).to.equal(identifierOf(i.identity.publicKey));
    expect(seen.local.attributes).to.deep.equal({});
    expect(seen.local.connection).to.equal(undefined);
    expect(r.listener.stats()).to.include({ channels: 1, handshakes: 0, accepted: 1 });
  });

  it('refuses a responder its trust policy does not name, and a responder refuses an untrusted initiator', async () => {
    const r = await responder();
    const i = makeNode('initiator');
    const err = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: trustIdentifiers([]) }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UntrustedPeerError);

    const picky = makeNode('picky');
    const pickyListener = await startSecureChannelListener(picky.node, { identity: picky.identity, trust: trustIdentifiers(['I' + '0'.repeat(64)]), address: 'picky' });
    await picky.node.startWorker('echo', echoWorker);
    const ws = await picky.transport.listen();
    const channel = await createSecureChannel(i.node, route(`3#127.0.0.1:${ws.port}`, 'picky'), { identity: i.identity, trust: anyone });
    await waitUntil('the responder to refuse the initiator', () => pickyListener.stats().dropped.untrusted_peer === 1);
    expect(pickyListener.stats().channels).to.equal(0);
    // the initiator's messages go nowhere: the responder's channel address is gone
    const unknown = picky.node.stats().dropped['unknown_address'] ?? 0;
    i.node.send([channel.address, local('echo')], 'x');
    await waitUntil('the responder to drop it at an address that is gone', () => (picky.node.stats().dropped['unknown_address'] ?? 0) === unknown + 1);
  });

  it('ends the handshake on a proof that does not bind the Noise key to the identity', async () => {
    const r = await responder();
    const i = makeNode('initiator');
    const other = Ed25519Identity.generate();
    // claims i's identity key, but the proof is made with another key
    const liar: Signer = { publicKey: i.identity.publicKey, sign: (data) => other.sign(data) };
    const channel = await createSecureChannel(i.node, r.toListener, { identity: liar, trust: anyone });
    await waitUntil('the responder to refuse the proof', () => r.listener.stats().dropped.handshake_failed === 1);
    expect(r.listener.stats().channels).to.equal(0);
    expect(channel.isOpen).to.equal(true); // the initiator cannot know; its messages are dropped unread
  });

  it('drops a tampered message 2 unread and finishes with the genuine one; only a tampered one times out', async () => {
    const tap = new Tap();
    const r = await responder({ tap });
    const original = tap.worker;
    let mode: 'forge, then pass' | 'pass' | 'only forge' = 'forge, then pass';
    // what goes back to the initiator: message 2 as a copy with a flipped byte first, then the genuine one; later, only forgeries
    await r.node.stopWorker('tap');
    await r.node.startWorker('tap', (ctx, msg: Message) => {
      if (msg.onward.length === 3 && mode !== 'pass') {
        const bytes = Uint8Array.from(msg.payload);
        bytes[bytes.length - 1]! ^= 1;
        ctx.forward({ ...msg, payload: bytes });
        if (mode === 'forge, then pass') ctx.forward(msg);
        if (mode === 'forge, then pass') mode = 'pass';
        return;
      }
      return original(ctx, msg);
    });
    const i = makeNode('initiator');
    const channel = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone });
    expect(channel.stats().dropped.tampered).to.equal(1);
    expect(fromUtf8((await i.node.request([channel.address, local('echo')], 'still fine')).payload)).to.equal('still fine');
    mode = 'only forge';

    const err = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone, timeout: 300 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HandshakeTimeoutError);
  });

  it('drops a forged message 3 unread: the genuine one still opens the channel', async () => {
    const r = await responder();
    const i = makeNode('initiator');
    const hello = new InitiatorHandshake(await createLocalParty({ signer: i.identity }), () => true);
    const answer = new Inbox();
    await i.node.startWorker('raw', answer.worker);
    i.node.send(r.toListener, hello.start(), { returnRoute: [local('raw')] });
    await answer.count(1);
    const message2 = answer.messages[0]!;
    const message3 = await hello.receive(message2.payload);
    const forged = Buffer.from(message3);
    forged[10]! ^= 1;
    i.node.send(message2.return, forged, { returnRoute: [local('raw')] });
    i.node.send(message2.return, message3, { returnRoute: [local('raw')] });
    await waitUntil('the channel to open', () => r.listener.stats().channels === 1);
    expect(r.listener.stats().dropped).to.include({ tampered: 1, handshake_failed: 0 });
  });

  it('drops tampered, replayed, too-old and truncated ciphertexts, accepts reordering within the window, and goes on', async () => {
    const tap = new Tap();
    const r = await responder({ tap });
    const i = makeNode('initiator');
    const channel = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone, batching: false });
    const to = [channel.address, local('inbox')];

    // hold message 0 back, let 1 and 2 through, then release 0: reordered within the window, all three delivered
    tap.pass = () => !(tap.held.length === 0 && tap.toResponder.length === 2);
    for (const text of ['m0', 'm1', 'm2']) i.node.send(to, text);
    await r.inbox.count(2);
    tap.pass = () => true;
    tap.inject(tap.held.pop()!);
    await r.inbox.count(3);
    expect(r.inbox.messages.map((m) => fromUtf8(m.payload))).to.deep.equal(['m1', 'm2', 'm0']);

    const sample = tap.toResponder[2]!; // a ciphertext that has been accepted
    tap.inject(sample); // replayed
    const flipped = withCounter(sample.payload, 40); // a counter not seen yet, so it must authenticate
    flipped[12]! ^= 0x80;
    tap.inject(sample, flipped); // tampered
    tap.inject(sample, sample.payload.subarray(0, 10)); // truncated below counter + tag: garbage
    tap.inject(sample, withCounter(sample.payload, 41).subarray(0, sample.payload.length - 1)); // truncated tag: does not authenticate

    // too old: hold the next one, send 70 more, then release it
    tap.pass = () => !(tap.held.length === 0 && tap.toResponder.length === 5);
    for (let n = 0; n < 71; n++) i.node.send(to, `later ${n}`);
    await r.inbox.count(3 + 70);
    tap.inject(tap.held.pop()!);
    const dropped = () => r.listener.stats().dropped;
    await waitUntil('every bad ciphertext to be counted', () => dropped().too_old === 1);
    expect(dropped()).to.include({ replayed: 1, tampered: 2, garbage: 1, too_old: 1 });

    const reply = await i.node.request([channel.address, local('echo')], 'still here');
    expect(fromUtf8(reply.payload)).to.equal('still here');
    expect(r.inbox.messages).to.have.length(73);
  });

  it('carries messages across several rekeys (every 1,024) in both directions', async () => {
    const r = await responder();
    const i = makeNode('initiator');
    const channel = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone, batching: false });
    const replies = await Promise.all(Array.from({ length: 3_100 }, (_, n) => i.node.request([channel.address, local('echo')], `n${n}`)));
    expect(replies.map((m) => fromUtf8(m.payload))).to.deep.equal(Array.from({ length: 3_100 }, (_, n) => `n${n}`));
    expect(channel.stats().sent).to.equal(3_100);
    expect(Object.values(r.listener.stats().dropped).every((n) => n === 0)).to.equal(true);
  });

  it('batches what is sent in one turn into one ciphertext, and the receiver takes batches', async () => {
    const r = await responder();
    const i = makeNode('initiator');
    const channel = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone });
    for (let n = 0; n < 100; n++) i.node.send([channel.address, local('inbox')], `b${n}`);
    await r.inbox.count(100);
    expect(r.inbox.messages.map((m) => fromUtf8(m.payload))).to.deep.equal(Array.from({ length: 100 }, (_, n) => `b${n}`));
    expect(channel.stats().sent).to.equal(1);
  });

  it('closes on both sides from either side: workers stopped, addresses gone', async () => {
    const r = await responder();
    const i = makeNode('initiator');
    const first = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone });
    await i.node.request([first.address, local('echo')], 'x');
    const [remote] = r.listener.channels();
    first.close();
    await remote!.closed;
    expect(r.node.router.hasLocal(remote!.address.value)).to.equal(false);
    expect(i.node.router.hasLocal(first.address.value)).to.equal(false);
    expect(r.listener.stats().channels).to.equal(0);
    expect(() => first.sendCredentials([])).to.throw(ChannelClosedError);

    const second = await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone });
    await i.node.request([second.address, local('echo')], 'y');
    r.listener.channels()[0]!.close();
    await second.closed;
    expect(i.node.router.hasLocal(second.address.value)).to.equal(false);
  });

  it('refuses a message a peer sends straight to the encryptor, and nothing a peer sends carries an identity', async () => {
    const r = await responder();
    const i = makeNode('initiator');
    await createSecureChannel(i.node, r.toListener, { identity: i.identity, trust: anyone });
    await waitUntil('the responder to finish', () => r.listener.channels().length === 1);
    const [remote] = r.listener.channels();
    // a peer that learnt the responder's encryptor address cannot have it encrypt (or relay) for it
    i.node.send(route(`3#127.0.0.1:${r.port}`, remote!.address.value, 'echo'), 'reflect me');
    await waitUntil('the encryptor to refuse a message from a transport', () => r.node.stats().dropped['access_denied'] === 1);
    i.node.send(route(`3#127.0.0.1:${r.port}`, 'inbox'), 'plain');
    await r.inbox.count(1);
    expect(r.inbox.messages[0]!.local.identity).to.equal(undefined);
    expect(r.inbox.messages[0]!.local.attributes).to.equal(undefined);
  });
});

/** A copy of an encrypted message with another counter. */
function withCounter(frame: Uint8Array, n: number): Uint8Array {
  const copy = Buffer.from(frame);
  copy.writeBigUInt64BE(BigInt(n), 0);
  return copy;
}
