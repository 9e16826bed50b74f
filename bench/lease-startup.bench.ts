// Hub start-up with 100,000 leases in Redis (a harness redis-server), as `tessera hub`
// starts: LeaseService.start() (cloud init, storage connect, first expiry round), the
// token_lease worker on a WebSocket listener, and the orphan reconciliation in the
// background. Figures, each the median of RUNS fresh start-ups on the same data:
//  - until serving: start() resolved and a device's `get` answered over WebSocket;
//  - until re-armed: the scheduler has read the next due time and set its timer;
//  - until the background reconciliation has read every lease.
// Baseline: raw ioredis reading the same 100,000 leases (ZRANGE + pipelined HGET).
// Seeding (concurrent redisStorage.save) is not part of any figure.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { type Clock, fromUtf8, Node, route, silentLogger } from '@tessera/core';
import { startInfluxdbLocal } from '@tessera/influxdb-local';
import { redisStorage } from '@tessera/storage-redis';
import { leaseRecord, startRedisServer } from '@tessera/testing';
import { LeaseService, TokenLeaseWorker, ttlPolicy } from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';
import { median, report } from './report.js';

const N = 100_000;
const RUNS = 3;
const MINUTE = 60_000;

const token = randomBytes(32).toString('base64url');
const influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token });
const redis = await startRedisServer();
const cloud = () => influxdbV2({ url: influx.url, token, org: influx.org, permissions: [{ action: 'write', bucket: influx.bucket }] });
const namespace = { cloudService: cloud().name, cloudServiceAddress: cloud().getAddress() };

try {
  // Seed: N leases due over the hour after the next ten minutes (none falls due during the runs).
  const firstDue = Date.now() + 10 * MINUTE;
  const ids = Array.from({ length: N }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
  const seeder = redisStorage({ url: redis.url });
  await seeder.init(namespace);
  const seedStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 512 }, async () => {
      while (next < N) {
        const i = next++;
        await seeder.save(leaseRecord(ids[i]!, firstDue + Math.floor((i * 60 * MINUTE) / N), { owner: 'anonymous' }));
      }
    }),
  );
  process.stderr.write(`# seeded ${await seeder.count()} leases in ${Math.round(performance.now() - seedStarted)} ms\n`);
  await seeder.close();

  // Baseline: read them all with raw ioredis.
  const raw = new Redis(redis.port, redis.host);
  const [dueKey] = await raw.keys('tessera:*:due');
  const leasePrefix = dueKey!.slice(0, -'due'.length) + 'lease:';
  const rawRead = async (): Promise<number> => {
    const started = performance.now();
    const listed = await raw.zrange(dueKey!, 0, '-1');
    // batches of 1000 HGETs, four pipelines in flight (as getAll keeps a few batches in flight)
    let found = 0;
    let at = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (at < listed.length) {
          const batch = listed.slice(at, at + 1000);
          at += batch.length;
          const pipeline = raw.pipeline();
          for (const id of batch) pipeline.hget(leasePrefix + id, 'record');
          const replies = (await pipeline.exec()) ?? [];
          found += replies.filter(([err, value]) => err === null && value !== null).length;
        }
      }),
    );
    if (found !== N) throw new Error(`raw read found ${found} leases`);
    return performance.now() - started;
  };

  const serving: number[] = [];
  const armed: number[] = [];
  const reconciled: number[] = [];
  const baseline: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    baseline.push(await rawRead());

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
    const wanted = ids[run * 7_919]!;
    const reply = JSON.parse(fromUtf8((await device.request(route(`3#127.0.0.1:${listener.port}`, 'token_lease'), JSON.stringify({ action: 'get', token_id: wanted }), { timeout: 30_000 })).payload)) as {
      result: string;
      lease?: { id: string };
    };
    if (reply.result !== 'success' || reply.lease?.id !== wanted) throw new Error(`get answered ${JSON.stringify(reply)}`);
    serving.push(performance.now() - started);

    const deadline = performance.now() + 30_000;
    while (armedAt === undefined && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (armedAt === undefined || armedFor === undefined) throw new Error('the scheduler never set its timer');
    if (Math.abs(armedFor - firstDue) > 100) throw new Error(`the scheduler is armed for ${new Date(armedFor).toISOString()}, the first lease is due ${new Date(firstDue).toISOString()}`);
    armed.push(armedAt - started);
    reconciled.push((await reconciliation) - started);

    await device.stop();
    await hub.stop();
    await service.stop();
    await storage.close();
  }
  raw.disconnect();

  const base = median(baseline);
  const rawName = `raw ioredis ZRANGE + pipelined HGET of the same ${N} leases`;
  report({ name: `hub start-up with ${N} leases in Redis: until serving (start() resolved, a get answered over WebSocket)`, value: median(serving), unit: 'ms', baseline: rawName, baselineValue: base, ratio: base / median(serving) });
  report({ name: `hub start-up with ${N} leases in Redis: until the expiry scheduler is re-armed for the next due time`, value: median(armed), unit: 'ms', baseline: rawName, baselineValue: base, ratio: base / median(armed) });
  report({ name: `hub start-up with ${N} leases in Redis: until the background reconciliation has read every lease`, value: median(reconciled), unit: 'ms', baseline: rawName, baselineValue: base, ratio: base / median(reconciled) });
} finally {
  await influx.close();
  await redis.stop();
}
