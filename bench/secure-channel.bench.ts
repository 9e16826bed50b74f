// Secure channels (docs/protocol.md §5) over one WebSocket connection on loopback.
// Handshakes/s (50 in flight) between this process and `tessera node` in a process of its
// own (two nodes, two processes, as deployed), vs as many plain request/replies to that
// node's echo worker over the same connection. Then one-way messages/s through one
// channel vs plain routing to the same worker over the same connection, between two nodes
// in this process, at 64 B and 4 KiB, with and without batching, paced by the same window
// of messages in flight.
import { echoWorker, local, Node, route, silentLogger } from '@tessera/core';
import { createSecureChannel, Ed25519Identity, type SecureChannel, startSecureChannelListener, trustFunction } from '@tessera/secure-channel';
import { WebSocketTransport } from '@tessera/transport-ws';
import { secureNodeProcess } from './child-processes.js';
import { Counter, paced } from './paced.js';
import { median, REPEATS, report } from './report.js';

const anyone = trustFunction(() => true);
const HANDSHAKES = 1_000;
const IN_FLIGHT = 50;
const WINDOW = 1_000;

async function inFlight(total: number, one: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < total) await one();
    }),
  );
  return (total / (performance.now() - t0)) * 1000;
}

const responder = new Node({ logger: silentLogger });
const rt = new WebSocketTransport(responder);
await responder.startWorker('echo', echoWorker);
const counter = new Counter();
await responder.startWorker('count', () => counter.hit());
const listener = await startSecureChannelListener(responder, { identity: Ed25519Identity.generate(), trust: anyone, maxChannels: 100_000 });
const { port } = await rt.listen({ host: '127.0.0.1', port: 0 });
const initiator = new Node({ logger: silentLogger });
new WebSocketTransport(initiator);
const identity = Ed25519Identity.generate();
// the handshakes come from many identities, as from many devices: a listener holds at most 64 channels of one
// (maxChannelsPerIdentity) and refuses more after message 3; each identity's proof is signed once (partyFor)
const devices = Array.from({ length: Math.ceil(HANDSHAKES / 50) }, () => Ed25519Identity.generate());
let handshakesBegun = 0;
const toListener = route(`3#127.0.0.1:${port}`, 'secure_channel');
const toEcho = route(`3#127.0.0.1:${port}`, 'echo');
await initiator.request(toEcho, 'warm up');

const remote = await secureNodeProcess();
const toRemoteListener = route(`3#127.0.0.1:${remote.port}`, 'secure_channel');
const toRemoteEcho = route(`3#127.0.0.1:${remote.port}`, 'echo');
await initiator.request(toRemoteEcho, 'warm up');
const handshakes: number[] = [];
const plain: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  const opened: SecureChannel[] = [];
  handshakes.push(
    await inFlight(HANDSHAKES, async () => opened.push(await createSecureChannel(initiator, toRemoteListener, { identity: devices[handshakesBegun++ % devices.length]!, trust: anyone }))),
  );
  plain.push(await inFlight(HANDSHAKES, () => initiator.request(toRemoteEcho, 'x')));
  for (const c of opened) c.close();
}
await remote.stop();
report({
  name: 'secure-channel handshakes/s (WS, 50 in flight, two nodes in two processes)',
  value: median(handshakes),
  unit: 'handshakes/s',
  baseline: 'as many plain request/replies to the other node\'s echo over the same WebSocket connection, 50 in flight',
  baselineValue: median(plain),
  repeats: REPEATS,
  target: { of: 'value', atLeast: 1_000 },
});

for (const size of [64, 4096]) {
  const total = size === 64 ? 50_000 : 20_000;
  const payload = new Uint8Array(size).fill(7);
  for (const batching of [true, false]) {
    const channel = await createSecureChannel(initiator, toListener, { identity, trust: anyone, batching });
    const through = [channel.address, local('count')];
    const toCount = route(`3#127.0.0.1:${port}`, 'count');
    const secured: number[] = [];
    const routed: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      secured.push(await paced(total, WINDOW, counter, () => initiator.send(through, payload)));
      routed.push(await paced(total, WINDOW, counter, () => initiator.send(toCount, payload)));
    }
    channel.close();
    report({
      name: `secure-channel one-way ${size} B messages/s, batching ${batching ? 'on' : 'off'}`,
      value: median(secured),
      unit: 'messages/s',
      baseline: `plain routing of the same ${size} B messages to the same worker over the same WebSocket connection, same window`,
      baselineValue: median(routed),
      repeats: REPEATS,
      // the channel batches by default; without batches it is shown for comparison (every message then
      // pays node:crypto's per-call cost twice, docs/benchmarks.md), so the target is the batching one's
      ...(batching ? { target: { of: 'ratio' as const, atLeast: 0.5 } } : {}),
    });
  }
}
process.stderr.write(`# listener drops: ${JSON.stringify(listener.stats().dropped)}\n`);
await initiator.stop();
await responder.stop();
