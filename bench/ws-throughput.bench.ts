// One-way messages/s over one WebSocket connection, node to node, vs raw `ws`
// sending the same payload bytes between two endpoints in this process, both paced by
// the same window of messages in flight. Tessera runs with its default limits (send
// queue 10,000 messages / 16 MiB behind a 4 MiB socket buffer, mailbox 10,000), so the
// window is one those limits hold: a message they dropped would stall the run, which
// then fails rather than report.
import { Node, route, silentLogger } from '@tessera/core';
import { WebSocketTransport } from '@tessera/transport-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { Counter, paced } from './paced.js';
import { median, REPEATS, report } from './report.js';

async function rawWs(size: number, total: number, window: number): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const counter = new Counter();
  server.on('connection', (socket) => socket.on('message', () => counter.hit()));
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((r) => client.once('open', r));
  const payload = Buffer.alloc(size, 7);
  const rate = await paced(total, window, counter, () => client.send(payload, { binary: true }));
  client.close();
  await new Promise((r) => server.close(r));
  return rate;
}

async function tessera(size: number, total: number, window: number): Promise<number> {
  const receiver = new Node({ logger: silentLogger });
  const rt = new WebSocketTransport(receiver);
  const counter = new Counter();
  await receiver.startWorker('sink', () => counter.hit());
  const listener = await rt.listen();
  const sender = new Node({ logger: silentLogger });
  new WebSocketTransport(sender);
  const ctx = await sender.startWorker('source', () => undefined);
  const to = route(`3#127.0.0.1:${listener.port}`, 'sink');
  const payload = new Uint8Array(size).fill(7);
  ctx.send(to, payload); // open the connection
  await counter.reach(1);
  const rate = await paced(total, window, counter, () => ctx.send(to, payload));
  await sender.stop();
  await receiver.stop();
  return rate;
}

// The window: all of it fits the default mailbox (10,000) at 64 B, and the default send
// queue (16 MiB) plus socket buffer (4 MiB) at 4 KiB.
for (const [size, total, window, target] of [
  [64, 300_000, 10_000, 0.8],
  [4096, 100_000, 4_000, 0.9],
] as const) {
  const raw: number[] = [];
  const ours: number[] = [];
  for (let run = 0; run < REPEATS; run++) {
    raw.push(await rawWs(size, total, window));
    ours.push(await tessera(size, total, window));
    globalThis.gc?.();
  }
  report({
    name: `ws-throughput one-way ${size} B, ${window.toLocaleString('en')} in flight, default limits`,
    value: median(ours),
    unit: 'msg/s',
    baseline: `raw ws sending the same payload bytes, same window of ${window.toLocaleString('en')} in flight, same process`,
    baselineValue: median(raw),
    repeats: REPEATS,
    target: { of: 'ratio', atLeast: target },
  });
}
