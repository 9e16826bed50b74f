import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Authority, type MemberStore, memoryMemberStore, redisMemberStore } from '@tessera/authority';
import { freePort, skipWithoutRedis, startRedisServer, startTcpProxy, type TcpProxy, waitUntil } from '@tessera/testing';
import { type Clock, echoWorker, fromUtf8, local, type Message, randomId64, route, type Route, WS } from '@tessera/core';
import { createRelay, type CreateRelayOptions, RelayService, type RelayServiceOptions, type Relay } from '@tessera/relay';
import { createSecureChannel, Ed25519Identity, identifierOf, startSecureChannelListener, throughSecureChannel } from '@tessera/secure-channel';
import type { WsTransportOptions } from '@tessera/transport-ws';
import { anyone, fakeClock, Inbox, makeNode, stopAll, type TestNode } from '../../secure-channel/test/channel-helpers.js';

interface Hub extends TestNode {
  authority: Authority;
  service: RelayService;
  port: number;
  /** Every message the hub's node routed, as it was. */
  routed: Message[];
}

interface TestHubOptions {
  port?: number;
  relay?: Partial<RelayServiceOptions>;
  clock?: Clock;
  ws?: WsTransportOptions;
  /** The members (default: a memory store of its own); hubs that share one share their members, as on one Redis. */
  members?: MemberStore;
}

/** A hub as `tessera hub` runs one, in process: no forwarding, the authority, a channel listener, the relay service. */
async function startTestHub({ port = 0, relay: options = {}, clock, ws = {}, members = memoryMemberStore() }: TestHubOptions = {}): Promise<Hub> {
  const hub = makeNode('hub', { ws: { forwarding: false, ...ws }, ...(clock ? { clock } : {}) });
  const routed: Message[] = [];
  const route0 = hub.node.route.bind(hub.node);
  hub.node.route = (msg) => {
    routed.push(msg);
    return route0(msg);
  };
  const authority = new Authority({ store: members, identity: hub.identity, clock: hub.node.clock });
  await hub.node.startWorker('authority', authority);
  await startSecureChannelListener(hub.node, { identity: hub.identity, trust: anyone });
  const service = new RelayService({ membership: (id) => authority.membership(id), ...options });
  await hub.node.startWorker('relay', service);
  const listener = await hub.transport.listen({ port });
  return { ...hub, authority, service, port: listener.port, routed };
}

/** Resolves at the n-th `registered` from now. */
function nthRegistered(relay: Relay, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const on = () => {
      if (++seen < n) return;
      relay.off('registered', on);
      resolve();
    };
    relay.on('registered', on);
  });
}

/** A node enrolled at the hub (no attributes unless given) with a channel to it: `ask` sends JSON and reads the answer; `create` asks the relay service for a name. */
async function enrolledPeer(hub: Hub, attributes: Record<string, string> = {}) {
  const peer = makeNode('peer');
  const ws = route({ type: WS, value: `127.0.0.1:${hub.port}` });
  const ask = async (to: Route, body: object) => JSON.parse(fromUtf8((await peer.node.request(to, JSON.stringify(body))).payload)) as Record<string, string>;
  const { token } = await hub.authority.createToken({ attributes });
  const channel = await createSecureChannel(peer.node, [...ws, local('secure_channel')], { identity: peer.identity, trust: anyone });
  expect(await ask([channel.address, local('authority')], { action: 'enroll', token })).to.include({ result: 'success' });
  const create = (name: string) => ask([channel.address, local('relay')], { action: 'create', name });
  return { peer, ws, ask, channel, create };
}

/** Node's garbage collector, for a test that weighs what the heap keeps. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

const relays: Relay[] = [];
const proxies: TcpProxy[] = [];

async function device(
  hubPort: number,
  hub: Hub,
  name: string,
  identity = Ed25519Identity.generate(),
  options: Partial<CreateRelayOptions> = {},
  ws: WsTransportOptions = { forwarding: false },
): Promise<{ d: TestNode; relay: Relay }> {
  const d = makeNode(`device-${name}`, { ws });
  await d.node.startWorker('echo', echoWorker);
  const { token } = await hub.authority.createToken({ attributes: { role: 'device' } });
  const relay = await createRelay(d.node, route({ type: WS, value: `127.0.0.1:${hubPort}` }), {
    identity,
    name,
    enrollToken: token,
    pingInterval: 50,
    requestTimeout: 1_000,
    backoff: { initialDelay: 20, maxDelay: 200 },
    ...options,
  });
  relays.push(relay);
  return { d, relay };
}

describe('relays (forwarders at the hub)', function () {
  this.timeout(30_000);
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.close()));
    for (const p of proxies.splice(0)) p.close();
    await stopAll();
  });

  it('reaches a device’s echo through the relay, and again after the device’s connection dropped and came back', async () => {
    const hub = await startTestHub();
    const proxy = await startTcpProxy(hub.port);
    proxies.push(proxy);
    const { relay } = await device(proxy.port, hub, 'pump-7');
    await relay.registered();

    const third = makeNode('third');
    const toEcho: Route = route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_pump-7', 'echo');
    expect(fromUtf8((await third.node.request(toEcho, 'hello pump')).payload)).to.equal('hello pump');

    const again = nthRegistered(relay, 1);
    proxy.cut();
    await again;
    expect(fromUtf8((await third.node.request(toEcho, 'hello again')).payload)).to.equal('hello again');
    expect(hub.service.stats()).to.include({ relays: 1, attached: 1 });
  });

  it('registers again after the hub restarts', async () => {
    const first = await startTestHub();
    const identity = Ed25519Identity.generate();
    const { relay } = await device(first.port, first, 'pump-8', identity);
    await relay.registered();
    const port = first.port;
    await first.node.stop({ timeout: 100 });
    // the new hub knows the identity already: its member store is its own, so enroll it there by hand
    const second = await startTestHub({ port });
    // listening before the identity is a member: the device may register as soon as it is one
    const back = nthRegistered(relay, 1);
    const { token } = await second.authority.createToken({ attributes: {} });
    const enroller = makeNode('enroller');
    const channel = await createSecureChannel(enroller.node, route({ type: WS, value: `127.0.0.1:${port}` }, 'secure_channel'), { identity, trust: anyone });
    await enroller.node.request([channel.address, local('authority')], JSON.stringify({ action: 'enroll', token }));
    await back;
    const third = makeNode('third');
    const reply = await third.node.request(route({ type: WS, value: `127.0.0.1:${port}` }, 'forward_to_pump-8', 'echo'), 'after restart');
    expect(fromUtf8(reply.payload)).to.equal('after restart');
  });

  it('refuses the name to a second identity (not_allowed) while the first keeps it', async () => {
    const hub = await startTestHub();
    const { relay } = await device(hub.port, hub, 'pump-9');
    await relay.registered();
    const { relay: other } = await device(hub.port, hub, 'pump-9');
    const refused = await new Promise<Error>((resolve) => other.once('retrying', ({ err }) => resolve(err)));
    expect(refused).to.have.property('reason', 'not_allowed');
    expect(refused.message).to.match(/taken/);
    const third = makeNode('third');
    const reply = await third.node.request(route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_pump-9', 'echo'), 'still mine');
    expect(fromUtf8(reply.payload)).to.equal('still mine');
  });

  it('lets the device answer only where a peer asked for answers, never hop to another worker of that peer', async () => {
    const hub = await startTestHub();
    const { d, relay } = await device(hub.port, hub, 'evil-1');
    await relay.registered();
    // the victim asks the device's echo once: its connection is now in the device's view
    const victim = makeNode('victim');
    const secrets = new Inbox();
    await victim.node.startWorker('private', secrets.worker);
    const seen = new Inbox();
    await d.node.startWorker('spy', seen.worker);
    victim.node.send(route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_evil-1', 'spy'), 'hello', { returnRoute: [local('private_reply')] });
    await seen.count(1);
    const back = seen.messages[0]!.return; // [hub connection, forward_to_evil-1, victim's connection on the hub, private_reply]
    const victimConnection = back[2]!;
    // an answer to where the victim asked goes through; a hop to another of its workers is refused
    await victim.node.startWorker('private_reply', secrets.worker);
    d.node.send([...back.slice(0, 3), local('private')], 'reaching in');
    d.node.send(back, 'an answer');
    await secrets.count(1);
    expect(secrets.messages.map((m) => fromUtf8(m.payload))).to.deep.equal(['an answer']);
    expect(victimConnection.value).to.match(/^ws\./);
    expect(hub.service.stats().dropped['relay_refused']).to.equal(1);
  });

  it('lets the device answer a caller however many requests another caller sends through the relay meanwhile', async () => {
    const hub = await startTestHub();
    const { d, relay } = await device(hub.port, hub, 'pump-15', undefined, { pingInterval: 3_600_000 });
    await relay.registered();
    const held = new Inbox();
    await d.node.startWorker('slow', held.worker);
    const toDevice = route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_pump-15');
    const caller = makeNode('caller');
    const answer = caller.node.request([...toDevice, local('slow')], 'mine', { timeout: 10_000 });
    await held.count(1);
    // before the device answers, another caller makes 2,000 requests through the relay, each with a reply address
    // of its own (as node.request does): more places to answer than the forwarder remembers
    const flooder = makeNode('flooder');
    for (let batch = 0; batch < 20; batch++) await Promise.all(Array.from({ length: 100 }, () => flooder.node.request([...toDevice, local('echo')], 'x')));
    d.node.send(held.messages[0]!.return, 'yours');
    expect(fromUtf8((await answer).payload)).to.equal('yours');
    expect(hub.service.stats().dropped['relay_refused']).to.equal(undefined);
  });

  it('keeps no more than a digest of a long address callers ask answers at (a flood of 100 KB return addresses costs the hub little)', async () => {
    const hub = await startTestHub();
    const { d, relay } = await device(hub.port, hub, 'pump-18', undefined, { pingInterval: 3_600_000 });
    await relay.registered();
    const sink = new Inbox();
    await d.node.startWorker('sink', sink.worker);
    const flooder = makeNode('flooder');
    const toSink = route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_pump-18', 'sink');
    const gc = collectGarbage();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    // 1,024 places to answer (as many as a forwarder remembers), each behind a return address of 100 KB
    for (let batch = 0; batch < 64; batch++) {
      for (let i = 0; i < 16; i++) flooder.node.send(toSink, new Uint8Array(0), { returnRoute: [local(`${batch}.${i}.`.padEnd(100_000, 'x'))] });
      await sink.count((batch + 1) * 16);
    }
    // what the test itself kept (the hub's record of what it routed, the device's inbox) goes before the weighing
    sink.messages.length = 0;
    hub.routed.length = 0;
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(grown, `the heap grew ${Math.round(grown / 2 ** 20)} MiB`).to.be.below(32 * 2 ** 20);
  });

  it('is kept at a hub the device reaches directly: a route through another hub is refused', async () => {
    const d = makeNode('device', { ws: { forwarding: false } });
    const err = await createRelay(d.node, route({ type: WS, value: '127.0.0.1:1' }, { type: WS, value: '127.0.0.1:2' }), { identity: Ed25519Identity.generate(), name: 'pump-11' }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'INVALID_OPTIONS');
    expect((err as Error).message).to.match(/directly/);
  });

  it('tells whoever waits for the first registration when the relay is closed before it (RELAY_CLOSED)', async () => {
    const d = makeNode('device-nowhere', { ws: { forwarding: false } });
    // no hub listens there: the relay keeps trying until it is closed
    const relay = await createRelay(d.node, route({ type: WS, value: `127.0.0.1:${await freePort()}` }), {
      identity: Ed25519Identity.generate(),
      name: 'pump-18',
      requestTimeout: 1_000,
      backoff: { initialDelay: 20, maxDelay: 200 },
    });
    const waiting = relay.registered().catch((e: unknown) => e);
    await relay.close();
    expect(await waiting).to.have.property('code', 'RELAY_CLOSED');
  });

  it('refuses to keep a relay for a node that sends peers’ messages on (anyone reaching the hub could make it dial any address), unless told to', async () => {
    const hub = await startTestHub();
    const hubRoute = route({ type: WS, value: `127.0.0.1:${hub.port}` });
    const forwarding = makeNode('forwarding-device');
    const err = await createRelay(forwarding.node, hubRoute, { identity: Ed25519Identity.generate(), name: 'pump-16' }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'INVALID_OPTIONS');
    expect((err as Error).message).to.match(/forwarding: false/);
    expect(forwarding.node.workerAddresses().filter((a) => a.startsWith('relay_ping.'))).to.deep.equal([]);

    // a gateway that means to forward says so
    const { relay } = await device(hub.port, hub, 'pump-17', undefined, { allowForwarding: true }, {});
    await relay.registered();
  });

  it('carries a secure channel end to end: the hub relays ciphertext only', async () => {
    const hub = await startTestHub();
    const { d, relay } = await device(hub.port, hub, 'pump-10');
    await relay.registered();
    await startSecureChannelListener(d.node, { identity: d.identity, trust: anyone });
    const inbox = new Inbox();
    const third = makeNode('third');
    // the device's worker decides who reaches it: only through a channel, only the third node
    await d.node.startWorker('inbox', inbox.worker, { incoming: throughSecureChannel({ identifiers: [identifierOf(third.identity.publicKey)] }) });
    await d.node.startWorker('secure_echo', echoWorker, { incoming: throughSecureChannel() });

    const before = hub.routed.length;
    const channel = await createSecureChannel(third.node, [...relay.route.map((a) => ({ ...a, value: a.type === WS ? `127.0.0.1:${hub.port}` : a.value })), local('secure_channel')], {
      identity: third.identity,
      trust: anyone,
    });
    expect(channel.identifier).to.equal(identifierOf(d.identity.publicKey));
    const secret = 'the plaintext the hub must never see: 5be41d';
    const reply = await third.node.request([channel.address, local('secure_echo')], secret);
    expect(fromUtf8(reply.payload)).to.equal(secret);
    third.node.send([channel.address, local('inbox')], secret);
    await inbox.count(1);
    expect(inbox.messages[0]!.local.identity).to.equal(identifierOf(third.identity.publicKey));

    const crossed = hub.routed.slice(before).filter((m) => m.onward[0]?.value === 'forward_to_pump-10');
    expect(crossed.length).to.be.at.least(5);
    for (const m of hub.routed.slice(before)) {
      expect(Buffer.from(m.payload).indexOf(Buffer.from(secret))).to.equal(-1);
      expect(Buffer.from(m.payload).indexOf(Buffer.from('5be41d'))).to.equal(-1);
    }
    // in plaintext, over the relay, the same worker is refused: the device counts the refusal
    const denied = d.node.stats().dropped['access_denied'] ?? 0;
    third.node.send(route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_pump-10', 'secure_echo'), 'no channel');
    await waitUntil('the device to refuse the plaintext', () => (d.node.stats().dropped['access_denied'] ?? 0) === denied + 1);
  });

  it('refuses create in plaintext, attach through a channel, and a ticket twice', async () => {
    const hub = await startTestHub();
    const peer = makeNode('peer');
    const ws = route({ type: WS, value: `127.0.0.1:${hub.port}` });
    const ask = async (to: Route, body: object) => JSON.parse(fromUtf8((await peer.node.request(to, JSON.stringify(body))).payload)) as Record<string, string>;
    expect(await ask([...ws, local('relay')], { action: 'create', name: 'x1' })).to.include({ result: 'failure', code: 'not_allowed' });
    const { token } = await hub.authority.createToken({ attributes: { relay: 'meter-*' } });
    const channel = await createSecureChannel(peer.node, [...ws, local('secure_channel')], { identity: peer.identity, trust: anyone });
    expect(await ask([channel.address, local('authority')], { action: 'enroll', token })).to.include({ result: 'success' });
    expect(await ask([channel.address, local('relay')], { action: 'create', name: 'pump-1' })).to.include({ result: 'failure', code: 'not_allowed' });
    expect(await ask([channel.address, local('relay')], { action: 'create', name: 'Bad_Name' })).to.include({ result: 'failure', code: 'invalid_request' });
    const created = await ask([channel.address, local('relay')], { action: 'create', name: 'meter-1', request_id: 'r1' });
    expect(created).to.include({ result: 'success', name: 'meter-1', address: 'forward_to_meter-1', request_id: 'r1' });
    expect(await ask([channel.address, local('relay')], { action: 'attach', ticket: created['ticket'] })).to.include({ result: 'failure', code: 'not_allowed' });
    expect(await ask([...ws, local('relay')], { action: 'attach', ticket: created['ticket'] })).to.include({ result: 'success', name: 'meter-1' });
    expect(await ask([...ws, local('relay')], { action: 'attach', ticket: created['ticket'] })).to.include({ result: 'failure', code: 'not_allowed' });
    expect(await ask([...ws, local('relay')], { nonsense: true })).to.include({ result: 'failure', code: 'invalid_request' });
  });

  it('never lets a peer reach the hub’s own workers as a local sender through a forwarder', async () => {
    const hub = await startTestHub();
    const { relay } = await device(hub.port, hub, 'pump-11');
    await relay.registered();
    const local0: Message[] = [];
    await hub.node.startWorker('hub_only', (_ctx, msg) => void local0.push(msg));
    const peer = makeNode('peer');
    // whatever follows the forwarder goes to the device, never to a worker on the hub
    peer.node.send(route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_pump-11', 'hub_only'), 'sneak');
    await peer.node.request(route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_pump-11', 'echo'), 'after');
    expect(local0).to.have.length(0);
  });

  it('lets a ticket wait ticketTtl for its attach, no longer; bounds names per identity; ends a removed member’s relays', async () => {
    const { clock, tick } = fakeClock();
    const hub = await startTestHub({ relay: { maxPerIdentity: 2, ticketTtl: 1_000 }, clock });
    const { peer, ws, ask, create } = await enrolledPeer(hub);
    const late = await create('a1');
    expect(hub.service.stats()).to.include({ pendingTickets: 1 });
    tick(1_000);
    expect(hub.service.stats(), 'an expired ticket waits for nothing').to.include({ pendingTickets: 0 });
    expect(await ask([...ws, local('relay')], { action: 'attach', ticket: late['ticket'] })).to.include({ result: 'failure', code: 'not_allowed' });
    const fresh = await create('a1');
    tick(999);
    expect(await ask([...ws, local('relay')], { action: 'attach', ticket: fresh['ticket'] })).to.include({ result: 'success' });
    expect(await create('a2')).to.include({ result: 'success' });
    expect(await create('a3')).to.include({ result: 'failure', code: 'quota_exceeded' });
    expect(await create('a1')).to.include({ result: 'success' });

    expect(await hub.service.removeAllOf(identifierOf(peer.identity.publicKey))).to.equal(2);
    expect(hub.service.stats()).to.include({ relays: 0, attached: 0, pendingTickets: 0 });
    expect(hub.node.workerAddresses().filter((a) => a.startsWith('forward_to_'))).to.deep.equal([]);
  });

  it('keeps the relay between liveness checks: the device’s own check comes back through the forwarder', async () => {
    const hub = await startTestHub();
    // a check that got no answer would fail only after 10 s: none is lost to a busy machine
    const { relay } = await device(hub.port, hub, 'pump-12', undefined, { requestTimeout: 10_000 });
    await relay.registered();
    const failures: Error[] = [];
    relay.on('retrying', ({ err }) => failures.push(err));
    // ten checks go out and come back (the device's answers to itself pass, they answer no caller)
    await waitUntil('ten liveness checks through the relay', () => (hub.service.stats().forwarded['from_device'] ?? 0) >= 10);
    expect(failures).to.deep.equal([]);
    expect(hub.service.stats()).to.include({ registrations: 1 });
    expect(hub.service.stats().dropped['relay_refused']).to.equal(undefined);
  });

  it('frees the name at the hub when the device closes its relay; only the owner may delete a name', async () => {
    const hub = await startTestHub();
    const { relay } = await device(hub.port, hub, 'pump-13');
    await relay.registered();
    // another member may not delete it: the answer is the one for a name nobody holds
    const { create, ask, channel } = await enrolledPeer(hub);
    expect(await ask([channel.address, local('relay')], { action: 'delete', name: 'pump-13', request_id: 'd1' })).to.include({ result: 'failure', code: 'not_found', request_id: 'd1' });
    expect(await create('pump-13')).to.include({ result: 'failure', code: 'not_allowed' });
    expect(hub.service.stats()).to.include({ relays: 1, attached: 1 });

    await relay.close();
    // at once: no relay, no forwarder, and the name is free for another identity
    expect(hub.service.stats()).to.include({ relays: 0, attached: 0 });
    expect(hub.node.workerAddresses().filter((a) => a.startsWith('forward_to_'))).to.deep.equal([]);
    const third = makeNode('third');
    third.node.send(route({ type: WS, value: `127.0.0.1:${hub.port}` }, 'forward_to_pump-13', 'echo'), 'anyone there?');
    await waitUntil('the message to the freed name refused', () => hub.service.stats().dropped['unknown_address'] === 1);
    expect(await create('pump-13')).to.include({ result: 'success', name: 'pump-13' });
    expect(hub.service.stats().refused).to.deep.equal({ not_allowed: 1 });
  });

  it('gives each sender a share of a device connection that backs up: a flood is cut and counted, another caller still gets its answer', async () => {
    // the hub's bounds as `tessera hub` sets them: 256 KiB in a peer's socket, then 1 MiB queued
    const hub = await startTestHub({ ws: { highWaterMark: 256 << 10, maxQueuedBytes: 1 << 20 } });
    await hub.node.startWorker('echo', echoWorker);
    const link = await startTcpProxy(hub.port);
    proxies.push(link);
    // no liveness checks while the link is held: this test is about callers
    const { relay } = await device(link.port, hub, 'pump-14', undefined, { pingInterval: 3_600_000 });
    await relay.registered();
    const ws = route({ type: WS, value: `127.0.0.1:${hub.port}` });
    const flooder = makeNode('flooder');
    const flood = async (payload: Uint8Array, n: number) => {
      for (let i = 0; i < n; i++) flooder.node.send([...ws, local('forward_to_pump-14'), local('sink')], payload);
      // every earlier message of the flooder's connection has been routed at the hub when its echo answers
      await flooder.node.request([...ws, local('echo')], 'paced');
    };
    // the device reads nothing for now (a slow link): what the hub sends it backs up, first in the kernel's buffers,
    // then in the hub's socket, then in its queue; the flooder sends 16 KiB messages until the hub refuses some,
    // then 12,000 empty ones (more than the queue's 10,000 messages, or its last bytes)
    link.stallAnswers();
    const backedUp = () => (hub.service.stats().dropped['relay_over_share'] ?? 0) + (hub.node.stats().dropped['queue_full'] ?? 0) > 0;
    for (let rounds = 0; !backedUp() && rounds < 1_024; rounds++) await flood(new Uint8Array(16 << 10), 64);
    expect(backedUp(), 'the flood backed the device connection up').to.equal(true);
    for (let rounds = 0; rounds < 12; rounds++) await flood(new Uint8Array(0), 1_000);
    const caller = makeNode('caller');
    const answer = caller.node.request([...ws, local('forward_to_pump-14'), local('echo')], 'my turn', { timeout: 20_000 });
    await caller.node.request([...ws, local('echo')], 'routed?'); // the caller's request is at the hub now
    link.resumeAnswers();
    expect(fromUtf8((await answer).payload)).to.equal('my turn');
    // the flood's excess was cut at the forwarder and counted; nothing overflowed the device connection's queue
    expect(hub.service.stats().dropped['relay_over_share']).to.be.greaterThan(0);
    expect(hub.node.stats().dropped['relay_over_share']).to.equal(hub.service.stats().dropped['relay_over_share']);
    expect(hub.node.stats().dropped['queue_full']).to.equal(undefined);
  });

  it('ends the relays of an owner removed on another hub that shares the members, at the next membership check', async () => {
    const { clock, tick } = fakeClock();
    const members = memoryMemberStore();
    const hub = await startTestHub({ clock, members, relay: { membershipCheckInterval: 60_000 } });
    const { peer, ws, ask, create } = await enrolledPeer(hub);
    const created = await create('c1');
    expect(await ask([...ws, local('relay')], { action: 'attach', ticket: created['ticket'] })).to.include({ result: 'success' });
    // another hub on the same storage removes the member: this hub hears nothing of it
    expect(await members.remove(identifierOf(peer.identity.publicKey))).to.equal(true);
    tick(59_999);
    expect(hub.service.stats()).to.include({ relays: 1, attached: 1 });
    tick(1);
    await waitUntil('the relay of the removed member ended', () => hub.service.stats().relays === 0);
    expect(hub.node.workerAddresses().filter((a) => a.startsWith('forward_to_'))).to.deep.equal([]);
  });

  it('ends a relay whose name the owner’s attributes no longer allow (removed and enrolled again on another hub), at the next membership check', async () => {
    const { clock, tick } = fakeClock();
    const members = memoryMemberStore();
    const hub = await startTestHub({ clock, members, relay: { requireAttribute: true, membershipCheckInterval: 60_000 } });
    const { peer, ws, ask, channel, create } = await enrolledPeer(hub, { relay: 'gate-*' });
    const created = await create('gate-1');
    expect(await ask([...ws, local('relay')], { action: 'attach', ticket: created['ticket'] })).to.include({ result: 'success' });
    // another hub on the same storage removes the member, which enrolls again with other names allowed: this hub hears nothing of it
    expect(await members.remove(identifierOf(peer.identity.publicKey))).to.equal(true);
    const { token } = await hub.authority.createToken({ attributes: { relay: 'door-*' } });
    expect(await ask([channel.address, local('authority')], { action: 'enroll', token })).to.include({ result: 'success' });
    tick(60_000);
    await waitUntil('the relay the new attributes do not allow ended', () => hub.service.stats().relays === 0);
    expect(hub.node.workerAddresses().filter((a) => a.startsWith('forward_to_'))).to.deep.equal([]);
    expect(await create('door-1')).to.include({ result: 'success' });
  });

  it('answers unavailable, in fixed words, while the members cannot be read, and keeps the relays it holds', async function () {
    const server = await skipWithoutRedis(this, () => startRedisServer());
    const members = redisMemberStore({ redis: server.url, keyPrefix: `tessera:{${randomId64()}}:auth:` });
    try {
      const hub = await startTestHub({ members });
      const { ws, ask, create } = await enrolledPeer(hub);
      const created = await create('u1');
      expect(await ask([...ws, local('relay')], { action: 'attach', ticket: created['ticket'] })).to.include({ result: 'success' });
      const second = await create('u2');
      await server.stop();
      const unavailable = { result: 'failure', code: 'unavailable', message: 'unavailable: the hub cannot read its members now; try again later' };
      expect(await create('u3')).to.deep.equal(unavailable);
      expect(await ask([...ws, local('relay')], { action: 'attach', ticket: second['ticket'] })).to.deep.equal(unavailable);
      expect(hub.service.stats().refused).to.deep.equal({ unavailable: 2 });
      // the relay attached before keeps its name (the check of the owners keeps what it cannot read)
      expect(await hub.service.removeNotAllowed().catch(() => 0)).to.equal(0);
      expect(hub.service.stats()).to.include({ relays: 2, attached: 1 });
    } finally {
      await members.close();
      await server.stop();
    }
  });

  it('refuses the attach of an owner removed (on another hub) since its create, and stops the forwarder with the name', async () => {
    const members = memoryMemberStore();
    const hub = await startTestHub({ members });
    const { peer, ws, ask, create } = await enrolledPeer(hub);
    const created = await create('d1');
    expect(created).to.include({ result: 'success' });
    expect(await members.remove(identifierOf(peer.identity.publicKey))).to.equal(true);
    expect(await ask([...ws, local('relay')], { action: 'attach', ticket: created['ticket'] })).to.include({ result: 'failure', code: 'not_allowed' });
    expect(hub.service.stats()).to.include({ relays: 0, pendingTickets: 0 });
    expect(hub.node.workerAddresses().filter((a) => a.startsWith('forward_to_'))).to.deep.equal([]);
  });

  it('frees a name created and never attached once its ticket is gone, its forwarder too; echoes request_id on a bad request', async () => {
    const { clock, tick } = fakeClock();
    const hub = await startTestHub({ relay: { maxPerIdentity: 1, ticketTtl: 1_000 }, clock });
    const { ask, channel, create } = await enrolledPeer(hub);
    expect(await create('b1')).to.include({ result: 'success' });
    expect(await create('b2')).to.include({ result: 'failure', code: 'quota_exceeded' }); // b1 still waits for its attach
    tick(1_000);
    expect(await create('b2')).to.include({ result: 'success' }); // b1 was never attached: freed
    expect(hub.node.workerAddresses().filter((a) => a.startsWith('forward_to_'))).to.deep.equal(['forward_to_b2']);
    expect(await ask([channel.address, local('relay')], { action: 'create', name: 42, request_id: 'r7' })).to.include({ result: 'failure', code: 'invalid_request', request_id: 'r7' });
  });
});
