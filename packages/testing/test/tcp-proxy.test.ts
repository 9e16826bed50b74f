// startTcpProxy's hold(): what a client sends waits in the proxy until release(),
// and a connection that closes while it holds something never reaches the server.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { startTcpProxy, type TcpProxy, waitUntil } from '../src/index.js';

/** A server that echoes what it gets and remembers all of it, over every connection. */
async function echoServer(): Promise<{ server: Server; port: number; received: () => string }> {
  let received = '';
  const server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      socket.write(chunk);
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, received: () => received };
}

/** A client connection to the proxy and what came back on it. */
async function client(proxy: TcpProxy): Promise<{ socket: Socket; echoed: () => string }> {
  const socket = connect(proxy.port, '127.0.0.1');
  let echoed = '';
  socket.on('data', (chunk: Buffer) => (echoed += chunk.toString('utf8')));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return { socket, echoed: () => echoed };
}

const heldText = (proxy: TcpProxy): string[] => proxy.held().map((b) => b.toString('utf8'));

describe('startTcpProxy hold() and release()', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: TcpProxy;
  beforeEach(async () => {
    echo = await echoServer();
    proxy = await startTcpProxy(echo.port);
  });
  afterEach(async () => {
    proxy.close();
    await new Promise((resolve) => echo.server.close(resolve));
  });

  it('holds what clients send until release(), then forwards it in order', async () => {
    const a = await client(proxy);
    a.socket.write('before');
    await waitUntil('the first write to come back', () => a.echoed() === 'before');
    proxy.hold();
    a.socket.write('one,');
    a.socket.write('two');
    await waitUntil('the proxy to hold both writes', () => heldText(proxy).join('') === 'one,two');
    expect(echo.received()).to.equal('before');
    expect(proxy.saw('one,')).to.equal(false);
    proxy.release();
    await waitUntil('the held writes to come back', () => a.echoed() === 'beforeone,two');
    expect(echo.received()).to.equal('beforeone,two');
    expect(proxy.held()).to.deep.equal([]);
    expect(proxy.saw('one,two')).to.equal(true);
    a.socket.destroy();
  });

  it('with `from`, holds a connection from the first chunk that contains it; the others pass', async () => {
    proxy.hold('DELETE ');
    const [a, b] = [await client(proxy), await client(proxy)];
    a.socket.write('GET /a');
    await waitUntil('a request without the text to pass', () => a.echoed() === 'GET /a');
    a.socket.write('DELETE /a');
    await waitUntil('the request with it to be held', () => heldText(proxy).join('') === 'DELETE /a');
    a.socket.write(' and after');
    b.socket.write('POST /b');
    await waitUntil('the other connection to pass', () => b.echoed() === 'POST /b');
    await waitUntil('what follows on the held connection to be held too', () => heldText(proxy).join('') === 'DELETE /a and after');
    expect(echo.received()).to.equal('GET /aPOST /b');
    proxy.release();
    await waitUntil('the held request to come back', () => a.echoed() === 'GET /aDELETE /a and after');
    a.socket.destroy();
    b.socket.destroy();
  });

  it('a connection that closes while it holds drops what it held: the server never sees it', async () => {
    proxy.hold();
    const a = await client(proxy);
    a.socket.write('never');
    await waitUntil('the write to be held', () => heldText(proxy).join('') === 'never');
    a.socket.destroy();
    await waitUntil('the closed connection to hold nothing', () => proxy.held().length === 0);
    proxy.release();
    const b = await client(proxy);
    b.socket.write('after');
    await waitUntil('a new connection to pass', () => b.echoed() === 'after');
    expect(echo.received()).to.equal('after');
    expect(proxy.saw('never')).to.equal(false);
    b.socket.destroy();
  });
});
