// What a node writes is a standard WebSocket binary message carrying the frame of
// docs/protocol.md §3, in both directions (a dialling node masks, a listening one does
// not), whatever the payload's size; and the caller's payload is never touched.
import { expect } from 'chai';
import { unpack } from 'msgpackr';
import { echoWorker, Node, route, silentLogger } from '@tessera/core';
import { WebSocketTransport } from '@tessera/transport-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { frame, nextMessage, open } from './raw-client.js';

/** Payload sizes around ws's and MessagePack's length boundaries. */
const SIZES = [0, 1, 125, 126, 255, 256, 4096, 65_535, 65_536, 200_000];

function payloadOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

describe('frames on the wire', () => {
  it('a dialling node sends masked messages a bare ws server decodes to each payload, and leaves the payloads as they were', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'tessera.v1' });
    await new Promise((r) => server.once('listening', r));
    const received: Buffer[] = [];
    const all = new Promise<void>((resolve) => {
      server.on('connection', (socket: WebSocket) =>
        socket.on('message', (data: Buffer) => {
          received.push(data);
          if (received.length === SIZES.length) resolve();
        }),
      );
    });
    const node = new Node({ logger: silentLogger });
    new WebSocketTransport(node);
    const ctx = await node.startWorker('source', () => undefined);
    const { port } = server.address() as { port: number };
    const payloads = SIZES.map(payloadOf);
    for (const payload of payloads) ctx.send(route(`3#127.0.0.1:${port}`, 'sink'), payload);
    await all;
    for (let i = 0; i < SIZES.length; i++) {
      const [version, onward, , payload] = unpack(received[i]!) as [number, unknown, unknown, Uint8Array];
      expect(version).to.equal(1);
      expect(onward).to.deep.equal([[0, 'sink']]);
      expect(Buffer.from(payload).equals(payloadOf(SIZES[i]!)), `payload of ${SIZES[i]} B`).to.equal(true);
      expect(Buffer.from(payloads[i]!).equals(payloadOf(SIZES[i]!)), `sender's payload of ${SIZES[i]} B`).to.equal(true);
    }
    await node.stop();
    await new Promise((r) => server.close(r));
  });

  it('a listening node answers with messages a bare ws client decodes to each payload', async () => {
    const node = new Node({ logger: silentLogger });
    const transport = new WebSocketTransport(node);
    await node.startWorker('echo', echoWorker);
    const listener = await transport.listen();
    const ws = await open(listener.url);
    for (const size of SIZES) {
      const reply = nextMessage(ws);
      ws.send(frame([[0, 'echo']], [[0, 'me']], Buffer.from(payloadOf(size))));
      const [, onward, , payload] = unpack(await reply) as [number, unknown, unknown, Uint8Array];
      expect(onward).to.deep.equal([[0, 'me']]);
      expect(Buffer.from(payload).equals(payloadOf(size)), `payload of ${size} B`).to.equal(true);
    }
    ws.close();
    await node.stop();
  });
});
