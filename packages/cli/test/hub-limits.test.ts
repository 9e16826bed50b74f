import { expect } from 'chai';
import WebSocket from 'ws';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
import { freePort, type RedisServer } from '@tessera/testing';
import { killHubs, ownInflux, ownRedis, spawnHub } from './hub-helpers.js';

/** Opens a tessera.v1 WebSocket; resolves with the socket, or with the HTTP status of a refused upgrade. */
function dial(port: number, options: WebSocket.ClientOptions = {}): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'tessera.v1', options);
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

describe('tessera hub limits (child process)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let influx: InfluxdbLocal;
  const open: WebSocket[] = [];

  before(async function () {
    redis = await ownRedis(this);
    influx = await ownInflux();
  });
  afterEach(async () => {
    for (const ws of open.splice(0)) ws.terminate();
    await killHubs();
  });
  after(async () => {
    await influx?.close();
    await redis?.stop();
  });

  it('refuses the connection past --max-connections with HTTP 503, counts it, and /health still answers', async () => {
    const [port, metrics] = await Promise.all([freePort(), freePort()]);
    await spawnHub({
      listen: `127.0.0.1:${port}`,
      redisUrl: redis.url,
      influx,
      args: ['--max-connections', '2', '--metrics', `127.0.0.1:${metrics}`, '--log-level', 'warn'],
    });
    for (let i = 0; i < 2; i++) {
      const first = await dial(port);
      if (!('ws' in first)) throw new Error(`connection ${i + 1} of 2 was refused with ${first.status}`);
      open.push(first.ws);
    }
    expect(await dial(port)).to.deep.equal({ status: 503 });
    const health = await fetch(`http://127.0.0.1:${metrics}/health`);
    expect(health.status).to.equal(200);
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    expect(text).to.include('tessera_ws_peers_refused{reason="max_connections"} 1');
    expect(text).to.include('tessera_ws_connections{direction="incoming"} 2');
    // a slot freed is a slot for the next peer
    const closed = new Promise((resolve) => open[0]!.once('close', resolve));
    open.shift()!.close();
    await closed;
    let next: Awaited<ReturnType<typeof dial>> = { status: 0 };
    // the hub sees the close a moment after the client does: try until the slot is free (bounded by the test timeout)
    for (let attempt = 0; attempt < 200 && !('ws' in next); attempt++) next = await dial(port);
    expect(next).to.have.property('ws');
    if ('ws' in next) open.push(next.ws);
  });

  it('closes a connection that sends a message over --max-message-size with 1009', async () => {
    const port = await freePort();
    await spawnHub({ listen: `127.0.0.1:${port}`, redisUrl: redis.url, influx, args: ['--max-message-size', '4096', '--log-level', 'warn'] });
    const dialed = await dial(port);
    if (!('ws' in dialed)) throw new Error(`refused with ${dialed.status}`);
    const closed = new Promise<number>((resolve) => dialed.ws.once('close', (code) => resolve(code)));
    dialed.ws.send(Buffer.alloc(8_192));
    expect(await closed).to.equal(1009);
  });

  it('closes a connection that answers no pings after --liveness-timeout, and keeps one that does', async function () {
    // the default (30 s) would close it only after this test's time is up
    this.timeout(20_000);
    const port = await freePort();
    await spawnHub({ listen: `127.0.0.1:${port}`, redisUrl: redis.url, influx, args: ['--liveness-timeout', '1000', '--log-level', 'warn'] });
    const answering = await dial(port);
    const silent = await dial(port, { autoPong: false });
    if (!('ws' in answering) || !('ws' in silent)) throw new Error('a connection was refused');
    open.push(answering.ws, silent.ws);
    let answeringClosed = false;
    answering.ws.once('close', () => (answeringClosed = true));
    // the hub pings every third of the timeout; the silent peer never pongs and sends nothing, so it is closed
    await new Promise((resolve) => silent.ws.once('close', resolve));
    expect(answeringClosed, 'the peer that answers pings was closed too').to.equal(false);
    expect(answering.ws.readyState).to.equal(WebSocket.OPEN);
  });

  it('refuses a non-numeric --max-connections as a settings error naming it', async () => {
    const port = await freePort();
    const err = await spawnHub({ listen: `127.0.0.1:${port}`, redisUrl: redis.url, influx, args: ['--max-connections', 'lots'] }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/exited \(2\)/);
    expect(err?.message).to.include('--max-connections');
  });
});
