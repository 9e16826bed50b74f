// Hub start-up with 100,000 leases in Redis (a harness redis-server), as `tessera hub`
// starts: LeaseService.start() (cloud init, storage connect, first expiry round), the
// token_lease worker on a WebSocket listener, and the orphan reconciliation in the
// background. Figures, each the median of REPEATS fresh start-ups on the same data:
//  - until serving: start() resolved and a device's `get` answered over WebSocket;
//  - until re-armed: the scheduler has read the next due time and set its timer;
//  - until the background reconciliation has read every lease (and the cloud's tokens).
// Baseline: the same start-up done bare, in the same order and with the same overlap,
// each milestone timed alike: node:http GETs of the org and the bucket; a new ioredis
// connection running redisStorage's own scripts (namespace; claim, then the next due
// time, then a timer; ZRANGE + getMany in batches of 1000, 4 in flight, then the
// cloud's authorizations); a bare `ws` server answering the device's JSON `get` with one
// HGETALL. No validation, no decoding, no Tessera framing or routing.
// Seeding (concurrent redisStorage.save) is not part of any figure.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import WebSocket, { WebSocketServer } from 'ws';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { type Clock, fromUtf8, Node, route, silentLogger } from '@tessera/core';
import { startInfluxdbLocal } from '@tessera/influxdb-local';
import { redisStorage } from '@tessera/storage-redis';
import { leaseRecord, startRedisServer } from '@tessera/testing';
import { LeaseService, TokenLeaseWorker, ttlPolicy } from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';
import { SCRIPTS, type ScriptCommands } from '../packages/storage-redis/dist/scripts.js';
import { median, REPEATS, report } from './report.js';

const N = 100_000;
const MINUTE = 60_000;
/** LeaseService's scheduler defaults: batch and claim of the first expiry round. */
const CLAIM_BATCH = 512;
const CLAIM_MS = 15_000;

interface Milestones {
  serving: number;
  armed: number;
  reconciled: number;
}

const token = randomBytes(32).toString('base64url');
const influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token });
const redis = await startRedisServer();
const cloud = () => influxdbV2({ url: influx.url, token, org: influx.org, permissions: [{ action: 'write', bucket: influx.bucket }] });
const namespace = { cloudService: cloud().name, cloudServiceAddress: cloud().getAddress() };

/** One bare node:http GET returning the parsed JSON body. */
function getJson(agent: Agent, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, influx.url), { agent, headers: { authorization: `Token ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Our start-up, as `tessera hub` does it. */
async function ours(firstDue: number, wanted: string): Promise<Milestones> {
  const started = performance.now();
  let armedAt: number | undefined;
  let armedFor: number | undefined;
  // The system clock, noting when the scheduler first sets its timer, and for when.
  const clock: Clock = {
    now: () => Date.now(),
    setTimeout: (callback, ms) => {
      if (armedAt === undefined) {
        armedAt = performance.now();
        armedFor = Date.now() + ms;
      }
      return setTimeout(callback, ms);
    },
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  const storage = redisStorage({ url: redis.url });
  // maxSleep past the first due time, so the timer set is the next due time itself (not a 1 s poll).
  // reconcileEvery 0: the clock above notes the first timer set, which must be the expiry scheduler's
  const service = new LeaseService({ cloud: cloud(), storage, policy: ttlPolicy({}), clock, reconcileEvery: 0, scheduler: { maxSleep: 2 * 60 * MINUTE } });
  await service.start();
  const hub = new Node({ name: 'hub', logger: silentLogger });
  const transport = new WebSocketTransport(hub);
  await hub.startWorker('token_lease', new TokenLeaseWorker(service, { owners: 'anonymous', admins: ['anonymous'] }));
  const listener = await transport.listen({ host: '127.0.0.1', port: 0 });
  const reconciliation = service.reconcile().then((revoked) => {
    if (revoked !== 0) throw new Error(`reconciliation revoked ${revoked} tokens`);
    return performance.now();
  });

  const device = new Node({ name: 'device', logger: silentLogger });
  new WebSocketTransport(device);
  const reply = JSON.parse(fromUtf8((await device.request(route(`3#127.0.0.1:${listener.port}`, 'token_lease'), JSON.stringify({ action: 'get', token_id: wanted }), { timeout: 30_000 })).payload)) as {
    result: string;
    lease?: { id: string };
  };
  if (reply.result !== 'success' || reply.lease?.id !== wanted) throw new Error(`get answered ${JSON.stringify(reply)}`);
  const serving = performance.now() - started;

  const deadline = performance.now() + 30_000;
  while (armedAt === undefined && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (armedAt === undefined || armedFor === undefined) throw new Error('the scheduler never set its timer');
  if (Math.abs(armedFor - firstDue) > 100) throw new Error(`the scheduler is armed for ${new Date(armedFor).toISOString()}, the first lease is due ${new Date(firstDue).toISOString()}`);
  const reconciled = (await reconciliation) - started;

  await device.stop();
  await hub.stop();
  await service.stop();
  await storage.close();
  return { serving, armed: armedAt - started, reconciled };
}

/** The same start-up, bare: the same requests to influxdb-local and Redis, a bare ws server. */
async function bare(dueKey: string, leasePrefix: string, firstDue: number, wanted: string): Promise<Milestones> {
  const started = performance.now();
  const agent = new Agent({ keepAlive: true });
  // cloud init: the org, then the bucket of the configured permission
  const orgs = (await getJson(agent, `/api/v2/orgs?org=tessera`)) as { orgs: Array<{ id: string }> };
  const orgID = orgs.orgs[0]!.id;
  await getJson(agent, `/api/v2/buckets?orgID=${orgID}&name=tessera`);
  // storage init: connect, record the namespace
  const raw = new Redis(redis.port, redis.host) as Redis & ScriptCommands;
  for (const [name, definition] of Object.entries(SCRIPTS)) raw.defineCommand(name, definition);
  await raw.tesseraNamespace(dueKey.slice(0, -'due'.length) + 'meta', namespace.cloudService, namespace.cloudServiceAddress, randomBytes(8).toString('hex'));
  // the first expiry round, in the background: claim (nothing due), the next due time, a timer
  const armed = (async () => {
    const now = Date.now();
    await raw.tesseraClaim(dueKey, String(now), String(CLAIM_BATCH), String(now + CLAIM_MS));
    const next = await raw.zrange(dueKey, 0, '0', 'WITHSCORES');
    const timer = setTimeout(() => undefined, Number(next[1]) - Date.now());
    const at = performance.now();
    clearTimeout(timer);
    if (Math.abs(Number(next[1]) - firstDue) > 100) throw new Error('bare: wrong next due time');
    return at;
  })();
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => server.once('listening', r));
  server.on('connection', (socket) =>
    socket.on('message', (data: Buffer) => {
      const asked = JSON.parse(data.toString('utf8')) as { token_id: string };
      void raw.hgetall(leasePrefix + asked.token_id).then((hash) => socket.send(JSON.stringify({ result: 'success', lease: JSON.parse(hash['record']!) as unknown })));
    }),
  );
  // reconciliation, in the background: every lease, then the cloud's tokens
  const reconciliation = (async () => {
    const listed = await raw.zrange(dueKey, 0, '-1');
    let found = 0;
    const batches = Array.from({ length: Math.ceil(listed.length / 1000) }, (_, b) => listed.slice(b * 1000, (b + 1) * 1000));
    await pLimit(4).map(batches, async (batch) => {
      const hashes = await raw.tesseraGetMany(dueKey, ...batch);
      found += hashes.filter((h) => h.length > 0).length;
    });
    if (found !== N) throw new Error(`bare read found ${found} leases`);
    await getJson(agent, `/api/v2/authorizations?orgID=${orgID}`);
    return performance.now();
  })();
  // the device
  const port = (server.address() as { port: number }).port;
  const device = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((r) => device.once('open', r));
  const reply = await new Promise<{ lease?: { id: string } }>((resolve) => {
    device.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')) as { lease?: { id: string } }));
    device.send(JSON.stringify({ action: 'get', token_id: wanted }));
  });
  if (reply.lease?.id !== wanted) throw new Error('bare get answered wrong');
  const serving = performance.now() - started;
  const result = { serving, armed: (await armed) - started, reconciled: (await reconciliation) - started };
  device.close();
  await new Promise((r) => server.close(r));
  raw.disconnect();
  agent.destroy();
  return result;
}

try {
  // Seed: N leases due over the hour after the next ten minutes (none falls due during the runs).
  const firstDue = Date.now() + 10 * MINUTE;
  const ids = Array.from({ length: N }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
  const seeder = redisStorage({ url: redis.url });
  await seeder.init(namespace);
  const seedStarted = performance.now();
  await pLimit(512).map(ids, (id, i) => seeder.save(leaseRecord(id, firstDue + Math.floor((i * 60 * MINUTE) / N), { owner: 'anonymous' })));
  process.stderr.write(`# seeded ${await seeder.count()} leases in ${Math.round(performance.now() - seedStarted)} ms\n`);
  await seeder.close();

  const probe = new Redis(redis.port, redis.host);
  const [dueKey] = await probe.keys('tessera:*:due');
  probe.disconnect();
  const leasePrefix = dueKey!.slice(0, -'due'.length) + 'lease:';

  const runs: { ours: Milestones[]; bare: Milestones[] } = { ours: [], bare: [] };
  for (let run = 0; run < REPEATS; run++) {
    const wanted = ids[run * 7_919]!;
    runs.bare.push(await bare(dueKey!, leasePrefix, firstDue, wanted));
    runs.ours.push(await ours(firstDue, wanted));
  }

  const baseline = `the same start-up done bare (node:http cloud GETs, ioredis with redisStorage's scripts, a bare ws server answering the get with one HGETALL), same order and overlap; no validation, decoding or Tessera routing`;
  const milestones = {
    serving: 'until serving (start() resolved, a get answered over WebSocket)',
    armed: 'until the expiry scheduler is re-armed for the next due time',
    reconciled: 'until the background reconciliation has read every lease and the cloud tokens',
  } as const;
  for (const [key, what] of Object.entries(milestones) as Array<[keyof Milestones, string]>) {
    const value = median(runs.ours.map((m) => m[key]));
    const base = median(runs.bare.map((m) => m[key]));
    report({
      name: `hub start-up with ${N} leases in Redis: ${what}`,
      value,
      unit: 'ms',
      baseline,
      baselineValue: base,
      ratio: base / value,
      repeats: REPEATS,
      ...(key === 'serving' ? { target: { of: 'value', atMost: 3000 } } : {}),
    });
  }
} finally {
  await influx.close();
  await redis.stop();
}
