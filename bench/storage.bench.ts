// Lease storage: save + claimDue + remove cycles per second through redisStorage
// vs the same Redis work issued with raw ioredis (MULTI for save and remove, one
// Lua claim), against one redis-server started for the run; getAll of 100,000
// leases vs ZRANGE + pipelined HGETALL; memory storage with 100,000 leases
// resident vs an empty one.
import { Redis } from 'ioredis';
import { redisStorage } from '@tessera/storage-redis';
import { leaseRecord, startRedisServer } from '@tessera/testing';
import { memoryStorage, type LeaseRecord, type StorageService } from '@tessera/token-lease';
import { median, report } from './report.js';

const RUNS = 3;
const SLICE_MS = 500;
const BULK = 100_000;
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const HOUR = 3_600_000;

/** Cycles per second: `loops` concurrent loops of `cycle` for about SLICE_MS. */
async function rate(loops: number, cycle: (n: number) => Promise<void>): Promise<number> {
  let done = 0;
  let seq = 0;
  const end = performance.now() + SLICE_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        await cycle(seq++);
        done += 1;
      }
    }),
  );
  return (done / (performance.now() - t0)) * 1000;
}

function storageCycle(storage: StorageService, tag: string): (n: number) => Promise<void> {
  return async (n) => {
    const id = `${tag}${n}`;
    await storage.save(leaseRecord(id, T0));
    await storage.claimDue(new Date(T0), 1, HOUR);
    await storage.remove(id);
  };
}

/** The same Redis work as redisStorage does, without validation, encoding or error mapping. */
function rawCycle(raw: Redis, base: string, tag: string): (n: number) => Promise<void> {
  const due = `${base}due`;
  const fields = (record: LeaseRecord): string[] => ['record', JSON.stringify(record)];
  return async (n) => {
    const id = `${tag}${n}`;
    const key = `${base}lease:${id}`;
    await raw.multi().del(key).hset(key, ...fields(leaseRecord(id, T0))).zadd(due, T0, id).exec();
    await (raw as Redis & { rawClaim(key: string, now: number, limit: number, until: number): Promise<unknown> }).rawClaim(due, T0, 1, T0 + HOUR);
    await raw.multi().del(key).zrem(due, id).exec();
  };
}

const server = await startRedisServer();
try {
  const raw = new Redis(server.port, server.host);
  raw.defineCommand('rawClaim', {
    numberOfKeys: 1,
    lua: `local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local base = string.sub(KEYS[1], 1, -4) .. 'lease:'
local out = {}
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[3], id); out[#out + 1] = id; out[#out + 1] = redis.call('HGETALL', base .. id) end
return out`,
  });
  const storage = redisStorage({ url: server.url, prefix: 'bench:' });
  await storage.init({ cloudService: 'bench', cloudServiceAddress: 'cycles' });
  const rawBase = 'raw:{cycles}:';

  for (const loops of [1, 32]) {
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      ours.push(await rate(loops, storageCycle(storage, `r${loops}-${run}-`)));
      theirs.push(await rate(loops, rawCycle(raw, rawBase, `x${loops}-${run}-`)));
    }
    report({
      name: `redis storage save+claimDue+remove (${loops} in flight)`,
      value: median(ours),
      unit: 'cycles/s',
      baseline: 'raw ioredis MULTI + Lua claim, same commands',
      baselineValue: median(theirs),
    });
  }
  await storage.close();

  // getAll of BULK leases, loaded straight into Redis in the storage's layout.
  const bulk = redisStorage({ url: server.url, prefix: 'bulk:' });
  await bulk.init({ cloudService: 'bench', cloudServiceAddress: 'bulk' });
  await bulk.save(leaseRecord('seed', T0));
  const [dueKey] = await raw.keys('bulk:*:due');
  const base = dueKey!.slice(0, -3);
  await bulk.remove('seed');
  for (let start = 0; start < BULK; start += 10_000) {
    const pipeline = raw.pipeline();
    for (let i = start; i < start + 10_000; i++) {
      pipeline.hset(`${base}lease:b${i}`, 'record', JSON.stringify(leaseRecord(`b${i}`, T0 + i)));
      pipeline.zadd(dueKey!, T0 + i, `b${i}`);
    }
    await pipeline.exec();
  }
  const ourMs: number[] = [];
  const rawMs: number[] = [];
  for (let run = 0; run < 2; run++) {
    let t0 = performance.now();
    const all = await bulk.getAll();
    ourMs.push(performance.now() - t0);
    if (all.length !== BULK) throw new Error(`getAll returned ${all.length}`);
    t0 = performance.now();
    const ids = await raw.zrange(dueKey!, 0, '-1');
    const hashes: unknown[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const pipeline = raw.pipeline();
      for (const id of ids.slice(i, i + 1000)) pipeline.hgetall(`${base}lease:${id}`);
      hashes.push(...((await pipeline.exec()) ?? []));
    }
    rawMs.push(performance.now() - t0);
    if (hashes.length !== BULK) throw new Error('raw listing incomplete');
  }
  report({
    name: `redis storage getAll of ${BULK} leases`,
    value: median(ourMs),
    unit: 'ms',
    baseline: 'raw ZRANGE + pipelined HGETALL (1000 per batch)',
    baselineValue: median(rawMs),
    ratio: median(rawMs) / median(ourMs),
  });
  await bulk.close();
  raw.disconnect();
} finally {
  await server.stop();
}

// Memory: the same cycle with BULK leases resident (due later, so never claimed) vs an empty store.
const empty = memoryStorage();
await empty.init({ cloudService: 'bench', cloudServiceAddress: 'empty' });
const full = memoryStorage();
await full.init({ cloudService: 'bench', cloudServiceAddress: 'full' });
for (let i = 0; i < BULK; i++) await full.save(leaseRecord(`m${i}`, T0 + HOUR + i));
const fullRates: number[] = [];
const emptyRates: number[] = [];
for (let run = 0; run < RUNS; run++) {
  fullRates.push(await rate(1, storageCycle(full, `f${run}-`)));
  emptyRates.push(await rate(1, storageCycle(empty, `e${run}-`)));
}
report({
  name: `memory storage save+claimDue+remove with ${BULK} leases resident`,
  value: median(fullRates),
  unit: 'cycles/s',
  baseline: 'memory storage, empty',
  baselineValue: median(emptyRates),
});
await Promise.all([full.close(), empty.close()]);
