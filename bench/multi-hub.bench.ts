// Lease create+revoke with 1, 2 and 3 `tessera hub` processes sharing one storage: one
// redis-server, then a three-primary Redis Cluster. Each hub is a process of its own
// (--insecure: the figure is the storage's and the hubs' work, not the channels'), the
// cloud (influxdb-local) another, the device node here sends to the hubs in turn, 64 in
// flight in all. The baseline of each row is one hub on the same storage in the same run:
// the ratio is the scaling. This machine has 2 cores for every process of the run, so the
// ratio says how far hubs scale before the cores run out, not what more machines give.
import { randomBytes } from 'node:crypto';
import { fromUtf8, Node, route, silentLogger } from '@tessera/core';
import { startRedisCluster, startRedisServer } from '@tessera/testing';
import { WebSocketTransport } from '@tessera/transport-ws';
import { type ChildServer, hubProcess, influxdbLocalProcess } from './child-processes.js';
import { median, REPEATS, report } from './report.js';

const IN_FLIGHT = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const HOUR = 3_600_000;

async function rate(client: Node, ports: number[]): Promise<number> {
  const until = performance.now() + SECONDS * 1000;
  let ops = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, i) => {
      const to = route(`3#127.0.0.1:${ports[i % ports.length]}`, 'token_lease');
      const call = async (request: object) => {
        const answer = JSON.parse(fromUtf8((await client.request(to, JSON.stringify(request), { timeout: 30_000 })).payload)) as { result: string; message?: string; lease?: { id: string } };
        if (answer.result !== 'success') throw new Error(`lease request failed: ${answer.message ?? '?'}`);
        return answer;
      };
      while (performance.now() < until) {
        const created = await call({ action: 'create', options: { ttl: HOUR } });
        await call({ action: 'revoke', token_id: created.lease!.id });
        ops += 1;
      }
    }),
  );
  return ops / ((performance.now() - started) / 1000);
}

const token = randomBytes(32).toString('base64url');
const influx = await influxdbLocalProcess({ token, org: 'tessera', bucket: 'tessera' });
const client = new Node({ name: 'device', logger: silentLogger });
new WebSocketTransport(client);
const redis = await startRedisServer();
const cluster = await startRedisCluster();
try {
  for (const [topology, storage] of [
    ['one redis-server', `${redis.url}/0`],
    ['a three-primary Redis Cluster', `redis+cluster://${cluster.addresses.join(',')}`],
  ] as const) {
    const hubs: (ChildServer & { port: number })[] = [];
    for (let n = 0; n < 3; n++) hubs.push(await hubProcess(influx.url, token, storage));
    const ports = hubs.map((h) => h.port);
    await rate(client, ports); // warm up every hub
    const byCount: Record<1 | 2 | 3, number[]> = { 1: [], 2: [], 3: [] };
    for (let r = 0; r < REPEATS; r++) for (const count of [1, 2, 3] as const) byCount[count].push(await rate(client, ports.slice(0, count)));
    for (const count of [2, 3] as const) {
      report({
        name: `lease create+revoke with ${count} hubs on ${topology} (${IN_FLIGHT} in flight in all)`,
        value: median(byCount[count]),
        unit: 'cycles/s',
        baseline: `1 hub on the same storage, same ${IN_FLIGHT} in flight, same run; every hub, the cloud and the device share the machine's 2 cores`,
        baselineValue: median(byCount[1]),
        repeats: REPEATS,
      });
    }
    for (const h of hubs) await h.stop();
  }
} finally {
  await client.stop();
  await influx.stop();
  await cluster.stop();
  await redis.stop();
}
