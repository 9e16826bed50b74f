// Lease storage against one redis-server started for the run:
//  - save + claimDue + remove cycles per second through redisStorage, vs raw ioredis
//    running the storage's own Lua scripts (one EVALSHA each, as redisStorage does), the
//    same keys and the same number in flight: the ratio is what validation, encoding,
//    decoding and error mapping cost;
//  - getAll of 100,000 leases, vs ZRANGE + the storage's getMany script in batches of
//    the same size with the same number of batches in flight;
//  - memory storage with 100,000 leases resident vs an empty one.
// Each figure is the median of REPEATS runs, ours and the baseline taking turns.
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { redisStorage } from '@tessera/storage-redis';
import { leaseRecord, startRedisServer } from '@tessera/testing';
import { memoryStorage, type StorageService } from '@tessera/token-lease';
// The storage's own scripts, so the baseline runs exactly the commands redisStorage runs.
import { SCRIPTS, type ScriptCommands } from '../packages/storage-redis/dist/scripts.js';
import { median, REPEATS, report } from './report.js';

const SLICE_MS = 500;
const BULK = 100_000;
/** redisStorage's default batchSize, and the batches getAll keeps in flight. */
const BATCH = 1000;
const BATCHES_IN_FLIGHT = 4;
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

type Raw = Redis & ScriptCommands;

/** redisStorage's three round trips with the same scripts, without validation, decoding or error mapping. */
function rawCycle(raw: Raw, base: string, tag: string): (n: number) => Promise<void> {
  const due = `${base}due`;
  return async (n) => {
    const id = `${tag}${n}`;
    const key = `${base}lease:${id}`;
    await raw.tesseraSave(key, due, id, String(T0), 'record', JSON.stringify(leaseRecord(id, T0)));
    await raw.tesseraClaim(due, String(T0), '1', String(T0 + HOUR));
    await raw.tesseraRemove(key, due, id);
  };
}

/** ZRANGE, then getMany in batches of BATCH with BATCHES_IN_FLIGHT in flight, as getAll does; the hashes, undecoded. */
async function rawGetAll(raw: Raw, dueKey: string): Promise<number> {
  const ids = await raw.zrange(dueKey, 0, '-1');
  let found = 0;
  const batches = Array.from({ length: Math.ceil(ids.length / BATCH) }, (_, b) => ids.slice(b * BATCH, (b + 1) * BATCH));
  await pLimit(BATCHES_IN_FLIGHT).map(batches, async (batch) => {
    const hashes = await raw.tesseraGetMany(dueKey, ...batch);
    found += hashes.filter((h) => h.length > 0).length;
  });
  return found;
}

const server = await startRedisServer();
try {
  const raw = new Redis(server.port, server.host) as Raw;
  for (const [name, definition] of Object.entries(SCRIPTS)) raw.defineCommand(name, definition);
  const storage = redisStorage({ url: server.url, prefix: 'bench:' });
  await storage.init({ cloudService: 'bench', cloudServiceAddress: 'cycles' });
  const rawBase = 'raw:{cycles}:';

  for (const loops of [1, 32]) {
    // warm-up: JIT and connections for both, outside the figures
    await rate(loops, storageCycle(storage, `w${loops}-`));
    await rate(loops, rawCycle(raw, rawBase, `v${loops}-`));
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let run = 0; run < REPEATS; run++) {
      ours.push(await rate(loops, storageCycle(storage, `r${loops}-${run}-`)));
      theirs.push(await rate(loops, rawCycle(raw, rawBase, `x${loops}-${run}-`)));
    }
    report({
      name: `redis storage save+claimDue+remove (${loops} in flight)`,
      value: median(ours),
      unit: 'cycles/s',
      baseline: `raw ioredis running redisStorage's own Lua scripts (EVALSHA save, claim, remove: the same 3 round trips), ${loops} in flight; no validation, encoding, decoding or error mapping`,
      baselineValue: median(theirs),
      repeats: REPEATS,
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
  for (let run = 0; run < REPEATS; run++) {
    let t0 = performance.now();
    const all = await bulk.getAll();
    ourMs.push(performance.now() - t0);
    if (all.length !== BULK) throw new Error(`getAll returned ${all.length}`);
    t0 = performance.now();
    const found = await rawGetAll(raw, dueKey!);
    rawMs.push(performance.now() - t0);
    if (found !== BULK) throw new Error(`raw listing found ${found}`);
  }
  report({
    name: `redis storage getAll of ${BULK} leases`,
    value: median(ourMs),
    unit: 'ms',
    baseline: `raw ZRANGE + redisStorage's getMany Lua script, batches of ${BATCH}, ${BATCHES_IN_FLIGHT} in flight (as getAll); the hashes left undecoded`,
    baselineValue: median(rawMs),
    ratio: median(rawMs) / median(ourMs),
    repeats: REPEATS,
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
for (let run = 0; run < REPEATS; run++) {
  fullRates.push(await rate(1, storageCycle(full, `f${run}-`)));
  emptyRates.push(await rate(1, storageCycle(empty, `e${run}-`)));
}
report({
  name: `memory storage save+claimDue+remove with ${BULK} leases resident (1 in flight)`,
  value: median(fullRates),
  unit: 'cycles/s',
  baseline: 'the same cycle on an empty memory storage (what 100,000 resident leases cost)',
  baselineValue: median(emptyRates),
  repeats: REPEATS,
});
await Promise.all([full.close(), empty.close()]);
