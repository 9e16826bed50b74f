// Request/reply round trip over one WebSocket connection: p50/p99 of a node's request
// to an echo worker on another node, vs a raw `ws` echo server, both in this process,
// one request at a time. REPEATS runs, raw and ours taking turns, each on fresh
// connections; a figure is the median over the runs of that run's percentile.
import { echoWorker, Node, route, silentLogger } from '@tessera/core';
import { WebSocketTransport } from '@tessera/transport-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { median, percentile, REPEATS, report } from './report.js';

const ROUNDS = 5_000;
const WARMUP = 1_000;
const payload = new Uint8Array(64).fill(1);

async function rawEcho(): Promise<number[]> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => server.once('listening', r));
  server.on('connection', (s) => s.on('message', (data: Buffer) => s.send(data, { binary: true })));
  const port = (server.address() as { port: number }).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((r) => client.once('open', r));
  const times: number[] = [];
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      client.once('message', () => resolve());
      client.send(payload, { binary: true });
    });
    if (i >= WARMUP) times.push((performance.now() - t0) * 1000);
  }
  client.close();
  await new Promise((r) => server.close(r));
  return times;
}

async function tesseraEcho(): Promise<number[]> {
  const hub = new Node({ logger: silentLogger });
  const ht = new WebSocketTransport(hub);
  await hub.startWorker('echo', echoWorker);
  const listener = await ht.listen();
  const device = new Node({ logger: silentLogger });
  new WebSocketTransport(device);
  const to = route(`3#127.0.0.1:${listener.port}`, 'echo');
  const times: number[] = [];
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const t0 = performance.now();
    await device.request(to, payload);
    if (i >= WARMUP) times.push((performance.now() - t0) * 1000);
  }
  await device.stop();
  await hub.stop();
  return times;
}

const runs = { raw: [] as number[][], ours: [] as number[][] };
for (let run = 0; run < REPEATS; run++) {
  runs.raw.push(await rawEcho());
  runs.ours.push(await tesseraEcho());
}
for (const p of [50, 99]) {
  const value = median(runs.ours.map((times) => percentile(times, p)));
  const base = median(runs.raw.map((times) => percentile(times, p)));
  report({
    name: `ws-latency request/reply p${p}, 64 B, 1 in flight`,
    value,
    unit: 'µs',
    baseline: 'raw ws echo server, same payload, 1 in flight, same process',
    baselineValue: base,
    ratio: base / value,
    repeats: REPEATS,
  });
}
