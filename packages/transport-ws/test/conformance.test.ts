// Talks to a node with nothing but `ws` and `msgpackr`, byte for byte as
// docs/protocol.md says: no project code on the client side.
import { expect } from 'chai';
import { Packr, unpack } from 'msgpackr';
import { echoWorker, Node, silentLogger } from '@tessera/core';
import { WebSocketTransport, type WsListener } from '@tessera/transport-ws';
import { closeCode, frame, nextMessage, open, upgradeStatus } from './raw-client.js';

const packr = new Packr({ useRecords: false });

describe('conformance: a bare ws + msgpackr client', () => {
  let node: Node;
  let listener: WsListener;

  before(async () => {
    node = new Node({ logger: silentLogger });
    const transport = new WebSocketTransport(node, { maxMessageSize: 64 * 1024, badFrameLimit: 4 });
    await node.startWorker('echo', echoWorker);
    listener = await transport.listen();
  });
  after(() => node.stop({ timeout: 100 }));

  /** The node still answers a fresh, well-behaved connection. */
  async function stillServes(): Promise<void> {
    const ws = await open(listener.url);
    ws.send(frame([[0, 'echo']], [[0, 'me']], Buffer.from('ping')));
    const reply = unpack(await nextMessage(ws)) as unknown[];
    expect(Buffer.from(reply[3] as Uint8Array).toString()).to.equal('ping');
    ws.close();
  }

  it('echoes: the reply is [1, return-of-request, [[0, "echo"]], payload] in one binary message', async () => {
    const ws = await open(listener.url);
    expect(ws.protocol).to.equal('tessera.v1');
    const replyBytes = nextMessage(ws);
    ws.send(frame([[0, 'echo']], [[0, 'app'], [7, 'x']], Buffer.from('hello')));
    const bytes = await replyBytes;
    expect(bytes[0]).to.equal(0x94);
    expect(bytes[1]).to.equal(0x01);
    const [version, onward, back, payload] = unpack(bytes) as [number, unknown, unknown, Uint8Array];
    expect(version).to.equal(1);
    expect(onward).to.deep.equal([[0, 'app'], [7, 'x']]);
    expect(back).to.deep.equal([[0, 'echo']]);
    expect(Buffer.from(payload).toString()).to.equal('hello');
    ws.close();
  });

  it('consumes a heartbeat (empty onward) without answering, and serves on', async () => {
    const ws = await open(listener.url);
    const dropsBefore = node.stats().dropped['empty_onward'] ?? 0;
    ws.send(frame([], [[0, 'me']], Buffer.alloc(0)));
    ws.send(frame([[0, 'echo']], [[0, 'me']], Buffer.from('after')));
    const reply = unpack(await nextMessage(ws)) as unknown[];
    expect(Buffer.from(reply[3] as Uint8Array).toString()).to.equal('after');
    // consumed by the transport: it never reached the router, not even as a drop
    expect(node.stats().dropped['empty_onward'] ?? 0).to.equal(dropsBefore);
    ws.close();
  });

  it('closes with 1003 on a text message', async () => {
    const ws = await open(listener.url);
    const code = closeCode(ws);
    ws.send('{"action":"list"}');
    expect(await code).to.equal(1003);
    await stillServes();
  });

  it('closes with 1009 on a message over the maximum size', async () => {
    const ws = await open(listener.url);
    const code = closeCode(ws);
    ws.send(frame([[0, 'echo']], [], Buffer.alloc(65 * 1024)));
    expect(await code).to.equal(1009);
    await stillServes();
  });

  it('drops a payload sent as a msgpackr extension (typed array) instead of bin: standard MessagePack only', async () => {
    const ws = await open(listener.url);
    const before = node.stats().dropped['invalid_frame'] ?? 0;
    // [1, [[0,"echo"]], [[0,"me"]], ext 8 type 0x74 (msgpackr typed array) of 4 bytes]
    const head = packr.pack([1, [[0, 'echo']], [[0, 'me']], Buffer.alloc(0)]);
    const withoutBin = head.subarray(0, head.length - 2);
    withoutBin[0] = 0x94;
    ws.send(Buffer.concat([withoutBin, Buffer.from([0xc7, 0x04, 0x74, 1, 2, 3, 4])]));
    ws.send(frame([[0, 'echo']], [[0, 'me']], Buffer.from('ok')));
    const reply = unpack(await nextMessage(ws)) as unknown[];
    expect(Buffer.from(reply[3] as Uint8Array).toString()).to.equal('ok');
    expect((node.stats().dropped['invalid_frame'] ?? 0) - before).to.equal(1);
    ws.close();
  });

  it('drops garbage, wrong versions and wrong shapes, counting them, and closes with 1002 after the limit', async () => {
    const before = node.stats().dropped['invalid_frame'] ?? 0;
    const ws = await open(listener.url);
    const code = closeCode(ws);
    ws.send(Buffer.from([0xc1, 0xff, 0x00]));
    ws.send(packr.pack([2, [[0, 'echo']], [], Buffer.from('v2')]));
    ws.send(packr.pack({ onward: [[0, 'echo']] }));
    ws.send(packr.pack([1, [[0, 'echo']], [], 'a string payload']));
    expect(await code).to.equal(1002);
    expect((node.stats().dropped['invalid_frame'] ?? 0) - before).to.equal(4);
    await stillServes();
  });

  it('refuses an upgrade offering another subprotocol with HTTP 400', async () => {
    const status = await upgradeStatus(listener.url, 'mqtt');
    expect(status).to.equal(400);
    await stillServes();
  });

  it('refuses an upgrade offering no subprotocol with HTTP 400', async () => {
    const status = await upgradeStatus(listener.url, []);
    expect(status).to.equal(400);
    await stillServes();
  });

  it('drops a message for an unknown worker without answering, and serves on', async () => {
    const ws = await open(listener.url);
    const before = node.stats().dropped['unknown_address'] ?? 0;
    ws.send(frame([[0, 'nobody']], [[0, 'me']], Buffer.from('x')));
    ws.send(frame([[0, 'echo']], [[0, 'me']], Buffer.from('y')));
    const reply = unpack(await nextMessage(ws)) as unknown[];
    expect(Buffer.from(reply[3] as Uint8Array).toString()).to.equal('y');
    expect((node.stats().dropped['unknown_address'] ?? 0) - before).to.equal(1);
    ws.close();
  });
});

describe('conformance: hostile routes', () => {
  it('drops a message routed to a malformed WS address, counting it, and serves on', async () => {
    const node = new Node({ logger: silentLogger });
    const transport = new WebSocketTransport(node);
    await node.startWorker('echo', echoWorker);
    const listener = await transport.listen();
    const ws = await open(listener.url);
    for (const bad of ['not a url', 'ws://', '::::', 'ws://[zz]:1', '']) {
      ws.send(frame([[3, bad], [0, 'echo']], [[0, 'me']], Buffer.from('x')));
    }
    ws.send(frame([[0, 'echo']], [[0, 'me']], Buffer.from('still here')));
    const reply = unpack(await nextMessage(ws)) as unknown[];
    expect(Buffer.from(reply[3] as Uint8Array).toString()).to.equal('still here');
    expect(node.stats().dropped['invalid_address']).to.equal(5);
    ws.close();
    await node.stop({ timeout: 100 });
  });
});
