// The /health and /metrics endpoint is a listener like the WebSocket one: a client that
// connects and sends nothing, or too many of them, must not hold the hub's descriptors.
import { expect } from 'chai';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { startMetricsServer } from '../src/hub/metrics.js';

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

describe('the metrics server (/health, /metrics)', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('closes a connection that sends nothing after its idle timeout, and still answers /health', async () => {
    server = await startMetricsServer('127.0.0.1', 0, new Registry(), () => ({}), { idleTimeout: 50 });
    const port = (server.address() as AddressInfo).port;
    const silent = await tcp(port);
    sockets.push(silent);
    await closed(silent);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await health.json()).to.deep.equal({ status: 'ok' });
  });

  it('holds at most maxConnections sockets: one more is closed at once', async () => {
    server = await startMetricsServer('127.0.0.1', 0, new Registry(), () => ({}), { maxConnections: 3 });
    const port = (server.address() as AddressInfo).port;
    for (let i = 0; i < 3; i++) sockets.push(await tcp(port));
    const extra = await tcp(port);
    sockets.push(extra);
    await closed(extra);
    expect(sockets.slice(0, 3).every((s) => !s.destroyed)).to.equal(true);
  });
});
