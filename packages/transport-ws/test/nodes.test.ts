import { expect } from 'chai';
import WebSocket from 'ws';
import { type Clock, ConnectionError, echoWorker, fromUtf8, Node, QueueFullError, route, silentLogger, TimeoutError } from '@tessera/core';
import { WebSocketTransport } from '@tessera/transport-ws';
import { freePort, waitUntil } from '@tessera/testing';
import { fakeClock, makeNode, nextStatus, type TestNode } from './helpers.js';

describe('nodes over WebSocket', () => {
  const started: TestNode[] = [];
  const start = (name: string, options = {}) => {
    const n = makeNode(name, options);
    started.push(n);
    return n;
  };
  /** A node whose requests time out on `clock` (its transport keeps real time). */
  const deviceOnClock = (clock: Clock) => {
    const node = new Node({ name: 'device', logger: silentLogger, clock });
    const n = { node, transport: new WebSocketTransport(node) };
    started.push(n);
    return n;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.node.stop({ timeout: 100 })));
  });

  it('answers a request from one node to another, and reuses the connection', async () => {
    const hub = start('hub');
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen({ port: 0 });
    const device = start('device');
    const target = route(`3#127.0.0.1:${listener.port}`, 'echo');
    const first = await device.node.request(target, 'one');
    const second = await device.node.request(target, 'two');
    expect(fromUtf8(first.payload)).to.equal('one');
    expect(fromUtf8(second.payload)).to.equal('two');
    expect(device.transport.connections().filter((c) => c.direction === 'outgoing')).to.have.length(1);
  });

  it('accepts a ws:// URL as the WS address value', async () => {
    const hub = start('hub');
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen();
    const device = start('device');
    const reply = await device.node.request(route(`3#${listener.url}`, 'echo'), 'url');
    expect(fromUtf8(reply.payload)).to.equal('url');
  });

  it('routes A → B → C and the reply back along the return route', async () => {
    const c = start('c');
    let seenByC: string[] = [];
    await c.node.startWorker('echo', (ctx, msg) => {
      seenByC = msg.return.map((a) => `${a.type}#${a.value}`);
      ctx.reply(msg, msg.payload);
    });
    const lc = await c.transport.listen();
    const b = start('b');
    const lb = await b.transport.listen();
    const a = start('a');
    const reply = await a.node.request(route(`3#127.0.0.1:${lb.port}`, `3#127.0.0.1:${lc.port}`, 'echo'), 'multi-hop');
    expect(fromUtf8(reply.payload)).to.equal('multi-hop');
    // C saw: its connection to B, B's connection to A, A's request address
    expect(seenByC).to.have.length(3);
    expect(seenByC[0]).to.match(/^0#ws\.\d+\.[0-9a-f]{12}$/);
    expect(seenByC[1]).to.match(/^0#ws\.\d+\.[0-9a-f]{12}$/);
    expect(seenByC[2]).to.match(/^0#_request\.[0-9a-f]{16}$/);
  });

  it('reconnects after the listener restarts, delivering what was queued meanwhile', async () => {
    const hub1 = start('hub1');
    await hub1.node.startWorker('echo', echoWorker);
    const listener = await hub1.transport.listen();
    const device = start('device', { reconnect: { initialDelay: 20, maxDelay: 100 } });
    const target = route(`3#127.0.0.1:${listener.port}`, 'echo');
    expect(fromUtf8((await device.node.request(target, 'before')).payload)).to.equal('before');

    const reconnecting = nextStatus(device.transport, 'reconnecting');
    await hub1.node.stop({ timeout: 100 });
    await reconnecting;
    const pending = device.node.request(target, 'during', { timeout: 10_000 });

    const connected = nextStatus(device.transport, 'connected');
    const hub2 = start('hub2');
    await hub2.node.startWorker('echo', echoWorker);
    await hub2.transport.listen({ port: listener.port });
    await connected;
    expect(fromUtf8((await pending).payload)).to.equal('during');
  });

  it('closes a connection whose peer stops answering pings (fake clock)', async () => {
    const { clock, tick } = fakeClock();
    const hub = start('hub', { livenessTimeout: 200, pingInterval: 50, clock });
    const listener = await hub.transport.listen();
    const connected = nextStatus(hub.transport, 'connected');
    const mute = new WebSocket(listener.url, 'tessera.v1', { autoPong: false });
    const closed = new Promise<number>((resolve) => mute.on('close', (code) => resolve(code)));
    await connected;
    const disconnected = nextStatus(hub.transport, 'disconnected');
    tick(200);
    expect(hub.transport.connections()).to.have.length(1);
    tick(50);
    await closed;
    expect((await disconnected).type).to.equal('disconnected');
    expect(hub.transport.connections()).to.have.length(0);
  });

  it('keeps a connection whose peer answers pings, however long it is quiet (fake clock)', async () => {
    const { clock, tick, now } = fakeClock();
    const hub = start('hub', { livenessTimeout: 150, pingInterval: 50, clock });
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen();
    const device = start('device');
    const target = route(`3#127.0.0.1:${listener.port}`, 'echo');
    await device.node.request(target, 'hi');
    let disconnected = 0;
    device.transport.on('status', (st) => st.type === 'disconnected' && disconnected++);
    hub.transport.on('status', (st) => st.type === 'disconnected' && disconnected++);
    const before = device.transport.connections().map((c) => c.name);
    // twenty ping rounds, ten liveness timeouts: each round waits for the device's pong to reach the hub
    for (let round = 0; round < 20; round++) {
      tick(50);
      await waitUntil('the pong to arrive', () => hub.transport.connections()[0]?.lastSeen === now());
    }
    expect(fromUtf8((await device.node.request(target, 'still')).payload)).to.equal('still');
    expect(disconnected).to.equal(0);
    expect(device.transport.connections().map((c) => c.name)).to.deep.equal(before);
  });

  it('queues for a peer that went away up to a bound, then fails requests with QueueFullError', async () => {
    const hub = start('hub');
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen();
    const device = start('device', { maxQueued: 3, reconnect: { initialDelay: 10_000 } });
    const target = route(`3#127.0.0.1:${listener.port}`, 'echo');
    await device.node.request(target, 'hello');
    const reconnecting = nextStatus(device.transport, 'reconnecting');
    await hub.node.stop({ timeout: 100 });
    await reconnecting;
    const waiting = [0, 1, 2].map(() => device.node.request(target, 'x', { timeout: 60_000 }).catch((e: unknown) => e));
    const overflow = await device.node.request(target, 'x', { timeout: 60_000 }).catch((e: unknown) => e);
    expect(overflow).to.be.instanceOf(QueueFullError);
    expect(device.node.stats().dropped['queue_full']).to.equal(1);
    await device.node.stop({ timeout: 10 });
    for (const w of await Promise.all(waiting)) expect((w as Error).name).to.equal('ClosedError');
  });

  it('fails requests at once with ConnectionError when a peer was never reached, and dials again on the next send', async () => {
    const device = start('device', { reconnect: { initialDelay: 10_000 } });
    const port = await freePort();
    const target = route(`3#127.0.0.1:${port}`, 'echo');
    const err = await device.node.request(target, 'x', { timeout: 60_000 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConnectionError);
    expect((err as Error).message).to.match(/could not connect to ws:\/\/127\.0\.0\.1:\d+/);
    expect(device.transport.connections()).to.have.length(0);
    const hub = start('hub');
    await hub.node.startWorker('echo', echoWorker);
    await hub.transport.listen({ port });
    expect(fromUtf8((await device.node.request(target, 'now')).payload)).to.equal('now');
  });

  it('reports statuses through an async iterator', async () => {
    const hub = start('hub');
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen();
    const device = start('device', { reconnect: { maxAttempts: 1, initialDelay: 10 } });
    const seen: string[] = [];
    const watching = (async () => {
      for await (const s of device.transport.status()) seen.push(s.type);
    })();
    await device.node.request(route(`3#127.0.0.1:${listener.port}`, 'echo'), 'x');
    await hub.node.stop({ timeout: 100 });
    await nextStatus(device.transport, 'closed');
    await device.node.stop();
    await watching;
    expect(seen).to.deep.equal(['connected', 'disconnected', 'reconnecting', 'closed']);
  });

  it('times out a request to a node without that worker (dropped remotely, never a crash)', async () => {
    const hub = start('hub');
    const listener = await hub.transport.listen();
    const { clock, tick } = fakeClock();
    const device = deviceOnClock(clock);
    const pending = device.node.request(route(`3#127.0.0.1:${listener.port}`, 'nobody'), 'x', { timeout: 300 }).catch((e: unknown) => e);
    await waitUntil('the hub to drop the request', () => hub.node.stats().dropped['unknown_address'] === 1);
    tick(300);
    expect(await pending).to.be.instanceOf(TimeoutError);
  });

  it('gives every connection a name never used before, so a lease owner cannot be reused', async () => {
    const hub = start('hub');
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen();
    const names = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const device = start(`device-${i}`);
      await device.node.request(route(`3#127.0.0.1:${listener.port}`, 'echo'), 'x');
      for (const c of hub.transport.connections()) names.add(c.name);
      await device.node.stop();
    }
    expect(names.size).to.equal(3);
    const again = makeNode('hub-again');
    const l2 = await again.transport.listen();
    const d = start('device-again');
    await again.node.startWorker('echo', echoWorker);
    await d.node.request(route(`3#127.0.0.1:${l2.port}`, 'echo'), 'x');
    expect(names.has(again.transport.connections()[0]!.name)).to.equal(false);
    await again.node.stop();
  });

  it('with forwarding off, refuses to send a peer\'s message on to another WS address (counted), and dials nothing', async () => {
    const c = start('c');
    await c.node.startWorker('echo', echoWorker);
    const lc = await c.transport.listen();
    const b = start('b', { forwarding: false });
    const lb = await b.transport.listen();
    const { clock, tick } = fakeClock();
    const a = deviceOnClock(clock);
    const pending = a.node.request(route(`3#127.0.0.1:${lb.port}`, `3#127.0.0.1:${lc.port}`, 'echo'), 'x', { timeout: 300 }).catch((e: unknown) => e);
    await waitUntil('b to refuse the hop', () => b.node.stats().dropped['forwarding_refused'] === 1);
    tick(300);
    expect(await pending).to.be.instanceOf(TimeoutError);
    expect(b.transport.connections().filter((x) => x.direction === 'outgoing')).to.have.length(0);
  });

  it('stopping while a connection is still being dialled leaves nothing connected', async () => {
    const hub = start('hub');
    await hub.node.startWorker('echo', echoWorker);
    const listener = await hub.transport.listen();
    const device = makeNode('device');
    const seen: string[] = [];
    device.transport.on('status', (st) => seen.push(st.type));
    device.node.send(route(`3#127.0.0.1:${listener.port}`, 'echo'), 'x');
    await device.node.stop();
    // whatever the dial was doing, it ends closed and the hub ends with no connection
    await waitUntil('the hub to hold no connection', () => hub.transport.connections().length === 0);
    expect(seen.at(-1)).to.equal('closed');
    expect(seen.filter((t) => t === 'connected').length).to.be.at.most(1);
  });
});
