import { expect } from 'chai';
import { startTcpProxy } from '@tessera/testing';
import { echoWorker, fromUtf8, local, type Message, route, WS } from '@tessera/core';
import { createSecureChannel, identifierOf, startSecureChannelListener } from '@tessera/secure-channel';
import type { ConnectionStatus, WebSocketTransport } from '@tessera/transport-ws';
import { anyone, Inbox, makeNode, stopAll } from './channel-helpers.js';

function nextStatus(transport: WebSocketTransport, type: ConnectionStatus['type']): Promise<void> {
  return new Promise((resolve) => {
    const on = (s: ConnectionStatus) => {
      if (s.type !== type) return;
      transport.off('status', on);
      resolve();
    };
    transport.on('status', on);
  });
}

describe('secure channels through hops and reconnects (docs/protocol.md §5)', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  it('runs end to end A → B → C: B relays only ciphertext, never a plaintext byte', async () => {
    const c = makeNode('C');
    await c.node.startWorker('echo', echoWorker);
    const inbox = new Inbox();
    await c.node.startWorker('inbox', inbox.worker);
    const listener = await startSecureChannelListener(c.node, { identity: c.identity, trust: anyone });
    const cPort = (await c.transport.listen()).port;

    const b = makeNode('B', { ws: { forwarding: true } });
    const bPort = (await b.transport.listen()).port;
    const relayed: Message[] = [];
    const route0 = b.node.route.bind(b.node);
    b.node.route = (msg) => {
      relayed.push(msg);
      return route0(msg);
    };

    const a = makeNode('A');
    const toC = route({ type: WS, value: `127.0.0.1:${bPort}` }, { type: WS, value: `127.0.0.1:${cPort}` }, 'secure_channel');
    const channel = await createSecureChannel(a.node, toC, { identity: a.identity, trust: anyone });
    expect(channel.identifier).to.equal(listener.identifier);

    const secret = 'the plaintext B must never see: 7f3a9c';
    const reply = await a.node.request([channel.address, local('echo')], secret);
    expect(fromUtf8(reply.payload)).to.equal(secret);
    a.node.send([channel.address, local('inbox')], secret);
    await inbox.count(1);
    expect(inbox.messages[0]!.local.identity).to.equal(identifierOf(a.identity.publicKey));

    // 3 handshake messages, 2 requests there, 1 reply back: all of them crossed B, none in the clear
    expect(relayed.length).to.be.at.least(6);
    const needle = Buffer.from(secret);
    for (const m of relayed) expect(Buffer.from(m.payload).indexOf(needle)).to.equal(-1);
    // and the part of the text that is not also the address of a worker
    for (const m of relayed) expect(Buffer.from(m.payload).indexOf(Buffer.from('7f3a9c'))).to.equal(-1);
  });

  for (const forwarding of [false, true]) {
    it(`${forwarding ? 'hands' : 'never hands'} a peer's plaintext to another peer's connection address when the channel end ${forwarding ? 'forwards' : 'does not forward'} (the transport forwards either way)`, async () => {
      const v = makeNode('V', { ws: { forwarding: true } });
      await v.node.startWorker('echo', echoWorker);
      await startSecureChannelListener(v.node, { identity: v.identity, trust: anyone, forwarding });
      const vPort = (await v.transport.listen()).port;
      // W is another peer of V's, with a worker that must not get A's plaintext unless V's channel end forwards
      const w = makeNode('W');
      const inbox = new Inbox();
      await w.node.startWorker('inbox', inbox.worker);
      await w.node.request(route({ type: WS, value: `127.0.0.1:${vPort}` }, 'echo'), 'hello');
      const toW = v.transport.connections().find((c) => c.direction === 'incoming')!.name;

      const a = makeNode('A');
      const channel = await createSecureChannel(a.node, route({ type: WS, value: `127.0.0.1:${vPort}` }, 'secure_channel'), { identity: a.identity, trust: anyone });
      a.node.send([channel.address, local(toW), local('inbox')], 'plaintext for W');
      // the channel delivers in order: once echo answered, the message before it was handled
      await a.node.request([channel.address, local('echo')], 'after');
      if (forwarding) {
        await inbox.count(1);
        expect(fromUtf8(inbox.messages[0]!.payload)).to.equal('plaintext for W');
      } else {
        expect(v.node.stats().dropped['access_denied']).to.equal(1);
        await w.node.request(route({ type: WS, value: `127.0.0.1:${vPort}` }, 'echo'), 'flush');
        expect(inbox.messages).to.have.length(0);
      }
    });
  }

  it('survives the initiator’s reconnect: the responder adopts the newest authenticated return route', async () => {
    const r = makeNode('responder');
    await r.node.startWorker('echo', echoWorker);
    const listener = await startSecureChannelListener(r.node, { identity: r.identity, trust: anyone });
    const rPort = (await r.transport.listen()).port;

    // a TCP proxy in between, so the test can cut the initiator's connection
    const proxy = await startTcpProxy(rPort);
    const proxyPort = proxy.port;

    try {
      const i = makeNode('initiator', { ws: { reconnect: { initialDelay: 20, maxDelay: 100 } } });
      const channel = await createSecureChannel(i.node, route(`3#127.0.0.1:${proxyPort}`, 'secure_channel'), { identity: i.identity, trust: anyone });
      expect(fromUtf8((await i.node.request([channel.address, local('echo')], 'before')).payload)).to.equal('before');
      const firstConnection = r.transport.connections()[0]!.name;

      const reconnected = nextStatus(i.transport, 'connected');
      proxy.cut();
      await reconnected;

      expect(fromUtf8((await i.node.request([channel.address, local('echo')], 'after')).payload)).to.equal('after');
      expect(r.transport.connections().map((c) => c.name)).to.not.include(firstConnection);
      expect(listener.stats().channels).to.equal(1);
    } finally {
      proxy.close();
    }
  });
});
