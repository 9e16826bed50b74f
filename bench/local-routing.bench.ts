// Local routing: messages/s from one worker to another through the node's
// router and a mailbox, vs a bare EventEmitter delivering the same payloads.
import { EventEmitter } from 'node:events';
import { Node, route, silentLogger } from '@tessera/core';
import { median, report } from './report.js';

const N = 1_000_000;
const RUNS = 5;
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

async function requestReply(): Promise<number> {
  const node = new Node({ logger: silentLogger });
  await node.startWorker('echo', (ctx, msg) => ctx.reply(msg, msg.payload));
  const to = route('echo');
  const M = N / 10;
  const t0 = performance.now();
  // 100 requests in flight at a time
  const window = 100;
  for (let i = 0; i < M; i += window) {
    const batch: Promise<unknown>[] = [];
    for (let j = 0; j < window; j++) batch.push(node.request(to, payload));
    await Promise.all(batch);
  }
  const ms = performance.now() - t0;
  await node.stop();
  return (M / ms) * 1000;
}

const base: number[] = [];
const ff: number[] = [];
const rr: number[] = [];
for (let run = 0; run < RUNS; run++) {
  base.push(await emitterBaseline());
  ff.push(await fireAndForget());
  rr.push(await requestReply());
  globalThis.gc?.();
}
const b = median(base);
report({ name: 'local-routing fire-and-forget (async handler)', value: median(ff), unit: 'msg/s', baseline: 'EventEmitter emit', baselineValue: b });
report({ name: 'local-routing request/reply (100 in flight)', value: median(rr), unit: 'req/s', baseline: 'EventEmitter emit', baselineValue: b });
