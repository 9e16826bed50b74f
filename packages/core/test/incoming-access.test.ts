import { expect } from 'chai';
import { AccessDeniedError, echoWorker, fromUtf8, IncomingAccess, type Message, Node, silentLogger } from '@tessera/core';

const fromPeer = { connection: 'ws.1.abcdef012345' };

describe('incoming access control', () => {
  let node: Node;
  beforeEach(() => {
    node = new Node({ logger: silentLogger });
  });
  afterEach(() => node.stop({ timeout: 100 }));

  /** Starts a worker that records the payloads that reach it. */
  async function recorder(name: string, incoming: IncomingAccess) {
    const seen: string[] = [];
    await node.startWorker(name, (_ctx, msg) => void seen.push(fromUtf8(msg.payload)), { incoming });
    return seen;
  }

  it('lets anyone in by default, peers included', async () => {
    const seen: string[] = [];
    await node.startWorker('open', (_ctx, msg) => void seen.push(fromUtf8(msg.payload)));
    node.send('open', 'local');
    node.send('open', 'peer', { local: fromPeer });
    await new Promise((r) => setImmediate(r));
    expect(seen).to.deep.equal(['local', 'peer']);
    expect(node.stats().dropped['access_denied'] ?? 0).to.equal(0);
  });

  it('IncomingAccess.local refuses what came from a peer or through a secure channel, counting it', async () => {
    const seen = await recorder('private', IncomingAccess.local);
    expect(node.send('private', 'from a peer', { local: fromPeer })).to.equal('access_denied');
    expect(node.send('private', 'through a channel', { local: { identity: 'I00' } })).to.equal('access_denied');
    expect(node.send('private', 'from here')).to.equal('delivered');
    await new Promise((r) => setImmediate(r));
    expect(seen).to.deep.equal(['from here']);
    expect(node.stats().dropped['access_denied']).to.equal(2);
  });

  it('a local request that the policy refuses fails at once with AccessDeniedError', async () => {
    await node.startWorker('peers-only', echoWorker, { incoming: IncomingAccess.fromPeers });
    const err = await node.request('peers-only', 'x', { timeout: 60_000 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AccessDeniedError);
    expect((err as AccessDeniedError).code).to.equal('ACCESS_DENIED');
    expect(node.stats().pendingRequests).to.equal(0);
    expect(node.send('peers-only', 'x', { local: fromPeer })).to.equal('delivered');
  });

  it('where(predicate) and anyOf(...) make policies of one\'s own; a predicate that throws refuses', async () => {
    const vouched = IncomingAccess.where((msg: Message) => msg.local.identity === 'Iadmin');
    const seen = await recorder('admin', IncomingAccess.anyOf(IncomingAccess.local, vouched));
    expect(node.send('admin', 'stranger', { local: { identity: 'Iother' } })).to.equal('access_denied');
    expect(node.send('admin', 'admin', { local: { identity: 'Iadmin' } })).to.equal('delivered');
    expect(node.send('admin', 'here')).to.equal('delivered');
    await new Promise((r) => setImmediate(r));
    expect(seen).to.deep.equal(['admin', 'here']);

    await recorder('buggy', IncomingAccess.where(() => {
      throw new Error('bug in a policy');
    }));
    expect(node.send('buggy', 'x')).to.equal('access_denied');
  });

  it('registerSink takes a policy too', async () => {
    const got: Message[] = [];
    node.registerSink('raw', (msg) => got.push(msg) > 0, { incoming: IncomingAccess.local });
    expect(node.send('raw', 'x', { local: fromPeer })).to.equal('access_denied');
    expect(node.send('raw', 'y')).to.equal('delivered');
    expect(got.map((m) => fromUtf8(m.payload))).to.deep.equal(['y']);
  });
});
