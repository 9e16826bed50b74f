// Local routing: messages/s from one worker to another through the node's router and
// a mailbox, vs a bare EventEmitter delivering the same payloads; and request/reply
// with 100 in flight, vs the same over an EventEmitter (a reply callback resolving a
// promise). Each figure is the median of REPEATS runs, taking turns.
import { EventEmitter } from 'node:events';
import { Node, route, silentLogger } from '@tessera/core';
import { median, REPEATS, report } from './report.js';

const N = 1_000_000;
/** Requests per request/reply run, and how many are in flight. */
const M = N / 10;
const WINDOW = 100;
const payload = new Uint8Array(16);

async function emitterBaseline(): Promise<number> {
  const emitter = new EventEmitter();
  let got = 0;
  emitter.on('message', (p: Uint8Array) => {
    got += p.length > 0 ? 1 : 0;
  });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) emitter.emit('message', payload);
  const ms = performance.now() - t0;
  if (got !== N) throw new Error('lost messages');
  return (N / ms) * 1000;
}

async function fireAndForget(): Promise<number> {
  const node = new Node({ logger: silentLogger, mailboxCapacity: N });
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await node.startWorker('sink', async () => {
    if (++got === N) done();
  });
  const to = route('sink');
  const ctx = await node.startWorker('source', () => undefined);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) ctx.send(to, payload);
  await finished;
  const ms = performance.now() - t0;
  await node.stop();
  return (N / ms) * 1000;
}

/** Requests/s of `request`, M of them, WINDOW in flight at a time. */
async function windowed(request: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < M; i += WINDOW) {
    const batch: Promise<unknown>[] = [];
    for (let j = 0; j < WINDOW; j++) batch.push(request());
    await Promise.all(batch);
  }
  return (M / (performance.now() - t0)) * 1000;
}

async function emitterRequestReply(): Promise<number> {
  const emitter = new EventEmitter();
  emitter.on('request', (p: Uint8Array, reply: (answer: Uint8Array) => void) => reply(p));
  return windowed(() => new Promise<Uint8Array>((resolve) => emitter.emit('request', payload, resolve)));
}

async function requestReply(): Promise<number> {
  const node = new Node({ logger: silentLogger });
  await node.startWorker('echo', (ctx, msg) => ctx.reply(msg, msg.payload));
  const to = route('echo');
  const rate = await windowed(() => node.request(to, payload));
  await node.stop();
  return rate;
}

const runs = { emit: [] as number[], ff: [] as number[], emitRr: [] as number[], rr: [] as number[] };
for (let run = 0; run < REPEATS; run++) {
  runs.emit.push(await emitterBaseline());
  runs.ff.push(await fireAndForget());
  runs.emitRr.push(await emitterRequestReply());
  runs.rr.push(await requestReply());
  globalThis.gc?.();
}
report({
  name: 'local-routing fire-and-forget (async handler)',
  value: median(runs.ff),
  unit: 'msg/s',
  baseline: 'EventEmitter emit to a synchronous listener (no mailbox, no async hop: an upper bound, not the same work)',
  baselineValue: median(runs.emit),
  repeats: REPEATS,
  target: { of: 'value', atLeast: 3_000_000 },
});
report({
  name: `local-routing request/reply (${WINDOW} in flight)`,
  value: median(runs.rr),
  unit: 'req/s',
  baseline: `EventEmitter request/reply: emit with a reply callback resolving a promise, ${WINDOW} in flight (no mailbox, no timeout, no routing)`,
  baselineValue: median(runs.emitRr),
  repeats: REPEATS,
});
