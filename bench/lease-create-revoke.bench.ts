// Lease create+revoke per second end to end: a client Node sends JSON requests over
// WebSocket to a hub Node whose TokenLeaseWorker creates the token in influxdb-local,
// stores the lease, and on revoke deletes both. IN_FLIGHT requests are in flight.
// Baseline: the bare cloud calls (influxdbV2 create + revoke) against the same
// influxdb-local at the same concurrency, in the same process.
//
// 1. memory storage and 2. Redis storage (a harness redis-server): client, hub and
//    influxdb-local share this process, as the baseline's client and server do.
// 3. the hub as `tessera hub` in a process of its own: throughput, and its CPU time per
//    cycle turned into cycles per CPU-second (what one hub process on one dedicated
//    core could serve with the cloud and the clients elsewhere), against the cloud
//    client alone (the bare calls from a process of their own, measured the same way).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { fromUtf8, Node, route, silentLogger } from '@tessera/core';
import { startInfluxdbLocal } from '@tessera/influxdb-local';
import { redisStorage } from '@tessera/storage-redis';
import { freePort, startRedisServer } from '@tessera/testing';
import { type CloudService, LeaseService, memoryStorage, type StorageService, TokenLeaseWorker, ttlPolicy } from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';
import { median, report } from './report.js';

const IN_FLIGHT = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const RUNS = 2;
const HOUR = 3_600_000;
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
  return influxdbV2({ url, token, org: 'tessera', permissions: [{ action: 'write', bucket: 'tessera' }] });
}

// --- child mode: the bare cloud calls from a process of their own, reporting their CPU time
if (process.argv[2] === '--bare-client') {
  const [url, token] = [process.argv[3]!, process.env.BENCH_INFLUX_TOKEN!];
  const cloud = v2(url, token);
  await cloud.init();
  await rate(cloudCycle(cloud), 0.5, IN_FLIGHT);
  const cpu = process.cpuUsage();
  const { ops, perSecond } = await rate(cloudCycle(cloud), SECONDS, IN_FLIGHT);
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({ ops, perSecond, cpuSeconds: (used.user + used.system) / 1e6 }) + '\n');
  process.exit(0);
}

/** CPU seconds a process has used so far (Linux /proc; undefined elsewhere). */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], fields[12]: utime, stime in clock ticks (100 per second on Linux)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface Hub {
  port: number;
  stop(): Promise<void>;
}

async function inProcessHub(cloud: CloudService, storage: StorageService): Promise<Hub & { service: LeaseService }> {
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

async function processHub(influxUrl: string, token: string): Promise<Hub & { pid: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url)), 'hub', '--listen', `127.0.0.1:${port}`, '--storage', 'memory', '--influx-url', influxUrl, '--insecure', '--log-level', 'error'],
    { env: { ...process.env, INFLUX_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tessera hub exited with ${code}: ${out}`)));
  });
  return {
    port,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function bareClientProcess(influxUrl: string, token: string): Promise<{ ops: number; perSecond: number; cpuSeconds: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--bare-client', influxUrl], {
    env: { ...process.env, BENCH_INFLUX_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`bare client process exited with ${String(code)}`);
  return JSON.parse(out) as { ops: number; perSecond: number; cpuSeconds: number };
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

const token = randomBytes(32).toString('base64url');
const influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token });
const redis = await startRedisServer();
const client = new Node({ name: 'device', logger: silentLogger });
new WebSocketTransport(client);
try {
  const bareCloud = v2(influx.url, token);
  await bareCloud.init();
  const memoryHub = await inProcessHub(v2(influx.url, token), memoryStorage());
  const redisHub = await inProcessHub(v2(influx.url, token), redisStorage({ url: redis.url }));
  const childHub = await processHub(influx.url, token);

  const bare = cloudCycle(bareCloud);
  const viaMemory = leaseCycle(client, memoryHub.port);
  const viaRedis = leaseCycle(client, redisHub.port);
  const viaProcess = leaseCycle(client, childHub.port);
  for (const op of [bare, viaMemory, viaRedis, viaProcess]) await rate(op, 0.5, IN_FLIGHT); // warm up

  const results = { bare: [] as number[], memory: [] as number[], redis: [] as number[], process: [] as number[], hubCapacity: [] as number[], bareCapacity: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    results.bare.push((await rate(bare, SECONDS, IN_FLIGHT)).perSecond);
    results.memory.push((await rate(viaMemory, SECONDS, IN_FLIGHT)).perSecond);
    results.redis.push((await rate(viaRedis, SECONDS, IN_FLIGHT)).perSecond);
    const cpuBefore = processCpuSeconds(childHub.pid);
    const viaHubProcess = await rate(viaProcess, SECONDS, IN_FLIGHT);
    const cpuAfter = processCpuSeconds(childHub.pid);
    results.process.push(viaHubProcess.perSecond);
    if (cpuBefore !== undefined && cpuAfter !== undefined) results.hubCapacity.push(viaHubProcess.ops / (cpuAfter - cpuBefore));
    const bareProcess = await bareClientProcess(influx.url, token);
    results.bareCapacity.push(bareProcess.ops / bareProcess.cpuSeconds);
  }

  const baseline = `bare influxdbV2 create+revoke, ${IN_FLIGHT} in flight, same influxdb-local, same process`;
  report({ name: `lease create+revoke end to end over WebSocket, memory storage (${IN_FLIGHT} in flight)`, value: median(results.memory), unit: 'cycles/s', baseline, baselineValue: median(results.bare) });
  report({ name: `lease create+revoke end to end over WebSocket, Redis storage (${IN_FLIGHT} in flight)`, value: median(results.redis), unit: 'cycles/s', baseline, baselineValue: median(results.bare) });
  report({ name: `lease create+revoke, hub in its own process (tessera hub, memory storage, ${IN_FLIGHT} in flight)`, value: median(results.process), unit: 'cycles/s', baseline, baselineValue: median(results.bare) });
  if (results.hubCapacity.length > 0) {
    report({
      name: 'hub process capacity: create+revoke per CPU-second of the hub (memory storage)',
      value: median(results.hubCapacity),
      unit: 'cycles/CPU-s',
      baseline: 'bare influxdbV2 create+revoke per CPU-second of a process doing only those calls',
      baselineValue: median(results.bareCapacity),
    });
  }

  // Nothing left behind: every token created was revoked, every lease removed.
  const left = (await bareCloud.getAll()).filter((t) => t.managed).length;
  const stored = (await memoryHub.service.storage.count()) + (await redisHub.service.storage.count());
  if (left !== 0 || stored !== 0) throw new Error(`left behind: ${left} tokens, ${stored} leases`);
  await Promise.all([memoryHub.stop(), redisHub.stop(), childHub.stop()]);
} finally {
  await client.stop();
  await influx.close();
  await redis.stop();
}
