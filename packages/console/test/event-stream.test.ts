// The console's server-sent events (src/http/event-stream.ts) to a real HTTP
// client over loopback: what a page that stops reading costs the console.
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { waitUntil } from '@tessera/testing';
import { EventStreams } from '../src/http/event-stream.js';

/** Resolves true once the socket's connection is closed, reading what is left. */
function closed(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    socket.on('close', () => resolve(true));
    socket.resume();
  });
}

describe('the console’s event streams', () => {
  let server: Server;
  let streams: EventStreams;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    streams = new EventStreams();
    server = createServer((_req, res) => void streams.add(res, {}, { event: 'view', data: {} }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    streams.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('cuts a page that stops reading once its backlog passes the bound, and keeps one that reads', async () => {
    const port = (server.address() as AddressInfo).port;
    const open = (): Socket => {
      const socket = connect(port, '127.0.0.1');
      socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      sockets.push(socket);
      return socket;
    };
    const stalled = open();
    stalled.pause();
    const reading = open();
    let read = 0;
    reading.on('data', (chunk: Buffer) => (read += chunk.length));
    await waitUntil('both streams open', () => streams.size === 2);

    // far more than any socket buffer holds: what the stalled page does not read piles up in the console
    const event = { text: 'x'.repeat(64 * 1024) };
    const events = Math.ceil((64 * 1024 * 1024) / event.text.length);
    for (let i = 0; i < events; i++) {
      streams.send('event', event);
      // let the reading page read, so only the stalled one falls behind
      if (i % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitUntil('the stalled page cut off', () => streams.size === 1);
    await waitUntil('the reading page to have read it all', () => read >= events * event.text.length);
    expect(streams.size, 'the page that reads is still streamed to').to.equal(1);
    expect(stalled.destroyed || stalled.readableEnded || (await closed(stalled)), 'the stalled page’s connection closed').to.equal(true);
  });
});
