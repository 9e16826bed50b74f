// One-way messages/s over one WebSocket connection, node to node, vs raw `ws`
// sending the same payload bytes between two endpoints in this process.
import { Node, route, silentLogger } from '@tessera/core';
import { WebSocketTransport } from '@tessera/transport-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { median, report } from './report.js';

const RUNS = 5;
const WINDOW = 20_000;

/** Counts arrivals; `reach(n)` resolves once n have arrived. */
class Counter {
  count = 0;
  private target = Infinity;
  private wake: (() => void) | undefined;
  hit(): void {
    if (++this.count >= this.target && this.wake !== undefined) {
      const w = this.wake;
      this.wake = undefined;
      this.target = Infinity;
      w();
    }
  }
  reach(n: number): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    this.target = n;
    return new Promise((r) => (this.wake = r));
  }
}

/** Sends `total` messages keeping at most WINDOW unacknowledged; returns messages/s. */
async function paced(total: number, counter: Counter, sendOne: () => void): Promise<number> {
  const start = counter.count;
  const t0 = performance.now();
  for (let sent = 0; sent < total; ) {
    const burst = Math.min(WINDOW / 2, total - sent);
    for (let i = 0; i < burst; i++) sendOne();
    sent += burst;
    await counter.reach(start + sent - WINDOW / 2);
  }
  await counter.reach(start + total);
  return (total / (performance.now() - t0)) * 1000;
}

async function rawWs(size: number, total: number): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const counter = new Counter();
  server.on('connection', (socket) => socket.on('message', () => counter.hit()));
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((r) => client.once('open', r));
  const payload = Buffer.alloc(size, 7);
  const rate = await paced(total, counter, () => client.send(payload, { binary: true }));
  client.close();
  await new Promise((r) => server.close(r));
  return rate;
}

async function tessera(size: number, total: number): Promise<number> {
  const receiver = new Node({ logger: silentLogger });
  const rt = new WebSocketTransport(receiver);
  const counter = new Counter();
  await receiver.startWorker('sink', () => counter.hit(), { mailboxCapacity: WINDOW * 4 });
  const listener = await rt.listen();
  const sender = new Node({ logger: silentLogger });
  new WebSocketTransport(sender, { maxQueued: 1_000_000, maxQueuedBytes: 1 << 30 });
  const ctx = await sender.startWorker('source', () => undefined);
  const to = route(`3#127.0.0.1:${listener.port}`, 'sink');
  const payload = new Uint8Array(size).fill(7);
  ctx.send(to, payload); // open the connection
  await counter.reach(1);
  const rate = await paced(total, counter, () => ctx.send(to, payload));
  await sender.stop();
  await receiver.stop();
  return rate;
}

for (const [size, total] of [
  [64, 300_000],
  [4096, 100_000],
] as const) {
  const raw: number[] = [];
  const ours: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    raw.push(await rawWs(size, total));
    ours.push(await tessera(size, total));
    globalThis.gc?.();
  }
  report({ name: `ws-throughput ${size} B`, value: median(ours), unit: 'msg/s', baseline: 'raw ws', baselineValue: median(raw) });
}
