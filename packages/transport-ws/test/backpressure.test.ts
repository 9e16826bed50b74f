import { expect } from 'chai';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { QueueFullError, route } from '@tessera/core';
import { waitUntil } from '@tessera/testing';
import { makeNode } from './helpers.js';

describe('back-pressure', () => {
  it('holds messages when the socket backs up, up to maxQueued, then fails with QueueFullError; drains when the peer reads again', async () => {
    // a peer that accepts tessera.v1 and then stops reading its socket
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'tessera.v1' });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    let peerSocket: Socket | undefined;
    let received = 0;
    const connected = new Promise<WebSocket>((resolve) =>
      server.on('connection', (ws) => {
        peerSocket = (ws as unknown as { _socket: Socket })._socket;
        peerSocket.pause();
        ws.on('message', () => received++);
        resolve(ws);
      }),
    );
    const sender = makeNode('sender', { highWaterMark: 64 * 1024, maxQueued: 8, maxMessageSize: 1 << 20 });
    const to = route(`3#127.0.0.1:${port}`, 'sink');
    const big = new Uint8Array(256 * 1024);
    sender.node.send(to, big);
    await connected;
    // keep sending until the bounded queue overflows: the socket cannot take more, so nothing grows without bound
    let overflow: unknown;
    for (let i = 0; i < 10_000 && overflow === undefined; i++) {
      const r = sender.node.request(to, big, { timeout: 60_000 }).catch((e: unknown) => e);
      const settled = await Promise.race([r, new Promise((res) => setImmediate(() => res('pending')))]);
      if (settled instanceof QueueFullError) overflow = settled;
      await new Promise((res) => setImmediate(res));
    }
    expect(overflow).to.be.instanceOf(QueueFullError);
    const { name, queued } = sender.transport.connections()[0]!;
    expect(queued).to.equal(8);
    expect(sender.transport.queuedFor(name), 'queuedFor finds the connection by its LOCAL name').to.equal(8);
    expect(sender.transport.queuedFor('ws.0.nobody')).to.equal(0);
    // the peer reads again: the queue drains by itself
    peerSocket!.resume();
    await waitUntil('the queue to drain', () => sender.transport.queuedFor(name) === 0);
    expect(received).to.be.greaterThan(8);
    await sender.node.stop({ timeout: 100 });
    server.close();
  });
});
