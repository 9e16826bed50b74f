import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { unpack } from 'msgpackr';
import type WebSocket from 'ws';
import { echoWorker, local } from '@tessera/core';
import { SOCKET_HEADROOM } from '@tessera/transport-ws';
import { waitUntil } from '@tessera/testing';
import { fakeClock, makeNode, nextStatus, type TestNode } from './helpers.js';
import { closeCode, frame, nextMessage, open, upgradeStatus } from './raw-client.js';

function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  socket.on('error', () => undefined);
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

const text = (bytes: Buffer) => Buffer.from((unpack(bytes) as unknown[])[3] as Uint8Array).toString();

describe('limits on peers', () => {
  const started: TestNode[] = [];
  const start = (name: string, options = {}) => {
    const n = makeNode(name, options);
    started.push(n);
    return n;
  };
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(started.splice(0).map((n) => n.node.stop({ timeout: 100 })));
  });

  describe('maxConnections', () => {
    it('refuses an upgrade beyond it with HTTP 503, counting upgrades still in progress, and takes one again when a connection closes', async () => {
      const hub = start('hub');
      await hub.node.startWorker('echo', echoWorker);
      let admit!: (yes: boolean) => void;
      const gate = new Promise<boolean>((resolve) => (admit = resolve));
      const listener = await hub.transport.listen({ maxConnections: 2, authenticate: () => gate });
      // two upgrades wait in the authenticate hook: not connections yet, but they count
      const first = open(listener.url);
      const second = open(listener.url);
      await waitUntil('two upgrades in progress', () => listener.stats().connections === 2);
      expect(await upgradeStatus(listener.url)).to.equal(503);
      admit(true);
      const [a] = await Promise.all([first, second]);
      expect(await upgradeStatus(listener.url)).to.equal(503);
      expect(listener.stats()).to.include({ connections: 2, refusedUpgrades: 2 });
      expect(hub.transport.stats()).to.include({ incoming: 2, refusedUpgrades: 2 });
      a!.close();
      await waitUntil('the closed connection to be let go', () => listener.stats().connections === 1);
      const third = await open(listener.url);
      third.send(frame([[0, 'echo']], [[0, 'me']], 'in'));
      expect(text(await nextMessage(third))).to.equal('in');
      third.close();
      (await second).close();
    });

    it(`caps raw TCP sockets at maxConnections + ${SOCKET_HEADROOM}: one more is closed at once`, async () => {
      const hub = start('hub');
      const listener = await hub.transport.listen({ maxConnections: 1 });
      const cap = 1 + SOCKET_HEADROOM;
      for (let i = 0; i < cap; i++) sockets.push(await tcp(listener.port));
      await waitUntil('the listener to hold every socket', () => listener.stats().sockets === cap);
      const extra = await tcp(listener.port);
      sockets.push(extra);
      await closed(extra);
      await waitUntil('the refusal to be counted', () => listener.stats().refusedSockets === 1);
      expect(listener.stats().sockets).to.equal(cap);
    });
  });

  describe('handshakeTimeout', () => {
    it('destroys a TCP connection that sends nothing, and one that sends its headers a byte at a time', async () => {
      const hub = start('hub');
      const listener = await hub.transport.listen({ handshakeTimeout: 100 });
      const silent = await tcp(listener.port);
      const slowloris = await tcp(listener.port);
      sockets.push(silent, slowloris);
      const request = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
      let at = 0;
      const drip = setInterval(() => at < request.length && slowloris.write(request.subarray(at, ++at)), 5);
      try {
        await Promise.all([closed(silent), closed(slowloris)]);
      } finally {
        clearInterval(drip);
      }
      expect(listener.stats().handshakeTimeouts).to.equal(2);
      expect(hub.transport.stats().handshakeTimeouts).to.equal(2);
    });

    it('leaves a connection alone once its upgrade is done (fake clock)', async () => {
      const { clock, tick } = fakeClock();
      const hub = start('hub', { clock });
      await hub.node.startWorker('echo', echoWorker);
      const listener = await hub.transport.listen({ handshakeTimeout: 1_000 });
      const ws = await open(listener.url);
      const silent = await tcp(listener.port);
      sockets.push(silent);
      await waitUntil('the listener to see both sockets', () => listener.stats().sockets === 2);
      tick(1_000);
      await closed(silent);
      ws.send(frame([[0, 'echo']], [[0, 'me']], 'still here'));
      expect(text(await nextMessage(ws))).to.equal('still here');
      expect(listener.stats().handshakeTimeouts).to.equal(1);
      ws.close();
    });
  });

  describe('maxRouteLength', () => {
    it('refuses a frame whose onward or return route is longer (counted as invalid, toward the 1002 limit)', async () => {
      const hub = start('hub', { maxRouteLength: 4, badFrameLimit: 3 });
      await hub.node.startWorker('echo', echoWorker);
      const listener = await hub.transport.listen();
      const ws = await open(listener.url);
      const me: [number, string] = [0, 'me'];
      ws.send(frame([[0, 'echo'], ...Array<[number, string]>(4).fill([0, 'x'])], [me], 'long onward'));
      ws.send(frame([[0, 'echo']], Array<[number, string]>(5).fill(me), 'long return'));
      ws.send(frame([[0, 'echo']], Array<[number, string]>(4).fill(me), 'four is fine'));
      expect(text(await nextMessage(ws))).to.equal('four is fine');
      expect(hub.node.stats().dropped['invalid_frame']).to.equal(2);
      const code = closeCode(ws);
      ws.send(frame([[0, 'echo']], Array<[number, string]>(5).fill(me), 'third strike'));
      expect(await code).to.equal(1002);
    });

    it('is 32 by default', async () => {
      const hub = start('hub');
      await hub.node.startWorker('echo', echoWorker);
      const ws = await open((await hub.transport.listen()).url);
      ws.send(frame([[0, 'echo']], Array<[number, string]>(33).fill([0, 'me']), '33'));
      ws.send(frame([[0, 'echo']], Array<[number, string]>(32).fill([0, 'me']), '32'));
      expect(text(await nextMessage(ws))).to.equal('32');
      expect(hub.node.stats().dropped['invalid_frame']).to.equal(1);
      ws.close();
    });
  });

  describe('slowPeerTimeout', () => {
    /** A raw peer that stops reading its socket, and the hub's connection to it. */
    async function pausedPeer(hub: TestNode, url: string): Promise<{ ws: WebSocket; raw: Socket; name: string }> {
      const ws = await open(url);
      await waitUntil('the hub to hold the connection', () => hub.transport.connections().length === 1);
      const raw = (ws as unknown as { _socket: Socket })._socket;
      raw.pause();
      return { ws, raw, name: hub.transport.connections()[0]!.name };
    }

    /** Writes to the connection until the socket is past its high-water mark and messages wait (or it is gone). */
    async function fill(hub: TestNode, name: string): Promise<void> {
      const big = new Uint8Array(256 * 1024);
      for (;;) {
        const connection = hub.transport.connections()[0];
        if (connection === undefined || connection.queued > 0) return;
        hub.node.send([local(name), local('sink')], big);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }

    it('terminates a peer that leaves the buffer at the high-water mark for longer, and counts it', async () => {
      const hub = start('hub', { highWaterMark: 64 * 1024, slowPeerTimeout: 100 });
      const listener = await hub.transport.listen();
      const { name } = await pausedPeer(hub, listener.url);
      const gone = nextStatus(hub.transport, 'closed');
      await fill(hub, name);
      await gone;
      expect(hub.transport.stats().slowPeers).to.equal(1);
      expect(hub.transport.connections()).to.have.length(0);
    });

    it('keeps a peer that reads again within the timeout (fake clock)', async () => {
      const { clock, tick } = fakeClock();
      const hub = start('hub', { highWaterMark: 64 * 1024, slowPeerTimeout: 1_000, clock });
      const listener = await hub.transport.listen();
      const { raw, name } = await pausedPeer(hub, listener.url);
      await fill(hub, name);
      raw.resume();
      await waitUntil('everything to be written out', () => {
        const c = hub.transport.connections()[0]!;
        return c.queued === 0 && c.buffered === 0;
      });
      tick(1_000);
      expect(hub.transport.stats().slowPeers).to.equal(0);
      // the same peer stops reading again, and this time the timeout runs out
      raw.pause();
      const gone = nextStatus(hub.transport, 'closed');
      await fill(hub, name);
      tick(999);
      expect(hub.transport.stats().slowPeers).to.equal(0);
      tick(1);
      await gone;
      expect(hub.transport.stats().slowPeers).to.equal(1);
    });
  });
});
