// Lease create+revoke per second end to end: a device Node sends JSON requests over
// WebSocket to a hub whose TokenLeaseWorker creates the token in influxdb-local, stores
// the lease, and on revoke deletes both. IN_FLIGHT requests are in flight.
//
// influxdb-local runs in a process of its own throughout. The baseline is the bare cloud
// calls (influxdbV2 create + revoke, IN_FLIGHT in flight) from a process of their own,
// started once and warmed up as the hubs are, against it: two busy processes, as in
//  1. memory storage and 2. Redis storage: device and hub share this process;
//  3. the hub as `tessera hub` in a process of its own: a third busy process (the device
//     here), on the same two cores; the baseline's text says so;
//  4. hub capacity: create+revoke per CPU-second of the hub process, against the bare
//     calls per CPU-second of their process (both read with process.cpuUsage() inside
//     the process): what one process on a core of its own could serve.
// Each figure is the median of REPEATS runs; in each run the four take turns.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { fromUtf8, Node, route, silentLogger } from '@tessera/core';
import { redisStorage } from '@tessera/storage-redis';
import { startRedisServer } from '@tessera/testing';
import { type CloudService, LeaseService, memoryStorage, type StorageService, TokenLeaseWorker, ttlPolicy } from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';
import { hubProcess, influxdbLocalProcess } from './child-processes.js';
import { cpuSecondsSince, median, REPEATS, report } from './report.js';

const IN_FLIGHT = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const HOUR = 3_600_000;
const ORG = 'tessera';
const BUCKET = 'tessera';
const self = fileURLToPath(import.meta.url);

/** `op` run by `concurrency` loops for `seconds`: completed operations, and per second. */
async function rate(op: () => Promise<void>, seconds: number, concurrency: number): Promise<{ ops: number; perSecond: number }> {
  const until = performance.now() + seconds * 1000;
  let ops = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await op();
        ops += 1;
      }
    }),
  );
  return { ops, perSecond: ops / ((performance.now() - started) / 1000) };
}

function cloudCycle(cloud: CloudService): () => Promise<void> {
  return async () => {
    const issued = new Date();
    const lease = await cloud.create({ ttl: HOUR, issued, expires: new Date(issued.getTime() + HOUR), options: {} });
    await cloud.revoke(lease.id);
  };
}

function v2(url: string, token: string): CloudService {
  return influxdbV2({ url, token, org: ORG, permissions: [{ action: 'write', bucket: BUCKET }] });
}

interface BareRun {
  ops: number;
  perSecond: number;
  cpuSeconds: number;
}

// --- child mode: the bare cloud calls from a process of their own, which stays up (and
// warm) across runs as the hubs do; each 'run' message is answered with one measurement.
if (process.argv[2] === '--bare-client') {
  const [url, token] = [process.argv[3]!, process.env.BENCH_INFLUX_TOKEN!];
  const cloud = v2(url, token);
  await cloud.init();
  await rate(cloudCycle(cloud), 0.5, IN_FLIGHT); // warm up, as the hubs are
  process.on('message', (message) => {
    if (message === 'stop') process.exit(0);
    void (async () => {
      const cpu = process.cpuUsage();
      const { ops, perSecond } = await rate(cloudCycle(cloud), SECONDS, IN_FLIGHT);
      const result: BareRun = { ops, perSecond, cpuSeconds: cpuSecondsSince(cpu) };
      process.send!(result);
    })();
  });
  process.send!('ready');
} else {
  await main();
}

/** The bare client process: `run()` measures once; `stop()` ends it. */
async function bareClientProcess(influxUrl: string, token: string): Promise<{ run(): Promise<BareRun>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--bare-client', influxUrl], {
    env: { ...process.env, BENCH_INFLUX_TOKEN: token },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      child.once('message', resolve);
      void exited.then((code) => reject(new Error(`bare client process exited with ${String(code)}`)));
    });
  await next(); // 'ready'
  return {
    run: async () => {
      const answer = next();
      child.send('run');
      return (await answer) as BareRun;
    },
    async stop() {
      child.send('stop');
      await exited;
    },
  };
}

async function inProcessHub(cloud: CloudService, storage: StorageService): Promise<{ port: number; service: LeaseService; stop(): Promise<void> }> {
  const service = new LeaseService({ cloud, storage, policy: ttlPolicy({}) });
  await service.start();
  const node = new Node({ name: 'hub', logger: silentLogger });
  const transport = new WebSocketTransport(node);
  await node.startWorker('token_lease', new TokenLeaseWorker(service, { owners: 'anonymous', admins: ['anonymous'] }));
  const listener = await transport.listen({ host: '127.0.0.1', port: 0 });
  return {
    port: listener.port,
    service,
    async stop() {
      await node.stop();
      await service.stop();
      await storage.close();
    },
  };
}

/** A device: JSON requests to a hub's token_lease over WebSocket; one create+revoke per call. */
function leaseCycle(client: Node, port: number): () => Promise<void> {
  const to = route(`3#127.0.0.1:${port}`, 'token_lease');
  const call = async (request: object): Promise<{ result: string; message?: string; lease?: { id: string } }> =>
    JSON.parse(fromUtf8((await client.request(to, JSON.stringify(request), { timeout: 30_000 })).payload)) as { result: string };
  return async () => {
    const created = await call({ action: 'create', options: { ttl: HOUR } });
    if (created.result !== 'success') throw new Error(`create failed: ${created.message}`);
    const revoked = await call({ action: 'revoke', token_id: created.lease!.id });
    if (revoked.result !== 'success') throw new Error(`revoke failed: ${revoked.message}`);
  };
}

async function main(): Promise<void> {
  const token = randomBytes(32).toString('base64url');
  const influx = await influxdbLocalProcess({ token, org: ORG, bucket: BUCKET });
  const redis = await startRedisServer();
  const client = new Node({ name: 'device', logger: silentLogger });
  new WebSocketTransport(client);
  try {
    const memoryHub = await inProcessHub(v2(influx.url, token), memoryStorage());
    const redisHub = await inProcessHub(v2(influx.url, token), redisStorage({ url: redis.url }));
    const childHub = await hubProcess(influx.url, token);
    const bareClient = await bareClientProcess(influx.url, token);

    const viaMemory = leaseCycle(client, memoryHub.port);
    const viaRedis = leaseCycle(client, redisHub.port);
    const viaProcess = leaseCycle(client, childHub.port);
    for (const op of [viaMemory, viaRedis, viaProcess]) await rate(op, 0.5, IN_FLIGHT); // warm up

    const results = { bare: [] as number[], memory: [] as number[], redis: [] as number[], process: [] as number[], hubCapacity: [] as number[], bareCapacity: [] as number[] };
    for (let run = 0; run < REPEATS; run++) {
      const bare = await bareClient.run();
      results.bare.push(bare.perSecond);
      results.bareCapacity.push(bare.ops / bare.cpuSeconds);
      results.memory.push((await rate(viaMemory, SECONDS, IN_FLIGHT)).perSecond);
      results.redis.push((await rate(viaRedis, SECONDS, IN_FLIGHT)).perSecond);
      const cpuBefore = await childHub.cpuSeconds();
      const viaHubProcess = await rate(viaProcess, SECONDS, IN_FLIGHT);
      const cpuAfter = await childHub.cpuSeconds();
      results.process.push(viaHubProcess.perSecond);
      results.hubCapacity.push(viaHubProcess.ops / (cpuAfter - cpuBefore));
    }

    const bareText = `bare influxdbV2 create+revoke, ${IN_FLIGHT} in flight, from a process of their own (kept up and warm across runs, as the hubs); influxdb-local in another process for both`;
    const common = { unit: 'cycles/s', baselineValue: median(results.bare), repeats: REPEATS };
    report({ ...common, name: `lease create+revoke end to end over WebSocket, memory storage, device and hub in one process (${IN_FLIGHT} in flight)`, value: median(results.memory), baseline: bareText });
    report({
      ...common,
      name: `lease create+revoke end to end over WebSocket, Redis storage, device and hub in one process (${IN_FLIGHT} in flight)`,
      value: median(results.redis),
      baseline: `${bareText}; ours also uses a redis-server process`,
    });
    report({
      ...common,
      name: `lease create+revoke, hub in its own process (tessera hub, memory storage, ${IN_FLIGHT} in flight)`,
      value: median(results.process),
      baseline: `${bareText}; ours has a third busy process (device, hub, influxdb-local each in its own) on the same 2 cores`,
      target: { of: 'value', atLeast: 5000 },
    });
    report({
      name: 'hub process capacity: create+revoke per CPU-second of the hub (memory storage)',
      value: median(results.hubCapacity),
      unit: 'cycles/CPU-s',
      baseline: 'bare influxdbV2 create+revoke per CPU-second of a process doing only those calls (process.cpuUsage() in each)',
      baselineValue: median(results.bareCapacity),
      repeats: REPEATS,
    });

    // Nothing left behind: every token created was revoked, every lease removed.
    const check = v2(influx.url, token);
    const left = (await check.getAll()).filter((t) => t.managed).length;
    const stored = (await memoryHub.service.storage.count()) + (await redisHub.service.storage.count());
    if (left !== 0 || stored !== 0) throw new Error(`left behind: ${left} tokens, ${stored} leases`);
    await Promise.all([memoryHub.stop(), redisHub.stop(), childHub.stop(), bareClient.stop()]);
  } finally {
    await client.stop();
    await influx.stop();
    await redis.stop();
  }
}
